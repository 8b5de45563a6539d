"""The answer record: the row one valid form post becomes (its scores are computed where they are
summed, from the items); the comment is masked; the device key is kept only as a keyed hash."""

from datetime import datetime
from typing import Any

from scoring.privacy import mask_free_text  # phones, ID numbers, e-mails never stored
from service.db.models import Campaign, Link
from service.web.security import device_hash
from survey_templates import ITEMS


def answer_row(answer: dict[str, Any], *, campaign: Campaign, link: Link, questionnaire: str, sid: str,
               code_id: int | None, loaded_at: float, at: datetime, device: str | None, settings) -> dict[str, Any]:
    """The ``response`` columns of a validated answer; duration is measured by the server on
    the database's clock (receipt ``at`` − the load time in the signed token)."""
    return {
        "submission_id": sid, "campaign_id": campaign.id, "link_id": link.id, "code_id": code_id,
        "questionnaire": questionnaire, "template_version": int(campaign.templates[questionnaire]["version"]),
        "group": answer["group"], "school_code": answer["school_code"], "location": answer["location"],
        "grade": answer["grade"], "duration_s": round(max(at.timestamp() - loaded_at, 0.0), 1),
        "device_hash": device_hash(settings.secret, campaign.id, campaign.salt, device) if device else None,
        "duplicate_of": None, "new_device_burst": False, "comment": mask_free_text(answer["comment"]), "created_at": at,
        "form_trace": answer.get("form_trace"),
        **{i: answer[i] for i in ITEMS}}
