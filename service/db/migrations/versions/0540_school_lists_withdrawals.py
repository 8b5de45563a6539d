"""school lists and withdrawals: a campaign's schools come from a school list (its file named
and hashed), never from a pinned workbook version; a county version can be withdrawn (kept,
never counted again)

Revision ID: 0540
Revises: 0420
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0540'
down_revision: Union[str, None] = '0420'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('school_list_file', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.add_column(sa.Column('school_list_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    # A campaign that pinned a version keeps that version's file as the name of its school list.
    op.execute("UPDATE campaign SET school_list_file = (SELECT filename FROM workbook_version v "
               "WHERE v.id = campaign.workbook_version_id), school_list_sha256 = (SELECT sha256 FROM "
               "workbook_version v WHERE v.id = campaign.workbook_version_id) WHERE workbook_version_id IS NOT NULL")
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_constraint('fk_campaign_workbook_version', type_='foreignkey')
        batch_op.drop_column('workbook_version_id')
    with op.batch_alter_table('workbook_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.create_foreign_key('fk_workbook_version_withdrawn_by', 'account', ['withdrawn_by'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('workbook_version', schema=None) as batch_op:
        batch_op.drop_constraint('fk_workbook_version_withdrawn_by', type_='foreignkey')
        batch_op.drop_column('withdrawn_reason')
        batch_op.drop_column('withdrawn_by')
        batch_op.drop_column('withdrawn_at')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workbook_version_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_campaign_workbook_version', 'workbook_version',
                                    ['workbook_version_id'], ['id'])
    op.execute("UPDATE campaign SET workbook_version_id = (SELECT v.id FROM workbook_version v WHERE "
               "v.county_name = campaign.county_name AND v.sha256 = campaign.school_list_sha256)")
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('school_list_sha256')
        batch_op.drop_column('school_list_file')
