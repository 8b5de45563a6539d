"""Respondent pages: the phone form, its submission, the thank-you and friendly refusals.

A loaded form gives at most one answer: its signed token names the submission id the page
was given (a post with another id is refused, a retry of the same id is thanked again) and
expires after ``settings.form_token_max_age_s``. Slips bind a school and group, not a URL: once
slips are printed for a link, every link reaching its school and group (its own, the school's
combined link, the county-wide link) takes an answer for them only with one of the slips' codes;
the code-required page has a box to type the code (any case, spaces allowed). After a submission the phone keeps a cookie naming the link and
questionnaire answered (``rk_done``: nothing personal, nothing looked up), so that reloading
the form says it was submitted.
"""

import re
import secrets
import uuid
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
from markupsafe import escape
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.exceptions import ClientException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from litestar.response.base import ASGIResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scoring.names import GROUPS as GROUP_LABELS, QUESTIONNAIRES as QUESTIONNAIRE_LABELS
from service.answers import batch_writer
from service.answers.form import allowed_groups, form_context, validate
from service.answers.batch_writer import snapshot
from service.answers.page_cache import bound_pairs, cache_of, form_inputs, invalidate   # short per-process cache (the hot path)
from service.answers.record import answer_row
from service.db.models import Campaign, Link, OneTimeCode
from service.db.models import Answer
from service.web.clock import local
from survey_templates import QUESTIONNAIRE_OF_GROUP

# A form post is a few dozen fields and at most a comment of 5,000 characters (9 bytes each
# when percent-encoded): a larger body, or more fields, is no form of ours. Refused before
# parsing: Litestar's 10 MB default let one post of 1.2 million fields hold the event loop
# for seconds (issue 21).
FORM_BODY_LIMIT = 64 * 1024
FORM_FIELDS_LIMIT = 200
DEVICE_COOKIE = "rk_dev"
DONE_COOKIE = "rk_done"          # "<link token>-<questionnaire>" entries joined by "_", newest last
DONE_KEEP = 20
COOKIE_AGE_S = 400 * 24 * 3600
ICON = (Path(__file__).parent / "static" / "icon.png").read_bytes()
_SID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
REFUSALS = {
    "unknown_link": (404, "链接无效", "没有找到这份问卷。请确认二维码或网址是否完整，或向发放问卷的学校、部门询问。"),
    "not_open": (403, "调查尚未开始", "本次调查将于 {opens}（北京时间）开始，请届时再来填写。"),
    "closed": (410, "调查已经结束", "本次调查已于 {closes}（北京时间）结束，感谢您的关注。"),
    "unknown_code": (404, "填写码无效", "这个填写码不存在，请核对告知书上的二维码或网址。"),
    "other_code": (403, "填写码与问卷不符", "这个填写码不能用于这份问卷。请扫描印有这个填写码的告知书上的二维码。"),
    "code_required": (403, "需要填写码", "这份问卷需要使用告知书上的填写码。请在下面输入告知书上的填写码，或扫描告知书上的二维码（其中已带有填写码）。"),
    "used_code": (409, "填写码已使用", "这个填写码已经用过了，每个填写码只能提交一次。感谢您的参与！"),
    "stale_form": (400, "页面已失效", "这个问卷页面已失效，请重新扫描二维码打开问卷。每次打开的问卷页面只能提交一份答卷。"),
    "expired": (400, "页面已过期", ("这个问卷页面打开已超过 {hours} 小时，已经失效。请重新打开问卷再提交；"
                                    "如果您的浏览器支持，已填好的答案会自动保留。")),
    "too_many": (429, "操作太频繁", "请稍等一分钟后再试。"),
}


CODE_REFUSALS = ("code_required", "unknown_code", "other_code")


def refusal(kind: str, campaign: Campaign | None = None, hours: float = 0) -> Template:
    status, title, message = REFUSALS[kind]
    if campaign is not None:
        message = message.format(opens=local(campaign.opens_at), closes=local(campaign.closes_at),
                                 hours=f"{hours:g}")
    return Template(template_name="respondent/message.html", status_code=status,
                    context={"title": title, "message": message, "campaign": campaign,
                             "code_box": kind in CODE_REFUSALS},
                    headers={"X-Renke-Form": kind})   # the form's script reloads an expired page


def normalise_code(text: str) -> str:
    """A slip's code as typed: any case, with or without spaces or dashes."""
    return re.sub(r"[\s\-－—_]", "", text).upper()


