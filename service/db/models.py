"""SQLModel tables. (No ``from __future__ import annotations`` here: it breaks mappers.)

Times are timezone-aware (stored as UTC). Respondents leave no names, phones or IPs: the
device key is kept only as an HMAC keyed by the app secret and salted per campaign.
"""

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

ITEM_FIELDS = ("moral", "equity", "sharing", "conduct", "quality_ed", "assessment", "quality", "burden", "overall")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class AppMeta(SQLModel, table=True):
    __tablename__ = "app_meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class KeyValue(SQLModel, table=True):
    """Shared store for sessions and rate limits (see web/stores.py)."""
    __tablename__ = "kv_store"
    namespace: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=255)
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    expires_at: float | None = Field(default=None, index=True)


class Account(SQLModel, table=True):
    __tablename__ = "account"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)


class Campaign(SQLModel, table=True):
    __tablename__ = "campaign"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    county_name: str = Field(max_length=100)
    resident_population: int
    share_urban: float
    share_town: float
    share_rural: float
    opens_at: datetime
    closes_at: datetime
    templates: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    salt: str = Field(max_length=64)
    # The school list the campaign's schools come from (a school list, or a full workbook's
    # schools sheet: never a county version, campaigns/schools.py import_schools), and when.
    school_list_file: str | None = Field(default=None, max_length=255)
    school_list_sha256: str | None = Field(default=None, max_length=64)
    workbook_imported_at: datetime | None = None
    # 试填: a test campaign's answers never count and it may be deleted with them.
    is_test: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: int | None = Field(default=None, foreign_key="account.id")

    def state_at(self, at: datetime) -> str:
        """``open``, ``not_open`` or ``closed`` at time ``at`` (its dates are the campaign's own
        fact, read by the phone form below the campaigns folder as much as by the bureau)."""
        if at < self.opens_at:
            return "not_open"
        if at >= self.closes_at:
            return "closed"
        return "open"


class SchoolIdentity(SQLModel):
    """A school as a school list names it: shared by a campaign's schools and a round's."""
    school_code: str = Field(max_length=64)
    school_name: str = Field(max_length=200)
    school_type: str = Field(max_length=64)
    location: str = Field(max_length=16)


