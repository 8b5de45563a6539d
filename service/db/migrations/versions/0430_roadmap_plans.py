"""roadmap: plan versions, the province's acceptance plan, a workbook version's data year

Revision ID: 0430
Revises: 0410
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0430'
down_revision: Union[str, None] = '0410'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('workbook_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_year', sa.Integer(), nullable=True))
    op.create_table('plan_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('county_name', 'version')
    )
    with op.batch_alter_table('plan_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_version_county_name'), ['county_name'], unique=False)
    op.create_table('acceptance_plan',
    sa.Column('county_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('planned_year', sa.Integer(), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=True),
    sa.Column('set_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['set_by'], ['account.id'], ),
    sa.PrimaryKeyConstraint('county_name')
    )


def downgrade() -> None:
    op.drop_table('acceptance_plan')
    with op.batch_alter_table('plan_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_version_county_name'))
    op.drop_table('plan_version')
    with op.batch_alter_table('workbook_version', schema=None) as batch_op:
        batch_op.drop_column('data_year')
