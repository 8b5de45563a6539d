"""The audit trail (issue 6): every action of a signed-in user, appended, never changed.

``record(session, actor, action, target, detail, file_sha256=None)`` adds one
``audit_entry`` row and commits it. ``actor`` is a ``Request`` (the signed-in account
is read from its session), a ``roles.Principal``, an ``Account`` or a user name.

Append-only: the application has no route that changes or deletes an entry
(``tests/service/trust/test_trust_audit.py`` checks every route), and triggers created by
the migration refuse UPDATE and DELETE on SQLite and PostgreSQL. Each entry's
``checksum`` is sha256 over the previous entry's checksum and the entry itself
(a hash chain): ``verify_chain`` finds an entry changed behind the application's back.

Concurrent writers (logins, verdict views of several people at once) take the chain-head row
``app_meta['audit_chain']`` first: one upsert, which locks that row on PostgreSQL and takes
SQLite's write lock, so reading the last checksum and inserting the next entry is one step
per writer and two entries never follow from the same predecessor.
"""

import csv
import hashlib
import io
import json
from datetime import datetime, timezone
from typing import Any

from litestar.response import Response
from sqlalchemy import text
from sqlmodel import Session, select

from service.db.models import Account, AuditEntry, utcnow
from service.web.cells import neutralise  # user names and targets are not formulas
from service.web.clock import CHINA
from service.web.downloads import attachment

