"""Signing in and changing one's password.

- The same work whatever the name: an unknown name is checked against a dummy scrypt hash,
  so the answer's timing does not tell which accounts exist.
- Throttled per account (here: ``LOGIN_FAILURES`` failures in ``LOGIN_WINDOW_S`` refuse the
  name, known or not, from every address) besides the app's per-address limit; the counters
  are in the shared store, keyed by a keyed hash of the name.
- Every failure is audited under the name tried (never the password, never an address).
"""

import hashlib
import secrets

from sqlmodel import Session, select

from service.accounts import audit
from service.db.models import Account
from service.web.security import hash_password, verify_password
from service.web.stores import SQLStore

LOGIN_FAILURES, LOGIN_WINDOW_S = 10, 15 * 60
THROTTLED = f"尝试次数过多，请 {LOGIN_WINDOW_S // 60} 分钟后再试"
MIN_PASSWORD = 8
# Made once per process, so that the first unknown name costs no more than the others.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def _counter_key(secret: str, username: str) -> str:
    return "login:" + hashlib.sha256(f"{secret}:{username}".encode()).hexdigest()[:32]


def sign_in(db: Session, counters: SQLStore, secret: str, username: str, password: str) -> tuple[Account | None, bool]:
    """(the account, None when refused; whether refused by the throttle)."""
    key = _counter_key(secret, username)
    if counters.count(key) >= LOGIN_FAILURES:
        audit.record(db, username, "login_failed", detail={"throttled": True})
        return None, True
    account = db.exec(select(Account).where(Account.username == username)).first()
    matches = verify_password(password, account.password_hash if account is not None else _DUMMY_HASH)
    if account is not None and matches:
        counters.reset(key)
        audit.record(db, account, "login")
        return account, False
    counters.incr(key, LOGIN_WINDOW_S)
    audit.record(db, username, "login_failed")
    return None, False


def change_password(db: Session, counters: SQLStore, secret: str, account_id: int, current: str, new: str,
                    again: str) -> tuple[str | None, Account]:
    """(a Chinese error, None when changed; the account). A wrong current password counts as a
    failed login of the account: a stolen session cannot guess it faster than the login page."""
    account = db.get(Account, account_id)
    key = _counter_key(secret, account.username)
    if counters.count(key) >= LOGIN_FAILURES:
        return THROTTLED, account
    if not verify_password(current, account.password_hash):
        counters.incr(key, LOGIN_WINDOW_S)
        audit.record(db, account, "login_failed", detail={"password_change": True})
        return "当前密码不正确", account
    if len(new) < MIN_PASSWORD:
        return f"新密码至少 {MIN_PASSWORD} 位", account
    if new != again:
        return "两次输入的新密码不一致", account
    account.password_hash = hash_password(new)
    db.add(account)
    audit.record(db, account, "password_change")
    return None, account