# Stand-ins for the per-load values in the once-rendered form page (random per process): the
# signed token, the submission id and the service's address (without RENKE_PUBLIC_URL, the
# request's Host: one request's Host must not be kept for the next respondents).
_TOKEN_SLOT, _SID_SLOT = f"rk-token-{secrets.token_hex(8)}", f"rk-sid-{secrets.token_hex(8)}"
_BASE_SLOT = f"rk-base-{secrets.token_hex(8)}"


def _code(engine: Engine, link: Link, code: str) -> tuple[OneTimeCode | None, str | None]:
    """The slip's code, if it is one of this link's and unused (a code printed for one
    school's parents must not open another's form)."""
    with Session(engine) as db:
        row = db.exec(select(OneTimeCode).where(OneTimeCode.code == normalise_code(code),
                                                OneTimeCode.campaign_id == link.campaign_id)).first()
    if row is None:
        return None, "unknown_code"
    if row.link_id != link.id:
        return None, "other_code"
    if row.used_by is not None:
        return row, "used_code"
    return row, None


def _now(request: Request) -> datetime:
    """The database's time as this instance reads it: a form's load and its receipt are
    stamped on the same clock whichever instances serve them (``DatabaseClock``)."""
    return datetime.fromtimestamp(request.app.state.db_clock(), timezone.utc)


def _done(request: Request) -> list[str]:
    return [e for e in (request.cookies.get(DONE_COOKIE) or "").split("_") if e]


def _phone_cookie(key: str, value: str, secure: bool) -> str:
    """A phone cookie's ``Set-Cookie`` value as Litestar writes it (kept 400 days, /s only)."""
    return Cookie(key=key, value=value, max_age=COOKIE_AGE_S, httponly=True, samesite="lax", secure=secure,
                  path="/s").to_header(header="").strip()


# Litestar encodes a Cookie through SimpleCookie and dataclasses.asdict on every response (a
# tenth of a submission's CPU); the done cookie's value is the same for most phones of a link.
_cached_cookie = lru_cache(maxsize=4096)(_phone_cookie)


class PhoneResponse(Response):
    """An HTML page with the phone's cookies as already written ``Set-Cookie`` headers."""

    def __init__(self, content: bytes | str, set_cookies: list[str], **kwargs: Any):
        super().__init__(content=content, media_type=MediaType.HTML, **kwargs)
        self.set_cookies = set_cookies

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIResponse:
        response = super().to_asgi_response(*args, **kwargs)
        for value in self.set_cookies:
            response.headers.add("set-cookie", value)
        return response


def _done_cookie(request: Request, token: str, questionnaire: str) -> str:
    entry = f"{token}-{questionnaire}"
    entries = [e for e in _done(request) if e != entry][-(DONE_KEEP - 1):] + [entry]
    return _cached_cookie(DONE_COOKIE, "_".join(entries), request.app.state.settings.secure_cookies)


def _base(request: Request) -> str:
    """The absolute address of the service: the configured public one, else this request's."""
    return (request.app.state.settings.public_url or str(request.base_url)).rstrip("/")


def _share(request: Request, title: str, description: str, base: str | None = None) -> dict[str, str]:
    """Open Graph meta for WeChat and QQ: absolute URLs."""
    return {"title": title, "description": description,
            "image": f"{_base(request) if base is None else base}/s/_/icon.png"}


