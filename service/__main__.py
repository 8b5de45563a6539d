"""python -m service [--host H] [--port P] [--database-url URL] [--workers N] [--demo]
python -m service create-admin USER [--password PW] [--database-url URL]
python -m service backup DEST [--database-url URL]
python -m service check-backup FILE [--scratch-database-url URL] [--json]"""

import argparse
import gc
import getpass
import os
import sys

from .web.settings import Settings


def _settings(args) -> Settings:
    """The settings from the environment, the options given on the command line over them."""
    given = {"database_url": args.database_url, "host": getattr(args, "host", None),
             "port": getattr(args, "port", None), "workers": getattr(args, "workers", None)}
    return Settings(**{k: v for k, v in given.items() if v is not None})


def uvicorn_options(settings: Settings, access_log: bool) -> dict:
    """Forwarded headers are believed only from RENKE_TRUSTED_PROXIES (none by default):
    uvicorn's own default trusts 127.0.0.1, and any local process or same-host proxy
    that passes X-Forwarded-For through would give each forged address a fresh throttle."""
    trusted = settings.trusted_proxies
    return {"host": settings.host, "port": settings.port, "log_level": "info", "access_log": access_log,
            "proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}


SECRET_MISSING = (
    "未设置 RENKE_SECRET，服务不启动。请设置 RENKE_SECRET（各实例相同），"
    "或设置 RENKE_SECRET_IN_DB=1 明确同意把密钥保存在数据库中（数据库备份的持有者可伪造表单和 CSRF 令牌）。\n"
    "RENKE_SECRET is not set: refusing to start. Set RENKE_SECRET (the same on every instance), or set "
    "RENKE_SECRET_IN_DB=1 to keep a generated secret in the database (whoever holds a backup can then forge "
    "form and CSRF tokens).")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "create-admin":
        p = argparse.ArgumentParser(prog="python -m service create-admin")
        p.add_argument("username")
        p.add_argument("--password")
        p.add_argument("--database-url")
        args = p.parse_args(argv[1:])
        password = args.password or getpass.getpass("密码 / password: ")
        if len(password) < 8:
            print("password must have at least 8 characters", file=sys.stderr)
            return 2
        from .accounts.roles import create_account
        from .db.engine import make_engine, migrate
        engine = make_engine(_settings(args).database_url)
        migrate(engine)
        created = create_account(engine, args.username, password)
        print(("created" if created else "updated password of") + f" account {args.username}")
        return 0

    if argv and argv[0] in ("backup", "check-backup"):
        return _backup_command(argv)

    p = argparse.ArgumentParser(prog="python -m service")
    p.add_argument("--host", help="default: env HOST, else 127.0.0.1")
    p.add_argument("--port", type=int, help="default: env PORT, else 8000")
    p.add_argument("--database-url")
    p.add_argument("--demo", action="store_true", help="seed a demo county, an open campaign and an admin")
    p.add_argument("--access-log", action="store_true",
                   help="log every request (off by default: access logs carry client IP addresses)")
    p.add_argument("--workers", type=int,
                   help="worker processes (default: env WEB_CONCURRENCY, else 1); migrations run once here, "
                        "before they start")
    args = p.parse_args(argv)
    settings = _settings(args)
    if not args.demo and not settings.secret and not settings.secret_in_db:
        print(SECRET_MISSING, file=sys.stderr)
        return 2

    import uvicorn

    if settings.workers > 1:
        return _run_workers(args, settings)

    from .app import create_app
    app = create_app(settings)
    if args.demo:
        from .demo import seed
        info = seed(app.state.engine, app.state.templates, settings.profile)
        _print_demo(info, settings.public_url or f"http://{settings.host}:{settings.port}")
    gc.freeze()
    uvicorn.run(app, **uvicorn_options(settings, args.access_log))
    return 0


def _backup_command(argv: list[str]) -> int:
    """``backup DEST``: a consistent copy of the live database (SQLite online backup API,
    pg_dump for PostgreSQL); ``check-backup FILE``: restore it somewhere harmless and print its
    counts and verdicts (exit 1 when it is not usable). See docs/deployment.md."""
    import json
    from pathlib import Path

    from .backup import BackupError, backup, check_backup, report_text
    p = argparse.ArgumentParser(prog=f"python -m service {argv[0]}")
    if argv[0] == "backup":
        p.add_argument("dest")
        p.add_argument("--database-url")
    else:
        p.add_argument("file")
        p.add_argument("--scratch-database-url", help="an empty PostgreSQL database to restore a pg_dump file into")
        p.add_argument("--json", action="store_true")
    args = p.parse_args(argv[1:])
    try:
        if argv[0] == "backup":
            backup(_settings(args).database_url, Path(args.dest))
            print(f"备份完成：{args.dest}")
            return 0
        report = check_backup(Path(args.file), Settings().profile, args.scratch_database_url)
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False, sort_keys=True) if args.json else report_text(Path(args.file), report))
    return 0 if report["usable"] else 1


def _print_demo(info: dict, base: str) -> None:
    print(f"demo campaign: {base}/bureau/campaigns/{info['campaign_id']}")
    print(f"demo login:    {base}/login  user: {info['username']}  password: {info['password']}")
    print(f"phone form:    {base}/s/{info['link_token']}")
    print(f"inspector:     {base}/inspector  user: inspector  password: {info['logins']['inspector']}")
    print(f"province:      {base}/inspector/overview  user: province  password: {info['logins']['province']}")


MIGRATION_LOCK = 7217_0501


def migrate_once(engine, migrate) -> None:
    """Migrate under a PostgreSQL session advisory lock, so that instances started together
    (several containers behind one load balancer) migrate one after the other: the first
    does the work, the others find the schema at head. SQLite: one file, one host."""
    if engine.dialect.name != "postgresql":
        migrate(engine)
        return
    from sqlalchemy import text
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        try:
            migrate(engine)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            conn.commit()


def worker_app():
    """The app of one worker process. Everything built so far (modules, templates, the app)
    lives as long as the process: frozen, the cyclic GC no longer walks it, whose full
    passes paused requests for up to ~130 ms under load."""
    from .app import create_app
    app = create_app()
    gc.freeze()
    return app


def _run_workers(args, settings: Settings) -> int:
    """Several uvicorn worker processes, each building the app from the environment.
    The schema is migrated and the shared secret created here, once, before any worker
    starts (a worker's own migrate then finds the schema at head and does nothing)."""
    import uvicorn

    from survey_templates import load_templates

    from .db.engine import app_secret, make_engine, migrate
    engine = make_engine(settings.database_url)
    migrate_once(engine, migrate)
    if not settings.secret:
        app_secret(engine)
    if args.demo:
        from .demo import seed
        info = seed(engine, load_templates(), settings.profile)
        _print_demo(info, settings.public_url or f"http://{settings.host}:{settings.port}")
    engine.dispose()
    os.environ["DATABASE_URL"] = settings.database_url
    uvicorn.run("service.__main__:worker_app", factory=True, workers=settings.workers,
                **uvicorn_options(settings, args.access_log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
