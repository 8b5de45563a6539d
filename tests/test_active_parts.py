"""Issue 21, finding 5: macros, external links and DDE formulas are found from what the package
declares (content types, relationship types) and from part names in any case, not from folder
names alone; the file is refused with a Chinese error naming it and what was found."""

import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from scoring.errors import InputError
from scoring.profile import load_profile
from scoring.roadmap import write_plan
from scoring.workbook import SCHOOL_COLUMNS, SHEETS, read_workbook, read_workbook_bytes
from scoring.roadmap import read_plan_bytes

EXAMPLE = Path(__file__).parent / "examples" / "example-pass"
PROFILE = load_profile()
WB = read_workbook(EXAMPLE, profile=PROFILE)
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
EXTERNAL_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"


def workbook_xlsx(formula: str | None = None) -> bytes:
    frames = {k: pd.read_csv(EXAMPLE / f"{k}.csv", dtype=str, keep_default_na=False)
              for k in ("schools", "county", "veto")}
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frames["schools"].rename(columns=SCHOOL_COLUMNS).to_excel(writer, sheet_name=SHEETS["schools"], index=False)
        for key in ("county", "veto"):
            frames[key].rename(columns={"key": "键", "value": "值"}).to_excel(writer, sheet_name=SHEETS[key],
                                                                            index=False)
        if formula:
            writer.sheets[SHEETS["veto"]]["F1"] = formula
    return buffer.getvalue()


def rewritten(data: bytes, edit) -> bytes:
    """The package with ``edit(name, body) -> body`` applied to every member, and extra members
    from ``edit(None, None)`` (a dict)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, edit(info.filename, src.read(info)))
        for name, body in (edit(None, None) or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def declared_part(part: str, content_type: str, rel_type: str | None = None):
    def edit(name, body):
        if name is None:
            return {part: b"<x/>"}
        if name == "[Content_Types].xml":
            return body.replace(b"</Types>", f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>'
                                .encode())
        if name == "xl/_rels/workbook.xml.rels" and rel_type:
            target = part.removeprefix("xl/")
            return body.replace(b"</Relationships>",
                                f'<Relationship Id="rId99" Type="{rel_type}" Target="{target}"/></Relationships>'
                                .encode())
        return body
    return edit


def refused(data: bytes, reader: str = "workbook") -> list[str]:
    with pytest.raises(InputError) as info:
        if reader == "workbook":
            read_workbook_bytes("指标表.xlsx", data, profile=PROFILE)
        else:
            read_plan_bytes("规划.xlsx", data, WB, profile=PROFILE)
    assert all(p.sheet in ("指标表.xlsx", "规划.xlsx") for p in info.value.problems)
    return [p.expected for p in info.value.problems]


@pytest.mark.parametrize("part", ["xl/links/link1.xml", "xl/ExternalLinks/externalLink1.xml", "xl/data/a.xml"])
def test_an_external_link_is_refused_by_its_content_type_wherever_it_lies(part):
    [why] = refused(rewritten(workbook_xlsx(), declared_part(part, EXTERNAL_TYPE.upper())))
    assert "外部链接" in why and part in why


def test_an_external_link_is_refused_by_its_relationship_type():
    edit = declared_part("xl/data/b.xml", "application/xml", REL + "externalLink")
    [why] = refused(rewritten(workbook_xlsx(), edit))
    assert "外部链接" in why


def test_a_macro_is_refused_by_its_relationship_or_content_type_under_any_name():
    edit = declared_part("xl/Stuff.BIN", "application/vnd.ms-office.VbaProject",
                         "http://schemas.microsoft.com/office/2006/relationships/vbaProject")
    [why] = refused(rewritten(workbook_xlsx(), edit))
    assert "含有宏" in why and "xl/Stuff.BIN" in why


@pytest.mark.parametrize("reader", ["workbook", "plan"])
def test_a_dde_formula_is_refused(reader):
    formula = "=cmd|'/C calc'!A0"
    if reader == "workbook":
        data = workbook_xlsx(formula)
    else:
        book = openpyxl.load_workbook(io.BytesIO(write_plan()))
        book["规划"]["H1"] = formula
        buf = io.BytesIO()
        book.save(buf)
        data = buf.getvalue()
    [why] = refused(data, reader)
    assert "动态数据交换（DDE）公式" in why and "xl/worksheets/" in why


def test_ordinary_formulas_and_text_with_a_pipe_are_taken():
    data = workbook_xlsx("=SUM(A1:A3)")
    book = openpyxl.load_workbook(io.BytesIO(data))
    book[SHEETS["veto"]]["G1"] = "a|b!c"
    buf = io.BytesIO()
    book.save(buf)
    assert read_workbook_bytes("指标表.xlsx", buf.getvalue(), profile=PROFILE).county["county_name"]
