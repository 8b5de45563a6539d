"""The public address that printed QR codes and links carry.

The province sets it on its settings page (stored in ``app_meta``, audited), so staff never need
to know about the deployment's environment; ``RENKE_PUBLIC_URL`` stays the deployment's default,
and without either the address the page was opened from is used (and the print pages warn when
that is a loopback or intranet address a parent's phone cannot reach)."""

import ipaddress
from urllib.parse import urlsplit

from litestar import Request
from sqlmodel import Session

from service.db.models import AppMeta

KEY = "public_url"


def stored(session: Session) -> str | None:
    row = session.get(AppMeta, KEY)
    return row.value if row is not None and row.value else None


def configured(request: Request) -> str | None:
    """The province's address, else the deployment's default, else None (read once a request:
    a sheet page builds a link per school)."""
    state = request.scope.setdefault("state", {})
    if "renke_public_url" not in state:
        with Session(request.app.state.engine) as s:
            state["renke_public_url"] = stored(s) or request.app.state.settings.public_url
    return state["renke_public_url"]


def public_base(request: Request) -> str:
    return (configured(request) or str(request.base_url)).rstrip("/")


def normalise(value: str) -> tuple[str | None, str | None]:
    """(the address as stored, None) or (None, a Chinese reason). Empty: back to the default."""
    value = value.strip()
    if not value:
        return "", None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, f"“{value}”不是网址：应以 https:// 或 http:// 开头，后接域名，例如 https://renke.example.cn"
    if parts.query or parts.fragment or parts.username or parts.password:
        return None, f"“{value}”含有“?”“#”或用户名：只填写网址本身，例如 https://renke.example.cn"
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}", None


def set_public_url(session: Session, value: str) -> None:
    row = session.get(AppMeta, KEY) or AppMeta(key=KEY, value="")
    row.value = value
    session.add(row)


def is_private(host: str) -> bool:
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host).is_private
    except ValueError:
        return host == "localhost" or host.endswith(".localhost")


def link_base_warning(request: Request) -> str | None:
    """Why the printed codes would not open on a parent's phone (links built from a loopback or
    private address), else None. Says who can fix it: the province on the settings page."""
    base = configured(request)
    host = urlsplit(base).hostname if base else request.url.hostname
    if not is_private(host or ""):
        return None
    return (f"注意：二维码和网址使用的是本机或内网地址（{host}），家长的手机打不开。"
            "请省级管理员在「系统设置」中填写对外网址后再打印。")
