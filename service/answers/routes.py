"""Respondent pages: the phone form, its submission, the thank-you and friendly refusals."""

import re
import secrets
import uuid
from datetime import datetime, timezone
from typing import Annotated

import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.enums import MediaType, RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response, Template
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scoring.names import GROUPS as GROUP_LABELS
from service.answers import group_writer, rate_limit
from service.answers.form import allowed_groups, form_context, validate
from service.answers.group_writer import snapshot
from service.answers.page_cache import cache_of, form_inputs, invalidate   # short per-process cache (the hot path)
from service.answers.record import answer_row
from service.campaigns.rules import state_of
from service.db.models import Campaign, Link, OneTimeCode
from service.db.models import Response as Answer
from survey_templates import QUESTIONNAIRE_OF_GROUP

DEVICE_COOKIE = "rk_dev"
_SID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
QUESTIONNAIRE_LABELS = {"student": "学生问卷", "staff": "校长、教师问卷", "public": "家长及社会各界问卷"}
REFUSALS = {
    "unknown_link": (404, "链接无效", "没有找到这份问卷。请确认二维码或网址是否完整，或向发放问卷的学校、部门询问。"),
    "not_open": (403, "调查尚未开始", "本次调查还没有开始，请在开始时间之后再来填写。"),
    "closed": (410, "调查已经结束", "本次调查已经结束，感谢您的关注。"),
    "unknown_code": (404, "填写码无效", "这个填写码不存在，请核对告知书上的二维码或网址。"),
    "used_code": (409, "填写码已使用", "这个填写码已经用过了，每个填写码只能提交一次。感谢您的参与！"),
    "stale_form": (400, "页面已失效", "这个问卷页面已失效，请重新扫描二维码打开问卷。"),
    "too_many": (429, "操作太频繁", "请稍等一分钟后再试。"),
}


def refusal(kind: str, campaign: Campaign | None = None) -> Template:
    status, title, message = REFUSALS[kind]
    return Template(template_name="respondent/message.html", status_code=status,
                    context={"title": title, "message": message, "campaign": campaign})


# Stand-ins for the two per-load values in the once-rendered form page (random per process).
_TOKEN_SLOT, _SID_SLOT = f"rk-token-{secrets.token_hex(8)}", f"rk-sid-{secrets.token_hex(8)}"


def _code(engine: Engine, campaign: Campaign, code: str) -> tuple[OneTimeCode | None, str | None]:
    with Session(engine) as db:
        row = db.exec(select(OneTimeCode).where(OneTimeCode.code == code.strip().upper(),
                                                OneTimeCode.campaign_id == campaign.id)).first()
    if row is None:
        return None, "unknown_code"
    if row.used_by is not None:
        return row, "used_code"
    return row, None


def _now(request: Request) -> datetime:
    return datetime.fromtimestamp(request.app.state.settings.clock(), timezone.utc)


class RespondentController(Controller):
    path = "/s"
    include_in_schema = False

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
        if not rate_limit.allow(campaign.id, request.cookies.get(DEVICE_COOKIE)):  # device + campaign, not IP
            return refusal("too_many", campaign)
        state = state_of(campaign, _now(request))
        if state != "open":
            return refusal(state, campaign)
        code, problem = (None, None) if not c else await anyio.to_thread.run_sync(_code, engine, campaign, c)
        if problem:
            return refusal(problem, campaign)
        questionnaires = list(dict.fromkeys(QUESTIONNAIRE_OF_GROUP[g] for g in allowed_groups(link)))
        if q not in questionnaires:
            if len(questionnaires) > 1:
                return Template(template_name="respondent/choose.html", context={
                    "campaign": campaign, "token": token, "code": code.code if code else None,
                    "choices": [(k, QUESTIONNAIRE_LABELS[k], "、".join(
                        GROUP_LABELS[g] for g in allowed_groups(link) if QUESTIONNAIRE_OF_GROUP[g] == k))
                        for k in questionnaires]})
            q = questionnaires[0]
        form_token = request.app.state.signer.sign({"c": campaign.id, "l": link.id, "q": q,
                                                    "k": code.id if code else None,
                                                    "t": round(request.app.state.settings.clock(), 3)})

        def render() -> str:
            ctx = form_context(schools, campaign, link, q, _TOKEN_SLOT, _SID_SLOT)
            return request.app.template_engine.get_template("respondent/form.html").render(**ctx)
        page = cache_of(engine).get(("form", token, q, snapshot(campaign)), render)
        # Both values are URL-safe (itsdangerous, uuid4): escaping would not have changed them.
        body = page.replace(_TOKEN_SLOT, form_token).replace(_SID_SLOT, str(uuid.uuid4()))
        response = Response(content=body, media_type=MediaType.HTML)
        if not request.cookies.get(DEVICE_COOKIE):
            response.cookies.append(_device_cookie(request))
        return response

    @post("/{token:str}", status_code=200)
    async def submit(self, request: Request, token: FromPath[str],
                     data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
                     ) -> Template | Response:
        """Async and, when the link is cached, free of queries: the answer's one database
        visit is its batch in the group writer, which also confirms the campaign is still as
        checked here (else CampaignChanged: check again on fresh data)."""
        engine = request.app.state.engine
        link, campaign, schools = await form_inputs(engine, token)
        if link is None:
            return refusal("unknown_link")
        if not rate_limit.allow(campaign.id, request.cookies.get(DEVICE_COOKIE)):  # device + campaign, not IP
            return refusal("too_many", campaign)
        for _ in range(3):
            try:
                return await _store(request, link, campaign, schools, data)
            except group_writer.CampaignChanged:
                invalidate(engine, ("link", token))
                link, campaign, schools = await form_inputs(engine, token)
                if link is None:          # a school link dropped by a re-import
                    return refusal("unknown_link")
        return refusal("stale_form", campaign)


