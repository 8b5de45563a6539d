"""county records: a campaign pins a workbook version (its own copy goes), test campaigns,
the county's designated survey

Revision ID: 0300
Revises: 0200
"""
import hashlib
from datetime import datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0300'
down_revision: Union[str, None] = '0200'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workbook_version_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('is_test', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_foreign_key('fk_campaign_workbook_version', 'workbook_version',
                                    ['workbook_version_id'], ['id'])
    op.create_table('county_survey',
    sa.Column('county_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('designated_by', sa.Integer(), nullable=True),
    sa.Column('designated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['designated_by'], ['account.id'], ),
    sa.PrimaryKeyConstraint('county_name')
    )

    # A campaign's stored workbook becomes a version of its county (the same bytes: the same
    # version), and the campaign pins it.
    conn = op.get_bind()
    campaigns = conn.execute(sa.text(
        "SELECT id, county_name, workbook_filename, workbook_data, workbook_imported_at, created_by "
        "FROM campaign WHERE workbook_data IS NOT NULL ORDER BY id")).fetchall()
    for cid, county, filename, data, imported_at, created_by in campaigns:
        data = bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        found = conn.execute(sa.text("SELECT id FROM workbook_version WHERE county_name = :c AND sha256 = :h "
                                     "ORDER BY version LIMIT 1"), {"c": county, "h": digest}).scalar()
        if found is None:
            number = (conn.execute(sa.text("SELECT MAX(version) FROM workbook_version WHERE county_name = :c"),
                                   {"c": county}).scalar() or 0) + 1
            schools = conn.execute(sa.text("SELECT COUNT(*) FROM school WHERE campaign_id = :i"), {"i": cid}).scalar()
            conn.execute(sa.text(
                "INSERT INTO workbook_version (county_name, version, filename, sha256, size, data, schools, "
                "uploaded_by, uploaded_at) VALUES (:c, :v, :f, :h, :s, :d, :n, :u, :t)"),
                {"c": county, "v": number, "f": (filename or "workbook.zip")[:255], "h": digest, "s": len(data),
                 "d": data, "n": schools, "u": created_by, "t": imported_at or datetime.now(timezone.utc)})
            found = conn.execute(sa.text("SELECT id FROM workbook_version WHERE county_name = :c AND version = :v"),
                                 {"c": county, "v": number}).scalar()
        conn.execute(sa.text("UPDATE campaign SET workbook_version_id = :v WHERE id = :i"), {"v": found, "i": cid})

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('workbook_filename')
        batch_op.drop_column('workbook_data')


def downgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workbook_data', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('workbook_filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
    op.execute("UPDATE campaign SET workbook_data = (SELECT data FROM workbook_version v WHERE v.id = "
               "campaign.workbook_version_id), workbook_filename = (SELECT filename FROM workbook_version v "
               "WHERE v.id = campaign.workbook_version_id)")
    op.drop_table('county_survey')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_constraint('fk_campaign_workbook_version', type_='foreignkey')
        batch_op.drop_column('is_test')
        batch_op.drop_column('workbook_version_id')
