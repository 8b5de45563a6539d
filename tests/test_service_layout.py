"""The service's layout (issues 10 and 19): folders by domain in layers, no import cycle between
modules or folders, no route module importing another one, and ``scoring`` free of the web
framework. The graphs come from tests/import_graph.py (``python -m tests.import_graph`` prints them)."""

import ast
import re
from pathlib import Path

from import_graph import cycles, edges, folder_graph, module_graph

ROOT = Path(__file__).resolve().parents[1]

# Lowest first: a folder uses (imports, or names a template of) folders of lower layers only; the
# folders of one layer do not use each other. service/README.md ("Dependencies point one way").
LAYERS = (
    {"db"},
    {"web"},
    {"accounts"},
    {"workbooks", "answers"},   # answers: the stored answers' one owner (queries, validity, the file)
    {"campaigns"},
    {"trust", "verdicts"},
    {"roadmap", "demo", "collection"},
    {"service"},        # app.py, settings.py, __main__.py: the composition of them all
)
LAYER = {folder: n for n, folders in enumerate(LAYERS) for folder in folders}

# The uses against the layers that make today's folder cycles, being removed (issue 19). Each one
# gone leaves this list (test_every_allowed_exception_still_exists); nothing may join it.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def test_the_service_has_no_module_import_cycles():
    assert cycles(module_graph()) == []


def test_every_folder_is_in_a_layer():
    assert set(folder_graph()) == set(LAYER)


def test_folders_use_only_lower_layers():
    against = sorted(f"{a} -> {b}: {what}" for a, b, what in edges()
                     if LAYER[b] >= LAYER[a] and (a, b) not in KNOWN_EXCEPTIONS)
    assert against == []


def test_no_folder_cycle_but_the_known_ones():
    folders = folder_graph()
    without_known = {a: {b for b in deps if (a, b) not in KNOWN_EXCEPTIONS} for a, deps in folders.items()}
    assert cycles(without_known) == []


def test_every_allowed_exception_still_exists():
    present = {(a, b) for a, deps in folder_graph().items() for b in deps}
    assert KNOWN_EXCEPTIONS - present == set(), "a cycle is gone: take it off KNOWN_EXCEPTIONS"


def test_no_route_module_imports_another_route_module():
    graph = module_graph()
    offenders = {(m, i) for m, deps in graph.items() if m.endswith("routes") or m.endswith("comments")
                 for i in deps if i.endswith(".routes")}
    assert offenders == set()


def test_scoring_imports_no_web_framework_or_service():
    for path in (ROOT / "scoring").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {n for n in names if n.split(".")[0] in ("litestar", "sqlmodel", "sqlalchemy", "service")}, path


def test_one_upload_path_in_workbooks_which_imports_no_campaign_so_no_folder_cycle():
    """Issue 19: the upload is written once, in workbooks/ (the direction the README documents:
    campaigns use workbooks), so campaigns and workbooks form no folder cycle."""
    assert not set(folder_graph()["workbooks"]) & {"campaigns", "verdicts", "roadmap", "answers", "trust"}
    writers = [p for p in (ROOT / "service").rglob("*.py") if "migrations" not in p.parts
               and re.search(r"\bWorkbookVersion\(county_name", p.read_text(encoding="utf-8"))]
    assert [p.relative_to(ROOT / "service").as_posix() for p in writers] == ["workbooks/versions.py"]


def test_the_answers_table_is_read_in_answers_only():
    """Issue 19: one owner for the answers. Outside ``answers/`` the model is imported only where the
    demo seeds its answers, where the backup check counts every table, and by the integrity frame
    (``trust/integrity.py``: its own packed SELECT, being reworked on another branch)."""
    service = ROOT / "service"
    users = set()
    for path in service.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if "migrations" not in path.parts and any(
                isinstance(n, ast.ImportFrom) and n.module == "service.db.models"
                and any(a.name == "Answer" for a in n.names) for n in ast.walk(tree)):
            users.add(path.relative_to(service).as_posix())
    assert {u for u in users if not u.startswith("answers/")} == {"demo/__init__.py", "backup.py",
                                                                  "trust/integrity.py"}
