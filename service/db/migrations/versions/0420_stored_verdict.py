"""stored verdicts: a county's verdict computed once per state, shared by every worker

Revision ID: 0420
Revises: 0430
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0420'
down_revision: Union[str, None] = '0430'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('stored_verdict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('county_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('version_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('max_answer_id', sa.Integer(), nullable=False),
    sa.Column('profile_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('verdict', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('computed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stored_verdict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_verdict_state'), ['state'], unique=True)
        batch_op.create_index(batch_op.f('ix_stored_verdict_county_name'), ['county_name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stored_verdict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_verdict_county_name'))
        batch_op.drop_index(batch_op.f('ix_stored_verdict_state'))
    op.drop_table('stored_verdict')