class RespondentController(Controller):
    path = "/s"
    include_in_schema = False

    @get("/_/icon.png", sync_to_thread=False, cache=24 * 3600)
    def icon(self) -> Response:
        """The share icon WeChat and QQ show next to a shared link."""
        return Response(content=ICON, media_type="image/png")

    @get("/_/code", sync_to_thread=True)
    def typed_code(self, request: Request, c: FromQuery[str | None] = None) -> Template | Redirect:
        """The code typed into the code-required page's box: to the slip's own link, with it."""
        code = normalise_code(c or "")
        with Session(request.app.state.engine) as db:
            row = db.exec(select(OneTimeCode).where(OneTimeCode.code == code)).first() if code else None
            link = db.get(Link, row.link_id) if row is not None else None
        if link is None:
            return refusal("unknown_code")
        return Redirect(path=f"/s/{link.token}?c={code}", status_code=303)

    @get("/{token:str}")
    async def show(self, request: Request, token: FromPath[str], q: FromQuery[str | None] = None,
                   c: FromQuery[str | None] = None) -> Template | Response:
        """Async and, when the link is cached, free of queries and of template rendering:
        the page of a link and questionnaire is rendered once per cache period and only
        this load's signed token and submission id are put in."""
        engine = request.app.state.engine
        link, campaign, schools = await form_inputs(engine, token, expired_ok=False)
        if link is None:
            return refusal("unknown_link")
        if not request.app.state.device_limits.allow(campaign.id, request.cookies.get(DEVICE_COOKIE)):  # not IP
            return refusal("too_many", campaign)
        state = campaign.state_at(_now(request))
        if state != "open":
            return refusal(state, campaign)
        code, problem = (None, None) if not c else await anyio.to_thread.run_sync(_code, engine, link, c)
        if problem:
            return refusal(problem, campaign)
        if link.requires_code and code is None:
            return refusal("code_required", campaign)
        questionnaires = list(dict.fromkeys(QUESTIONNAIRE_OF_GROUP[g] for g in allowed_groups(link)))
        if code is None and link.school_code and q in questionnaires:
            # A school's combined link: a questionnaire whose every group there has slips needs one.
            bound = await bound_pairs(engine, campaign.id)
            if all((link.school_code, g) in bound for g in allowed_groups(link) if QUESTIONNAIRE_OF_GROUP[g] == q):
                return refusal("code_required", campaign)
        done = _done(request)
        if q not in questionnaires:
            if len(questionnaires) > 1:
                return Template(template_name="respondent/choose.html", context={
                    "campaign": campaign, "token": token, "code": code.code if code else None,
                    # The school, so that a parent can check the right code was scanned.
                    "school": next((s.school_name for s in schools if s.school_code == link.school_code), None),
                    "share": _share(request, campaign.name, "请选择适合您的问卷，匿名填写，约需三五分钟。"),
                    "choices": [(k, QUESTIONNAIRE_LABELS[k], "、".join(
                        GROUP_LABELS[g] for g in allowed_groups(link) if QUESTIONNAIRE_OF_GROUP[g] == k),
                        f"{token}-{k}" in done) for k in questionnaires]})
            q = questionnaires[0]
        sid = str(uuid.uuid4())
        form_token = request.app.state.signer.sign({"c": campaign.id, "l": link.id, "q": q, "s": sid,
                                                    "k": code.id if code else None,
                                                    "t": round(request.app.state.db_clock(), 3)})
        submitted = f"{token}-{q}" in done

        def render() -> str:
            ctx = form_context(schools, campaign, link, q, _TOKEN_SLOT, _SID_SLOT)
            tpl = campaign.templates[q]
            ctx["share"] = _share(request, tpl["title"], tpl["intro"].strip().splitlines()[-1], _BASE_SLOT)
            ctx["done"] = submitted
            return request.app.template_engine.get_template("respondent/form.html").render(**ctx)
        page = cache_of(engine).get(("form", token, q, submitted, snapshot(campaign)), render)
        # Both values are URL-safe (itsdangerous, uuid4): escaping would not have changed them.
        body = page.replace(_TOKEN_SLOT, form_token).replace(_SID_SLOT, sid).replace(
            _BASE_SLOT, str(escape(_base(request))))
        return PhoneResponse(body, [] if request.cookies.get(DEVICE_COOKIE) else [_device_cookie(request)])

    @post("/{token:str}", status_code=200, request_max_body_size=FORM_BODY_LIMIT)
    async def submit(self, request: Request, token: FromPath[str]) -> Template | Response:
        """Async and, when the link is cached, free of queries: the answer's one database
        visit is its batch in the batch writer, which also confirms the campaign is still as
        checked here (else CampaignChanged: check again on fresh data)."""
        data = form_fields(await request.body())
        engine = request.app.state.engine
        link, campaign, schools = await form_inputs(engine, token)
        if link is None:
            return refusal("unknown_link")
        if not request.app.state.device_limits.allow(campaign.id, request.cookies.get(DEVICE_COOKIE)):  # not IP
            return refusal("too_many", campaign)
        for _ in range(3):
            try:
                return await _store(request, link, campaign, schools, data)
            except batch_writer.CampaignChanged:
                invalidate(engine, ("link", token))
                link, campaign, schools = await form_inputs(engine, token)
                if link is None:          # a school link dropped by a re-import
                    return refusal("unknown_link")
        return refusal("stale_form", campaign)


def form_fields(body: bytes) -> dict[str, str]:
    """The url-encoded fields of a form post (read as Litestar reads them), at most
    ``FORM_FIELDS_LIMIT`` of them and each named once; else 400."""
    try:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, max_num_fields=FORM_FIELDS_LIMIT)
    except ValueError:
        raise ClientException("too many fields") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise ClientException("a field named twice")
    return fields


