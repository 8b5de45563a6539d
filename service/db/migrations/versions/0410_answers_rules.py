"""answers: links that require a one-time code, answers flagged as part of a new-device burst

Revision ID: 0410
Revises: 0300
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0410'
down_revision: Union[str, None] = '0300'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_code', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_device_burst', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    # Links that already have printed slips required them from the start.
    op.execute("UPDATE link SET requires_code = true WHERE id IN (SELECT link_id FROM one_time_code)")


def downgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('new_device_burst')
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_column('requires_code')
