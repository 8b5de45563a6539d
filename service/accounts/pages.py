"""What every staff page's frame shows: who is signed in, their role, the time format."""

from typing import Any

from litestar import Request

from service.accounts import roles as R
from service.web.clock import local


def staff_context(request: Request, **ctx: Any) -> dict:
    p = R.principal_of(request)
    return {"me": p, "user": p.username, "roles": R.ROLES, "local": local, **ctx}
