"""answers: the form's record of how it was answered (issue 23)

Revision ID: 0510
Revises: 0420
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0510'
down_revision: Union[str, None] = '0540'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_trace', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('form_trace')
