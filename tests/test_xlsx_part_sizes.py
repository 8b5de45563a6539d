"""Issue 21, finding 9: a small .xlsx whose parts unpack to tens of MB (a 157 KB file with 44 MB of
shared strings held a worker 24 s) is refused before any part is parsed, with the limit named."""

import io
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from scoring.errors import InputError
from scoring.profile import load_profile
from scoring.roadmap import read_plan_bytes, write_plan
from scoring.workbook import MAX_PART_BYTES, MAX_PART_RATIO, SCHOOL_COLUMNS, SHEETS, read_workbook, read_workbook_bytes

EXAMPLE = Path(__file__).parent / "examples" / "example-pass"
PROFILE = load_profile()
WB = read_workbook(EXAMPLE, profile=PROFILE)
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def workbook_xlsx() -> bytes:
    frames = {k: pd.read_csv(EXAMPLE / f"{k}.csv", dtype=str, keep_default_na=False)
              for k in ("schools", "county", "veto")}
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frames["schools"].rename(columns=SCHOOL_COLUMNS).to_excel(writer, sheet_name=SHEETS["schools"], index=False)
        for key in ("county", "veto"):
            frames[key].rename(columns={"key": "键", "value": "值"}).to_excel(writer, sheet_name=SHEETS[key],
                                                                            index=False)
    return buffer.getvalue()


def with_shared_strings(data: bytes, strings: int, text: bytes = b"x" * 95) -> bytes:
    sst = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
           b'main">' + (b"<si><t>" + text + b"</t></si>") * strings + b"</sst>")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "[Content_Types].xml":
                body = body.replace(b"</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_TYPE}"/>'
                                    "</Types>".encode())
            if info.filename == "xl/_rels/workbook.xml.rels":
                body = body.replace(b"</Relationships>", f'<Relationship Id="rId77" Type="{SST_REL}" '
                                    'Target="sharedStrings.xml"/></Relationships>'.encode())
            dst.writestr(info.filename, body)
        dst.writestr("xl/sharedStrings.xml", sst)
    return out.getvalue()


@pytest.mark.parametrize("reader", ["workbook", "plan"])
def test_an_xlsx_whose_shared_strings_unpack_to_40_mb_is_refused_unparsed(reader):
    base = workbook_xlsx() if reader == "workbook" else write_plan()
    bomb = with_shared_strings(base, 400_000)
    assert len(bomb) < 200 * 1024
    started = time.perf_counter()
    with pytest.raises(InputError) as info:
        if reader == "workbook":
            read_workbook_bytes("指标表.xlsx", bomb, profile=PROFILE)
        else:
            read_plan_bytes("规划.xlsx", bomb, WB, profile=PROFILE)
    assert time.perf_counter() - started < 2
    [p] = info.value.problems
    assert p.sheet in ("指标表.xlsx", "规划.xlsx") and "xl/sharedStrings.xml" in p.expected
    assert f"不得超过 {MAX_PART_BYTES // 2**20} MB" in p.expected and f"{MAX_PART_RATIO} 倍" in p.expected


def test_a_part_over_1_mb_packed_more_than_100_times_is_refused():
    bomb = with_shared_strings(workbook_xlsx(), 20_000)          # 2 MB of one string repeated
    with pytest.raises(InputError) as info:
        read_workbook_bytes("指标表.xlsx", bomb, profile=PROFILE)
    assert "xl/sharedStrings.xml" in info.value.problems[0].expected


def test_a_county_with_ordinary_shared_strings_is_read():
    data = with_shared_strings(workbook_xlsx(), 2_000, b"\xe5\xad\xa6\xe6\xa0\xa1")
    assert read_workbook_bytes("指标表.xlsx", data, profile=PROFILE).schools.shape[0] > 0
    assert openpyxl.load_workbook(io.BytesIO(data))