ACTIONS = {
    "login": "登录", "login_failed": "登录失败", "password_change": "修改密码",
    "campaign_create": "创建调查", "campaign_close": "结束调查", "school_import": "导入学校名单", "qr_generate": "生成二维码",
    "sheet_generate": "生成二维码张贴页", "slips_generate": "生成填写码", "slips_print": "打印填写码告知书",
    "workbook_upload": "上传指标表", "workbook_withdraw": "撤销指标表", "workbook_download": "下载指标表", "verdict_view": "查看评估结果",
    "export": "导出", "integrity_view": "查看数据可信度信号", "audit_view": "查看审计日志",
    "audit_export": "导出审计日志", "account_save": "保存账号",
    "survey_designate": "指定计入评估的调查", "campaign_extend": "延长调查", "campaign_reopen": "重新开启调查",
    "campaign_delete": "删除试填调查",
    "plan_create": "从台账生成规划", "plan_upload": "上传规划", "acceptance_plan_set": "设定申请验收年度",
    "public_url_set": "设置对外网址",
    "collection_open": "开启数据采集", "collection_accounts": "生成学校填报账号",
    "collection_draft": "保存学校填报草稿", "collection_submit": "提交学校填报",
    "collection_return": "退回学校填报", "collection_approve": "通过学校填报",
    "collection_assemble": "汇总数据采集为指标表", "collection_evidence": "上传佐证材料",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _actor(actor: Any) -> tuple[int | None, str]:
    if actor is None:
        return None, ""
    if isinstance(actor, str):
        return None, actor[:64]
    if isinstance(actor, Account):
        return actor.id, actor.username
    if hasattr(actor, "account_id") and hasattr(actor, "username"):      # roles.Principal
        return actor.account_id, actor.username
    session = getattr(actor, "session", None)                               # a Request
    if isinstance(session, dict):
        account_id = session.get("account_id")
        return (int(account_id) if account_id else None), str(session.get("username") or "")[:64]
    return None, str(actor)[:64]


def _digest(previous: str, entry: AuditEntry) -> str:
    body = json.dumps({"at": entry.at.astimezone(timezone.utc).isoformat(), "account_id": entry.account_id,
                       "username": entry.username, "action": entry.action, "target": entry.target,
                       "detail": entry.detail, "file_sha256": entry.file_sha256},
                      ensure_ascii=False, sort_keys=True, default=str)
    return sha256(f"{previous}\n{body}".encode())


# Held until the entry commits: a row lock on PostgreSQL (a second upsert waits for the first
# transaction), the database's write lock on SQLite (the first write of a transaction takes it).
_CHAIN_HEAD = text("INSERT INTO app_meta (key, value) VALUES ('audit_chain', '') "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value")


def _lock_chain_head(session: Session) -> None:
    session.execute(_CHAIN_HEAD)


def record(session: Session, actor: Any, action: str, target: str = "", detail: dict | None = None,
           file_sha256: str | None = None) -> AuditEntry:
    """Append one entry and commit (the caller's pending changes are committed with it)."""
    account_id, username = _actor(actor)
    _lock_chain_head(session)
    previous = session.exec(select(AuditEntry.checksum).order_by(AuditEntry.id.desc()).limit(1)).first() or ""
    entry = AuditEntry(at=utcnow(), account_id=account_id, username=username, action=action,
                       target=str(target)[:255], detail=json.loads(json.dumps(detail or {}, default=str)),
                       file_sha256=file_sha256, checksum="")
    entry.checksum = _digest(previous, entry)
    session.add(entry)
    session.commit()
    return entry


def download(session: Session, actor: Any, target: str, data: bytes, media_type: str, name: str,
             detail: dict | None = None) -> Response:
    """A file download, recorded in the audit log with its sha256 (sent too, as X-Renke-SHA256)."""
    digest = sha256(data)
    record(session, actor, "export", target, {"file": name, **(detail or {})}, digest)
    return Response(data, media_type=media_type, headers={**attachment(name), "X-Renke-SHA256": digest})


def verify_chain(session: Session) -> list[int]:
    """Ids of entries whose checksum does not follow from the previous entry (empty: intact)."""
    broken, previous = [], ""
    for entry in session.exec(select(AuditEntry).order_by(AuditEntry.id)):
        if _digest(previous, entry) != entry.checksum:
            broken.append(entry.id)
        previous = entry.checksum
    return broken


def query(session: Session, action: str | None = None, user: str | None = None,
          since: datetime | None = None, until: datetime | None = None, limit: int | None = None) -> list[AuditEntry]:
    stmt = select(AuditEntry)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if user:
        stmt = stmt.where(AuditEntry.username == user)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    stmt = stmt.order_by(AuditEntry.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt))


def usernames(session: Session) -> list[str]:
    return sorted(set(session.exec(select(AuditEntry.username).distinct()).all()) - {""})


CSV_COLUMNS = ("id", "at", "username", "action", "action_name", "target", "detail", "file_sha256", "checksum")


def local_time(dt: datetime) -> str:
    return dt.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def to_csv(entries: list[AuditEntry]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for e in entries:
        w.writerow([neutralise(c) for c in (
            e.id, local_time(e.at), e.username, e.action, ACTIONS.get(e.action, e.action), e.target,
            json.dumps(e.detail, ensure_ascii=False, sort_keys=True), e.file_sha256 or "", e.checksum)])
    return buf.getvalue().encode("utf-8")


# ---- the log as people read it ----------------------------------------------------------------

DETAIL_NAMES = {
    "action": "操作", "answers": "答卷数", "automatic": "自动", "batch": "批次", "before": "原调查",
    "campaign": "调查", "closes_at": "结束时间", "closes_at_before": "原结束时间", "comments": "意见数",
    "count": "份数", "counties": "县", "county": "县", "file": "文件", "flags": "信号数", "format": "格式",
    "frozen": "已结束", "links": "二维码数", "name": "名称", "new": "新账号", "page": "页面",
    "password_change": "修改密码", "password_set": "设置密码", "planned_year": "计划申请年度", "role": "角色",
    "rows": "行数", "school": "学校", "schools": "学校数", "since": "起始日期", "test": "试填",
    "throttled": "因尝试过多被拒", "until": "截止日期", "user": "用户", "version": "版本",
}
PAGE_NAMES = {"verdict": "评估结果", "report": "打印版报告"}
TARGET_PARTS = {"campaign": "调查", "county": "县", "account": "账号", "link": "二维码", "codes": "填写码批次",
                "overview": "全省概览", "audit": "审计日志", "roadmap": "规划"}


def _value_text(key: str, value: Any, campaigns: dict[int, str] | None = None) -> str:
    if key == "version":
        return "最新版" if value in (None, "") else f"第 {value} 版"
    if key in ("campaign", "before") and isinstance(value, int) and not isinstance(value, bool):
        # A campaign by its name (a deleted trial's id has none left to show).
        return f"“{campaigns[value]}”" if campaigns and value in campaigns else f"编号 {value} 的调查"
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or value == "":
        return "无"
    if isinstance(value, list):
        return "、".join(_value_text(key, v) for v in value) or "无"
    if key == "page":
        return PAGE_NAMES.get(str(value), str(value))
    if key == "role":
        from service.accounts.roles import ROLES
        return ROLES.get(str(value), str(value))
    if key == "action":
        return ACTIONS.get(str(value), str(value))
    if key in ("fmt", "format"):
        return str(value).upper()          # 格式：PNG, as pages name file kinds
    text = str(value)
    if key in ("closes_at", "closes_at_before") and "T" in text:
        try:
            return local_time(datetime.fromisoformat(text))
        except ValueError:
            return text
    return text


def detail_text(detail: dict, campaigns: dict[int, str] | None = None) -> str:
    """An entry's details in Chinese (``批次：1；份数：50``); campaigns by name when ``campaigns``
    (id → name) is given."""
    return "；".join(f"{DETAIL_NAMES.get(k, '其他')}：{_value_text(k, v, campaigns)}" for k, v in detail.items())


def target_text(target: str) -> str:
    """``campaign/3/link/ab12`` as ``调查 3 · 二维码 ab12``."""
    parts, out = target.split("/"), []
    i = 0
    while i < len(parts):
        name = TARGET_PARTS.get(parts[i])
        if name and i + 1 < len(parts) and parts[i + 1] not in TARGET_PARTS:
            out.append(f"{name} {parts[i + 1]}")
            i += 2
        else:
            out.append(name or parts[i])
            i += 1
    return " · ".join(out)
