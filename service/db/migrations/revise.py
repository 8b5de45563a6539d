"""Autogenerate a revision against a scratch SQLite database at head."""

import sys
import tempfile
from pathlib import Path

from alembic import command

from service.db.engine import alembic_config, make_engine, migrate

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
        migrate(make_engine(url))
        command.revision(alembic_config(url), message=" ".join(sys.argv[1:]) or "change", autogenerate=True)
