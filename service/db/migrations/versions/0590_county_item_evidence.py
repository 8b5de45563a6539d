"""collection evidence of a county item: no school (issue 22)

Revision ID: 0590
Revises: 0570
"""
from typing import Sequence, Union

from alembic import op
import sqlmodel


revision: str = '0590'
down_revision: Union[str, None] = '0570'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # The bureau's evidence of a county item (G1–G15, Q1–Q9, V1–V7) belongs to no school.
    with op.batch_alter_table('collection_evidence', schema=None) as batch_op:
        batch_op.alter_column('school_code', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
                              nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM collection_evidence WHERE school_code IS NULL")
    with op.batch_alter_table('collection_evidence', schema=None) as batch_op:
        batch_op.alter_column('school_code', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
                              nullable=False)
