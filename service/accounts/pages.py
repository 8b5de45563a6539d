"""What every staff page's frame shows: who is signed in, their role, the time format."""

from typing import Any

from service.accounts import roles as R
from service.web.clock import local


def staff_context(p: R.Principal, **ctx: Any) -> dict:
    return {"me": p, "user": p.username, "roles": R.ROLES, "local": local, **ctx}
