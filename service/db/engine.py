"""Engine, SQLite pragmas, migrations and the app secret kept in the database."""

import secrets
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy import create_engine
from sqlmodel import Session

from service.db.models import AppMeta

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str) -> Engine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Pool capacity >= the worker threads (anyio's default limiter: 40), so a handler
        # never waits for a pooled connection; SQLite's own busy_timeout orders the writers.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=10, max_overflow=40)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to head (programmatic ``alembic upgrade head``)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def app_secret(engine: Engine) -> str:
    """The secret kept in the database, created once on first start."""
    with Session(engine) as s:
        row = s.get(AppMeta, "secret")
        if row:
            return row.value
        s.add(AppMeta(key="secret", value=secrets.token_urlsafe(32)))
        try:
            s.commit()
        except Exception:  # another instance created it first
            s.rollback()
        return s.exec(select(AppMeta).where(AppMeta.key == "secret")).scalar_one().value
