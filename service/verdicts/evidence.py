"""The evidence (佐证材料) behind a verdict, for the links of its page (issue 22): the files of the
collection round the version was assembled from, else of the round of the version's data year.
One query of the files' metadata; no file's bytes are read (the files are served by the
collection's download route, ``/inspector/counties/{county}/evidence/{id}``)."""

from dataclasses import dataclass, field

from sqlalchemy import or_
from sqlmodel import Session, select

from service.db.models import CollectionEvidence, CollectionRound, EvidenceBlob, WorkbookVersion


@dataclass(frozen=True)
class EvidenceFile:
    id: int
    filename: str
    size: int
    school_code: str | None          # None: a county item's file (the bureau's)


@dataclass
class EvidenceIndex:
    """The files of one round: by (school code, field group) and by county item."""
    data_year: int
    assembled: bool                  # the version was assembled from this round
    schools: dict[tuple[str, str], list[EvidenceFile]] = field(default_factory=dict)
    items: dict[str, list[EvidenceFile]] = field(default_factory=dict)

    def of(self, school_code: str, group: str) -> list[EvidenceFile]:
        return self.schools.get((school_code, group), [])

    def of_item(self, item: str) -> list[EvidenceFile]:
        """A county item's own files, then the schools' files of the field group of that name (G3, G5, G6, Q4)."""
        by_school = [f for (code, group), files in sorted(self.schools.items()) if group == item for f in files]
        return self.items.get(item, []) + by_school


def evidence_index(db: Session, version: WorkbookVersion) -> EvidenceIndex | None:
    """The evidence of the round behind ``version``, or None when no round of the county matches it."""
    matches = [CollectionRound.assembled_version == version.version]
    if version.data_year is not None:
        matches.append(CollectionRound.data_year == version.data_year)
    rows = db.exec(
        select(CollectionRound.id, CollectionRound.data_year, CollectionRound.assembled_version,
               CollectionEvidence.id, CollectionEvidence.school_code, CollectionEvidence.field_group,
               CollectionEvidence.filename, EvidenceBlob.size)
        .select_from(CollectionRound)
        .outerjoin(CollectionEvidence, CollectionEvidence.round_id == CollectionRound.id)
        .outerjoin(EvidenceBlob, EvidenceBlob.sha256 == CollectionEvidence.sha256)
        .where(CollectionRound.county_name == version.county_name, or_(*matches))
        .order_by(CollectionEvidence.id)).all()
    if not rows:
        return None
    # The round assembled into this version wins over a round of the same data year.
    chosen = min(rows, key=lambda r: (r[2] != version.version, r[0]))
    index = EvidenceIndex(data_year=chosen[1], assembled=chosen[2] == version.version)
    for round_id, _, _, eid, code, group, filename, size in rows:
        if round_id != chosen[0] or eid is None:
            continue
        f = EvidenceFile(eid, filename, size, code)
        if code is None:
            index.items.setdefault(group, []).append(f)
        else:
            index.schools.setdefault((code, group), []).append(f)
    return index
