"""drop the answers' stored scores y and m: written on every answer, read by nothing (the verdict's
GROUP BY computes them from the items under the profile in force)

Revision ID: 0620
Revises: 0610
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0620'
down_revision: Union[str, None] = '0610'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # batch mode: SQLite rebuilds the table; PostgreSQL drops the columns in place
    with op.batch_alter_table('response') as batch:
        batch.drop_column('y')
        batch.drop_column('m')


def downgrade() -> None:
    with op.batch_alter_table('response') as batch:
        batch.add_column(sa.Column('m', sa.Float(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('y', sa.Float(), nullable=False, server_default='0'))
