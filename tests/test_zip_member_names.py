"""Issue 21, finding 8: an uploaded zip (a workbook, a .zip of CSVs, a plan) with a member named
outside its own folder is refused: it would be stored and served back as uploaded."""

import io
import zipfile
from pathlib import Path

import pytest

from scoring.errors import InputError
from scoring.profile import load_profile
from scoring.roadmap import read_plan_bytes
from scoring.workbook import read_workbook, read_workbook_bytes

EXAMPLE = Path(__file__).parent / "examples" / "example-pass"
PROFILE = load_profile()
WB = read_workbook(EXAMPLE, profile=PROFILE)


def zip_with(extra: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in ("schools.csv", "county.csv", "veto.csv"):
            z.writestr(name, (EXAMPLE / name).read_bytes())
        z.writestr("plan.csv", "year,school_code,column,change\n")
        z.writestr(zipfile.ZipInfo(extra), b"x")
    return buf.getvalue()


@pytest.mark.parametrize("name", ["../evil.sh", "notes/../../evil.sh", "/etc/cron.d/evil", "..\\evil.bat",
                                  "C:/Windows/evil.bat"])
@pytest.mark.parametrize("reader", ["workbook", "plan"])
def test_zip_members_with_dot_dot_or_absolute_names_are_refused_at_upload(name, reader):
    with pytest.raises(InputError) as info:
        if reader == "workbook":
            read_workbook_bytes("指标表.zip", zip_with(name), profile=PROFILE)
        else:
            read_plan_bytes("规划.zip", zip_with(name), WB, profile=PROFILE)
    [p] = info.value.problems
    assert p.sheet in ("指标表.zip", "规划.zip") and name in p.expected and "指向压缩包以外" in p.expected