async def _store(request: Request, link: Link, campaign: Campaign, schools: list,
                 data: dict[str, str]) -> Template | Response:
    settings = request.app.state.settings
    signed = request.app.state.signer.load(data.get("_t", ""))
    sid = data.get("_sid", "")
    if not signed or signed.get("l") != link.id or signed.get("c") != campaign.id or not _SID.match(sid):
        return refusal("stale_form", campaign)
    at = _now(request)
    state = state_of(campaign, at)
    if state != "open":      # a retry of an answer stored before the close is still thanked
        stored = await anyio.to_thread.run_sync(_is_stored, request.app.state.engine, sid)
        return thanks(request, campaign) if stored else refusal(state, campaign)
    code_id = signed.get("k")
    if code_id is not None and await anyio.to_thread.run_sync(_burnt_by_another, request.app.state.engine,
                                                              code_id, sid):
        return refusal("used_code", campaign)    # said before asking for missing answers
    q = signed["q"]
    ctx = form_context(schools, campaign, link, q, data["_t"], sid, values=data)
    answer, errors = validate(data, ctx, schools, link)
    if errors:
        ctx["errors"] = errors
        return Template(template_name="respondent/form.html", context=ctx, status_code=422)
    device = request.cookies.get(DEVICE_COOKIE)
    row = answer_row(answer, campaign=campaign, link=link, questionnaire=q, sid=sid, code_id=code_id,
                     loaded_at=float(signed["t"]), at=at, device=device, settings=settings,
                     profile=request.app.state.profile)
    try:   # acknowledged once its batch committed; a retry or double tap is answered "stored"
        await group_writer.submit_async(request.app.state.engine, row, code_id, at, snapshot(campaign))
    except group_writer.CodeAlreadyUsed:
        return refusal("used_code", campaign)
    response = thanks(request, campaign)
    if not device:
        response.cookies.append(_device_cookie(request))
    return response


def _burnt_by_another(engine: Engine, code_id: int, sid: str) -> bool:
    """The slip's code was used by another submission (the batch burns it atomically; this
    early look only spares the phone a form of missing answers it could never send)."""
    with Session(engine) as session:
        used_by = session.exec(select(OneTimeCode.used_by).where(OneTimeCode.id == code_id)).first()
        return used_by is not None and used_by != sid


def _is_stored(engine: Engine, sid: str) -> bool:
    with Session(engine) as session:
        return session.exec(select(Answer.id).where(Answer.submission_id == sid)).first() is not None


def thanks(request: Request, campaign: Campaign) -> Response:
    """The thank-you page, rendered once per campaign and cache period: it is the answer to
    every submission, and rendering it each time cost a tenth of a submission's CPU."""
    def render() -> bytes:
        return request.app.template_engine.get_template("respondent/message.html").render(
            title="提交成功，谢谢您！", message="您的答卷已经保存。感谢您对本县义务教育工作的关心和支持！",
            campaign=campaign, done=True).encode()
    body = cache_of(request.app.state.engine).get(("thanks", campaign.id, campaign.name), render)
    return Response(content=body, media_type=MediaType.HTML)


def _device_cookie(request: Request) -> Cookie:
    return Cookie(key=DEVICE_COOKIE, value=secrets.token_urlsafe(18), max_age=400 * 24 * 3600,
                  httponly=True, samesite="lax", secure=request.app.state.settings.secure_cookies, path="/s")