async def _store(request: Request, link: Link, campaign: Campaign, schools: list,
                 data: dict[str, str]) -> Template | Response:
    settings = request.app.state.settings
    engine = request.app.state.engine
    sid = data.get("_sid", "")
    at = _now(request)
    signed, problem = request.app.state.signer.check(data.get("_t", ""), sid, at.timestamp(),
                                                     settings.form_token_max_age_s)
    if (problem == "stale" or signed.get("l") != link.id or signed.get("c") != campaign.id
            or not _SID.match(sid)):
        return refusal("stale_form", campaign)
    state = campaign.state_at(at)
    if state != "open" or problem == "expired":   # a retry of an answer already stored is still thanked
        stored = await anyio.to_thread.run_sync(_stored_answer, engine, sid)
        if stored is not None:
            return _thanked(request, campaign, link, signed["q"], *stored)
        return refusal("expired" if state == "open" else state, campaign,
                       hours=settings.form_token_max_age_s / 3600)
    code_id = signed.get("k")
    if code_id is None and link.requires_code:
        return refusal("code_required", campaign)
    if code_id is not None and await anyio.to_thread.run_sync(_burnt_by_another, request.app.state.engine,
                                                              code_id, sid):
        return refusal("used_code", campaign)    # said before asking for missing answers
    q = signed["q"]
    answer, errors = validate(data, campaign.templates[q], schools, link)
    if errors:
        ctx = form_context(schools, campaign, link, q, data["_t"], sid, values=data, errors=errors)
        return Template(template_name="respondent/form.html", context=ctx, status_code=422)
    if code_id is None and (answer["school_code"], answer["group"]) in await bound_pairs(engine, campaign.id):
        return refusal("code_required", campaign)     # a combined or county-wide link reaching a slip's pair
    device = request.cookies.get(DEVICE_COOKIE)
    row = answer_row(answer, campaign=campaign, link=link, questionnaire=q, sid=sid, code_id=code_id,
                     loaded_at=float(signed["t"]), at=at, device=device, settings=settings)
    try:   # acknowledged once its batch committed; a retry or double tap is answered "stored"
        await batch_writer.submit_async(engine, row, code_id, at, snapshot(campaign), request.app.state.device_limits)
    except batch_writer.CodeAlreadyUsed:
        return refusal("used_code", campaign)
    return _thanked(request, campaign, link, q, row["group"], row["duplicate_of"])


def _thanked(request: Request, campaign: Campaign, link: Link, questionnaire: str, group: str,
             duplicate_of: str | None) -> Response:
    cookies = [_done_cookie(request, link.token, questionnaire)]
    if not request.cookies.get(DEVICE_COOKIE):
        cookies.append(_device_cookie(request))
    return thanks(request, campaign, group if duplicate_of else None, cookies)


def _burnt_by_another(engine: Engine, code_id: int, sid: str) -> bool:
    """The slip's code was used by another submission (the batch burns it atomically; this
    early look only spares the phone a form of missing answers it could never send)."""
    with Session(engine) as session:
        used_by = session.exec(select(OneTimeCode.used_by).where(OneTimeCode.id == code_id)).first()
        return used_by is not None and used_by != sid


def _stored_answer(engine: Engine, sid: str) -> tuple[str, str | None] | None:
    """(group, duplicate_of) of the stored answer with this submission id, or None."""
    with Session(engine) as session:
        row = session.exec(select(Answer.group, Answer.duplicate_of).where(Answer.submission_id == sid)).first()
        return None if row is None else (row[0], row[1])


def thanks(request: Request, campaign: Campaign, duplicate_group: str | None = None,
           set_cookies: list[str] | None = None) -> Response:
    """The thank-you page, rendered once per campaign (and, for an answer kept as a repeat,
    per group) and cache period: it is the answer to every submission, and rendering it
    each time cost a tenth of a submission's CPU."""
    def render() -> bytes:
        if duplicate_group:
            title, message = "提交成功，谢谢您！", (
                f"这部手机此前已经提交过一份“{GROUP_LABELS[duplicate_group]}”的答卷。这次的答卷也已保存，"
                "但不会重复计入统计：每部手机每种身份只计一份。家里其他人如果也想参与，请用自己的手机扫码填写。"
                "感谢您对本县义务教育工作的关心和支持！")
        else:
            title, message = "提交成功，谢谢您！", "您的答卷已经保存。感谢您对本县义务教育工作的关心和支持！"
        return request.app.template_engine.get_template("respondent/message.html").render(
            title=title, message=message, campaign=campaign, done=True).encode()
    body = cache_of(request.app.state.engine).get(("thanks", campaign.id, campaign.name, duplicate_group), render)
    return PhoneResponse(body, set_cookies or [])


def _device_cookie(request: Request) -> str:
    return _phone_cookie(DEVICE_COOKIE, secrets.token_urlsafe(18), request.app.state.settings.secure_cookies)
