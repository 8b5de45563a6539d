"""Helpers of the real-browser tests (kept out of conftest.py so that importing them is unambiguous)."""

import re
from pathlib import Path

from sqlmodel import Session, select

from service.db.models import Answer
from survey_templates import ITEMS

SUBMIT = "button[type=submit]"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SHOTS = ARTIFACTS / "screenshots"


def shot_name(node_name: str, suffix: str = "") -> Path:
    """test-artifacts/screenshots/<test name>[-<suffix>].png"""
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", node_name).strip("_")
    return SHOTS / f"{name}{'-' + suffix if suffix else ''}.png"


def rows(app) -> list[Answer]:
    with Session(app.state.engine) as s:
        return list(s.exec(select(Answer)))


def answer(page, skip: tuple[str, ...] = (), option: str = "比较满意", grade: str | None = "5") -> None:
    """Answer the student form as a thumb would: tap the option's label of every question."""
    if grade is not None:
        page.locator("select[name=grade]").select_option(grade)
    for item in ITEMS:
        if item not in skip:
            page.locator(f"#q-{item} label.o").get_by_text(option, exact=True).tap()


def log_in(page, live: str, username: str, password: str) -> None:
    """Sign in through the login form, as a person does."""
    from playwright.sync_api import expect
    page.goto(f"{live}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()
