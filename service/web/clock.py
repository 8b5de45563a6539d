"""The app's clock (``settings.clock``: tests move it) and Beijing wall time for display."""

from datetime import datetime, timedelta, timezone

from litestar import Request

CHINA = timezone(timedelta(hours=8))


def app_now(request: Request) -> datetime:
    return datetime.fromtimestamp(request.app.state.settings.clock(), timezone.utc)


def local(dt: datetime | None) -> str:
    return dt.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if dt else ""
