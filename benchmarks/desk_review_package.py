"""The desk-review package (汇审材料包, issue 22) of a county of 40 schools × 10 evidence files of 2 MB.

    .venv/bin/python benchmarks/desk_review_package.py [--schools 40] [--files 10] [--mb 2] [--database-url URL]

Seeds a fresh SQLite file (or the empty database given): a workbook version of ``--schools``
schools (the example county's 25 rows, repeated under new codes), its collection round and
``--files`` evidence files per school, each ``--mb`` MB of random bytes inside a valid
one-page PDF or a PNG shell (what the evidence check accepts), stored through
``collection.evidence.attach``. Then starts the real server (``python -m service``, one
process), signs in as the county's bureau, downloads ``/inspector/counties/…/desk-review.zip``
(with ``curl``, or ``--client httpx`` in this process) streamed to a temporary file and prints the wall time of the download, the server process's
peak RSS (``resource.getrusage(RUSAGE_CHILDREN)`` once it has exited) and the size; finally
checks the ZIP (every member's CRC, and the checksum list) outside the timing.
"""

import argparse
import csv
import hashlib
import io
import os
import re
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402
import load_submit as L  # noqa: E402  (the benchmarks' free port and health wait)
from sqlmodel import Session  # noqa: E402

from scoring.collection import EVIDENCE_GROUPS  # noqa: E402
from service.accounts import roles as R  # noqa: E402
from service.collection import evidence as E  # noqa: E402
from service.collection import rounds as K  # noqa: E402
from service.db.engine import make_engine, migrate  # noqa: E402
from service.web.settings import Settings  # noqa: E402
from service.workbooks import versions as W  # noqa: E402

EXAMPLE = ROOT / "tests" / "examples" / "example-pass"
COUNTY, USER, PASSWORD = "示例县", "bench-bureau", "bench-bureau-password"


def pdf_shell(payload: bytes) -> bytes:
    """A valid one-page PDF whose page content stream is ``payload`` (with a correct xref)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(payload) + payload + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def png_shell(payload: bytes) -> bytes:
    """A PNG signature, a 1×1 header chunk and ``payload`` as a private ancillary chunk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"prVt", payload) + chunk(b"IEND", b""))


def workbook(schools: int) -> bytes:
    """The example county's workbook with ``schools`` schools (its rows repeated under new codes)."""
    rows = list(csv.DictReader(io.StringIO((EXAMPLE / "schools.csv").read_text(encoding="utf-8"))))
    out = []
    for i in range(schools):
        row = dict(rows[i % len(rows)])
        row["school_code"], row["school_name"] = f"S{i + 1:02d}", f"第{i + 1}学校"
        out.append(row)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(out)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("schools.csv", text.getvalue())
        for member in ("county.csv", "veto.csv"):
            z.writestr(member, (EXAMPLE / member).read_bytes())
    return buf.getvalue()


def seed(url: str, schools: int, files: int, size: int) -> int:
    """Returns the version number to download."""
    engine = make_engine(url)
    migrate(engine)
    profile = Settings(database_url=url).profile
    groups = list(EVIDENCE_GROUPS)
    with Session(engine, expire_on_commit=False) as db:
        R.ensure_account(db, USER, PASSWORD, R.BUREAU_ADMIN, [COUNTY])
        version, problems = W.upload(db, COUNTY, None, [("bench.zip", workbook(schools))], profile, 2025)
        assert not problems, problems
        rnd, problems = K.open_round(db, COUNTY, str(version.data_year), None, profile, None)
        assert not problems, problems
        for school in K.schools_of(db, rnd.id):
            for k in range(files):
                payload = os.urandom(size)
                data, name = (pdf_shell(payload), f"材料{k + 1}.pdf") if k % 2 == 0 else (png_shell(payload), f"照片{k + 1}.png")
                entry, problems = E.attach(db, rnd.id, school.school_code, groups[k % len(groups)], name, data, None)
                assert not problems, problems
        number = version.version
    engine.dispose()
    return number


def wait_healthy(port: int, proc: subprocess.Popen) -> None:
    L.wait_healthy(port, proc, timeout=90)          # the demo and the 400 files take longer to seed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--schools", type=int, default=40)
    p.add_argument("--files", type=int, default=10)
    p.add_argument("--mb", type=float, default=2)
    p.add_argument("--database-url", help="an empty database to use instead of a fresh SQLite file")
    p.add_argument("--client", choices=("curl", "httpx"), default="curl",
                   help="who downloads: curl (as a browser would, little CPU) or httpx in this process")
    args = p.parse_args(argv)
    assert args.schools <= 200 and args.files <= 12 and args.mb <= 9, "bounded runs only"
    tmp = tempfile.mkdtemp(prefix="renke-package-")
    url = args.database_url or f"sqlite:///{os.path.join(tmp, 'renke.db')}"

    t = time.perf_counter()
    number = seed(url, args.schools, args.files, int(args.mb * 2**20))
    print(f"seeded {args.schools} schools × {args.files} files of {args.mb:g} MB in {time.perf_counter() - t:.1f} s")

    port = L.free_port()
    env = {**os.environ, "RENKE_SECRET": "package-bench-secret", "PYTHONUNBUFFERED": "1"}
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen([sys.executable, "-m", "service", "--port", str(port), "--database-url", url],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    target = os.path.join(tmp, "package.zip")
    try:
        wait_healthy(port, proc)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as c:
            page = c.get("/login").text
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
            r = c.post("/login", data={"username": USER, "password": PASSWORD, "_csrf_token": token})
            assert r.status_code in (200, 303), r.status_code
            path = f"/inspector/counties/{quote(COUNTY)}/desk-review.zip?version={number}"
            t = time.perf_counter()
            if args.client == "curl":
                cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
                timing = subprocess.run(["curl", "-sS", "--fail", "-o", target, "-H", f"Cookie: {cookie}",
                                         "-H", "Accept-Encoding: gzip", "-w", "%{time_starttransfer}",
                                         f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True)
                first = float(timing.stdout)
            else:
                first = None
                with c.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as r, open(target, "wb") as out:
                    assert r.status_code == 200, r.status_code
                    for chunk in r.iter_raw():
                        first = first or time.perf_counter() - t
                        out.write(chunk)
            wall = time.perf_counter() - t
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    server_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = os.path.getsize(target)
    print(f"download by {args.client}: {wall:.2f} s wall ({size / 2**20:.0f} MB, first byte after {first:.2f} s)")
    print(f"server process peak RSS: {server_peak:.0f} MB (benchmark process, which seeded: {own_peak:.0f} MB)")

    with zipfile.ZipFile(target) as z:
        bad = z.testzip()
        names = z.namelist()
        sums = z.read(names[-1]).decode("utf-8").splitlines()
        root = names[0].split("/")[0]
        wrong = [n for d, n in (line.split("  ", 1) for line in sums)
                 if hashlib.sha256(z.read(f"{root}/{n}")).hexdigest() != d]
    print(f"zip: {len(names)} members, CRC {'ok' if bad is None else 'bad: ' + bad}, "
          f"checksum list {len(sums)} lines, {'all match' if not wrong else f'{len(wrong)} differ'}")
    return 0 if bad is None and not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