class School(SchoolIdentity, table=True):
    __tablename__ = "school"
    __table_args__ = (UniqueConstraint("campaign_id", "school_code"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    students_primary: float = 0
    students_junior: float = 0
    position: int = 0


class Link(SQLModel, table=True):
    """A QR link: fixes the campaign and optionally the school and the group."""
    __tablename__ = "link"
    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=32, unique=True, index=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    school_code: str | None = Field(default=None, max_length=64)
    group: str | None = Field(default=None, max_length=32)
    # Set when slips were printed for it: then only an answer with one of its codes is taken.
    requires_code: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class OneTimeCode(SQLModel, table=True):
    """A single-use code printed on a slip (家长告知书)."""
    __tablename__ = "one_time_code"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    link_id: int = Field(foreign_key="link.id", index=True)
    batch: int = Field(index=True)
    used_by: str | None = Field(default=None, max_length=36)
    used_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Answer(SQLModel, table=True):
    __tablename__ = "response"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: str = Field(max_length=36, unique=True, index=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    link_id: int | None = Field(default=None, foreign_key="link.id")
    code_id: int | None = Field(default=None, foreign_key="one_time_code.id")
    questionnaire: str = Field(max_length=16)
    template_version: int
    group: str = Field(max_length=32)
    school_code: str | None = Field(default=None, max_length=64)
    location: str = Field(max_length=16)
    grade: int | None = None
    duration_s: float
    device_hash: str | None = Field(default=None, max_length=64, index=True)
    duplicate_of: str | None = Field(default=None, max_length=36)
    # From a device new to the campaign while its link took more new devices than the
    # per-minute limit (RENKE_NEW_DEVICE_LIMIT): kept, counted by the integrity signals.
    new_device_burst: bool = Field(default=False)
    moral: str | None = Field(default=None, max_length=1)
    equity: str | None = Field(default=None, max_length=1)
    sharing: str | None = Field(default=None, max_length=1)
    conduct: str | None = Field(default=None, max_length=1)
    quality_ed: str | None = Field(default=None, max_length=1)
    assessment: str | None = Field(default=None, max_length=1)
    quality: str | None = Field(default=None, max_length=1)
    burden: str | None = Field(default=None, max_length=1)
    overall: str | None = Field(default=None, max_length=1)
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    # How the form was answered, as its script recorded it (issue 23; timings and a count, nothing
    # personal): "f<s to first answer>;s<identity>,<items>,<comment>;c<changes>". None without JavaScript
    # or when posted without the page.
    form_trace: str | None = Field(default=None, max_length=64)


# ---- inspector workspace (issue 4): roles, county assignments, workbook versions ------------

class AccountRole(SQLModel, table=True):
    """An account's role (service/accounts/roles.py). An account without a row is a province admin
    (the operators' accounts made by ``create-admin``)."""
    __tablename__ = "account_role"
    account_id: int = Field(foreign_key="account.id", primary_key=True)
    role: str = Field(max_length=32)                 # province_admin | bureau_admin | inspector


class AccountCounty(SQLModel, table=True):
    """Counties of an account: the one county of a bureau admin, those assigned to an inspector."""
    __tablename__ = "account_county"
    account_id: int = Field(foreign_key="account.id", primary_key=True)
    county_name: str = Field(max_length=100, primary_key=True)


class WorkbookVersion(SQLModel, table=True):
    """An indicator workbook of a county: kept, never overwritten; the only place a workbook lives
    (service/workbooks/versions.py). The same bytes (sha256) uploaded again are the same version."""
    __tablename__ = "workbook_version"
    __table_args__ = (UniqueConstraint("county_name", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    county_name: str = Field(max_length=100, index=True)
    version: int
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    schools: int = 0
    # 统计年度: the year the figures are of (the county sheet's evaluation_year, else entered on upload).
    data_year: int | None = None
    uploaded_by: int | None = Field(default=None, foreign_key="account.id")
    uploaded_at: datetime = Field(default_factory=utcnow)
    # 撤销: a version uploaded by mistake stays in the history but is never counted again.
    withdrawn_at: datetime | None = None
    withdrawn_by: int | None = Field(default=None, foreign_key="account.id")
    withdrawn_reason: str | None = Field(default=None, max_length=500)


class CountySurvey(SQLModel, table=True):
    """The campaign whose answers count in a county's verdict (计入评估的调查), chosen by its bureau."""
    __tablename__ = "county_survey"
    county_name: str = Field(primary_key=True, max_length=100)
    campaign_id: int = Field(foreign_key="campaign.id")
    designated_by: int | None = Field(default=None, foreign_key="account.id")
    designated_at: datetime = Field(default_factory=utcnow)


# ---- trust (issue 6): the audit trail -------------------------------------------------------

class AuditEntry(SQLModel, table=True):
    """One action of a signed-in user (service/accounts/audit.py). Append-only: no route changes or
    deletes a row, and database triggers refuse UPDATE and DELETE. ``checksum`` chains each
    entry to the previous one (sha256), ``file_sha256`` is the sha256 of a file involved."""
    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    account_id: int | None = None
    username: str = Field(default="", max_length=64, index=True)
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=255)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    file_sha256: str | None = Field(default=None, max_length=64)
    checksum: str = Field(max_length=64)


# ---- roadmap (issue 16): plan versions and the province's acceptance plan -------------------

class PlanVersion(SQLModel, table=True):
    """A county's roadmap plan (service/roadmap/plans.py), stored as the plan .xlsx like workbook
    versions: kept, never overwritten; the same bytes (sha256) again are the same version."""
    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("county_name", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    county_name: str = Field(max_length=100, index=True)
    version: int
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: int | None = Field(default=None, foreign_key="account.id")
    uploaded_at: datetime = Field(default_factory=utcnow)


class AcceptancePlan(SQLModel, table=True):
    """The year the province plans a county to apply for acceptance (验收计划)."""
    __tablename__ = "acceptance_plan"
    county_name: str = Field(primary_key=True, max_length=100)
    planned_year: int
    set_by: int | None = Field(default=None, foreign_key="account.id")
    set_at: datetime = Field(default_factory=utcnow)


# ---- province scale (issue 15): verdicts computed once per state --------------------------------

class StoredVerdict(SQLModel, table=True):
    """A county's verdict for one state, shared by every worker and instance
    (service/verdicts/pipeline.py): ``state`` is the sha256 of (workbook version's sha256,
    counted campaign, its answers' count and max id, profile digest, scoring's code digest);
    the columns beside it say which state it is. ``verdict`` is ``Verdict.to_dict()`` with the
    ledger's dicts under ``ledger``, as JSON text (Python's json: NaN survives, which
    PostgreSQL's json type refuses); ``summary`` the few figures the province overview shows
    (parsing a hundred whole verdicts costs it more than the rest of the page). A new state is
    a new row; it replaces the rows of the same workbook, campaign and profile at a lower
    watermark (those states cannot come back: answers are only added)."""
    __tablename__ = "stored_verdict"
    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(max_length=64, unique=True, index=True)
    county_name: str = Field(max_length=100, index=True)
    version_sha256: str = Field(max_length=64)
    campaign_id: int | None = None
    answers: int = 0
    max_answer_id: int = 0
    profile_digest: str = Field(max_length=64)
    verdict: str = Field(sa_column=Column(Text, nullable=False))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    computed_at: datetime = Field(default_factory=utcnow)


# ---- collection (issue 22): the indicators from the schools themselves ----------------------

class CollectionRound(SQLModel, table=True):
    """A 数据采集 round of a county for one data year (service/collection/rounds.py): its schools
    come from a school list file or the county's latest version (``source``); ``base_version`` is
    the version counted when it opened (the last approved values shown beside each field)."""
    __tablename__ = "collection_round"
    __table_args__ = (UniqueConstraint("county_name", "data_year"),)
    id: int | None = Field(default=None, primary_key=True)
    county_name: str = Field(max_length=100, index=True)
    data_year: int
    source: str = Field(max_length=255)
    source_sha256: str | None = Field(default=None, max_length=64)
    base_version: int | None = None
    opened_by: int | None = Field(default=None, foreign_key="account.id")
    opened_at: datetime = Field(default_factory=utcnow)
    assembled_version: int | None = None
    assembled_at: datetime | None = None


class CollectionSchool(SchoolIdentity, table=True):
    """A school of a round: its identity (from the school list), its draft and its state
    (empty · draft · submitted · returned · approved)."""
    __tablename__ = "collection_school"
    __table_args__ = (UniqueConstraint("round_id", "school_code"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="collection_round.id", index=True)
    position: int = 0
    state: str = Field(default="empty", max_length=16)
    draft: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    draft_saved_at: datetime | None = None


class CollectionSubmission(SQLModel, table=True):
    """One submission of a school's row (kept, never changed but for the bureau's decision):
    the values as entered, and the bureau's decision with a reason per returned field."""
    __tablename__ = "collection_submission"
    __table_args__ = (UniqueConstraint("round_id", "school_code", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="collection_round.id", index=True)
    school_code: str = Field(max_length=64)
    number: int
    submitted_values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    submitted_by: int | None = Field(default=None, foreign_key="account.id")
    submitted_at: datetime = Field(default_factory=utcnow)
    decision: str | None = Field(default=None, max_length=16)       # approved | returned
    reasons: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    decided_by: int | None = Field(default=None, foreign_key="account.id")
    decided_at: datetime | None = None


class SchoolClerk(SQLModel, table=True):
    """A 学校填报员 account's one school of one round. The initial password's hash is kept: while
    the account still has it, every page sends the clerk to change it."""
    __tablename__ = "school_clerk"
    account_id: int = Field(foreign_key="account.id", primary_key=True)
    round_id: int = Field(foreign_key="collection_round.id", index=True)
    school_code: str = Field(max_length=64)
    initial_password_hash: str = Field(max_length=255)


class EvidenceBlob(SQLModel, table=True):
    """The bytes of an evidence file (佐证材料), stored once per sha256 however often uploaded."""
    __tablename__ = "evidence_blob"
    sha256: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=8)                 # pdf | jpeg | png | xlsx | docx (from the bytes)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CollectionEvidence(SQLModel, table=True):
    """An evidence file a school attached to a field group of its row (scoring.collection.EVIDENCE_GROUPS),
    or the bureau to a county item of the round's county and year (no school; scoring.collection.COUNTY_ITEMS)."""
    __tablename__ = "collection_evidence"
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="collection_round.id", index=True)
    school_code: str | None = Field(default=None, max_length=64)
    field_group: str = Field(max_length=16)     # a field group of a school, or a county item (G1 …)
    filename: str = Field(max_length=255)
    sha256: str = Field(foreign_key="evidence_blob.sha256", max_length=64)
    uploaded_by: int | None = Field(default=None, foreign_key="account.id")
    uploaded_at: datetime = Field(default_factory=utcnow)


class IntegrityFrame(SQLModel, table=True):
    """A piece of a campaign's typed answers frame for the integrity signals: the answers with
    ``after_id`` < id <= ``last_id`` (``answers`` of them), as an Arrow IPC stream. Pieces chain
    from ``after_id`` 0; ``key`` names what the typing reads (scoring's code, the schools). Written
    at read time by whichever worker first reads the answers; the primary key keeps one per start."""
    __tablename__ = "integrity_frame"
    campaign_id: int = Field(sa_column=Column(Integer, ForeignKey("campaign.id", ondelete="CASCADE"),
                                              primary_key=True))
    after_id: int = Field(primary_key=True)
    last_id: int
    answers: int
    key: str = Field(max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class IntegrityState(SQLModel, table=True):
    """A campaign's integrity signals as last computed: for its ``answers`` answers up to id
    ``last_id``, under ``key`` (profile, scoring's code, the schools); zlib-compressed JSON."""
    __tablename__ = "integrity_state"
    campaign_id: int = Field(sa_column=Column(Integer, ForeignKey("campaign.id", ondelete="CASCADE"),
                                              primary_key=True))
    last_id: int
    answers: int
    key: str = Field(max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
