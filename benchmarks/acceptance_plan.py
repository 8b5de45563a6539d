"""The province's acceptance page and a county's mock acceptance with a hostile plan (issue 21,
finding 3).

    PYTHONPATH=<checkout> .venv/bin/python benchmarks/acceptance_plan.py [--views 3]

In-process (Litestar's TestClient, a fresh SQLite file): the failing example county's workbook,
then a 5 KB CSV plan of 120 rows for the years 2027-2146 uploaded by its bureau. When the
checkout refuses it, the widest plan it takes is uploaded instead (a row in each of the 16
years 2024-2039). Prints the upload's answer and the time of ``--views`` views of
``/inspector/acceptance`` and of the county's mock acceptance. Run it with ``PYTHONPATH`` set to
the checkout to measure (an older one for "before").
"""

import argparse
import io
import re
import tempfile
import time
import zipfile
from pathlib import Path
from urllib.parse import quote

from litestar.testing import TestClient
from sqlmodel import Session

from service.accounts import roles as R
from service.app import create_app
from service.web.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[1] / "tests" / "examples" / "example-fail"
COUNTY = "示范县"
PW = "benchmark-password"


def csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def login(c: TestClient, name: str) -> None:
    c.post("/login", data={"username": name, "password": PW, "_csrf_token": csrf(c.get("/login").text)})


def timed(c: TestClient, url: str, views: int) -> list[float]:
    out = []
    for _ in range(views):
        t = time.perf_counter()
        assert c.get(url).status_code == 200
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--views", type=int, default=3)
    args = ap.parse_args()
    app = create_app(Settings(database_url=f"sqlite:///{tempfile.mkdtemp()}/b.db", secret="bench"))
    with Session(app.state.engine) as s:
        R.ensure_account(s, "bureau", PW, R.BUREAU_ADMIN, [COUNTY])
        R.ensure_account(s, "province", PW, R.PROVINCE_ADMIN, [])
    county = f"/inspector/counties/{quote(COUNTY)}"
    hostile = "年度,学校代码,字段,变化\n" + "".join(f"{y},S03,体育运动场馆面积,+1\n" for y in range(2027, 2147))
    widest = "年度,学校代码,字段,变化\n" + "".join(f"{y},S03,体育运动场馆面积,+1\n" for y in range(2024, 2040))
    with TestClient(app, base_url="http://testserver.local") as c:
        login(c, "bureau")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for m in ("schools.csv", "county.csv", "veto.csv"):
                z.writestr(m, (EXAMPLE / m).read_bytes())
        c.post(f"{county}/workbooks", data={"_csrf_token": csrf(c.get(county).text)},
               files=[("workbook", ("b.zip", buf.getvalue(), "application/zip"))])
        for name, plan in (("hostile (120 years, 2027-2146)", hostile), ("widest accepted (16 years)", widest)):
            token = csrf(c.get(f"{county}/roadmap").text)
            t = time.perf_counter()
            r = c.post(f"{county}/roadmap/plans", data={"_csrf_token": token},
                       files={"plan": ("规划.csv", plan.encode(), "text/csv")})
            print(f"upload {name}, {len(plan.encode())} bytes: HTTP {r.status_code} in {time.perf_counter() - t:.2f} s")
            if r.status_code == 200:
                break
        mock = timed(c, f"{county}/mock-acceptance", args.views)
    with TestClient(app, base_url="http://testserver.local") as c:
        login(c, "province")
        accept = timed(c, "/inspector/acceptance", args.views)
    print("mock acceptance views: " + ", ".join(f"{t:.2f} s" for t in mock))
    print("acceptance views:      " + ", ".join(f"{t:.2f} s" for t in accept))


if __name__ == "__main__":
    main()
