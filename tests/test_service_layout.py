"""The service's layout (issue 10): folders by domain, no import circles, no route module
importing another one, and ``scoring`` free of the web framework."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICE = ROOT / "service"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The service modules a file imports (absolute and relative, top level and inside functions)."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m.startswith("service")}


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in SERVICE.rglob("*.py") if "migrations" not in p.parts}
    return {m: {i for i in _imports(p) if i in files and i != m} for m, p in files.items()}


def test_the_service_has_no_import_circles():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node, path):
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_no_route_module_imports_another_route_module():
    graph = _graph()
    offenders = {(m, i) for m, deps in graph.items() if m.endswith("routes") or m.endswith("comments")
                 for i in deps if i.endswith(".routes")}
    assert offenders == set()


def test_scoring_imports_no_web_framework_or_service():
    for path in (ROOT / "scoring").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {n for n in names if n.split(".")[0] in ("litestar", "sqlmodel", "sqlalchemy", "service")}, path


def _folder_imports() -> dict[str, set[str]]:
    """service folder -> the service folders its modules import."""
    folders: dict[str, set[str]] = {}
    for module, deps in _graph().items():
        parts = module.split(".")
        if len(parts) < 3:
            continue
        folders.setdefault(parts[1], set()).update(d.split(".")[1] for d in deps if len(d.split(".")) > 2)
    return {f: deps - {f} for f, deps in folders.items()}


def test_one_upload_path_in_workbooks_which_imports_no_campaign_so_no_folder_cycle():
    """Issue 19: the upload is written once, in workbooks/ (the direction the README documents:
    campaigns use workbooks), so campaigns and workbooks form no folder cycle."""
    folders = _folder_imports()
    assert not folders["workbooks"] & {"campaigns", "verdicts", "roadmap", "answers", "trust"}
    writers = [p for p in SERVICE.rglob("*.py") if "migrations" not in p.parts
               and re.search(r"\bWorkbookVersion\(county_name", p.read_text(encoding="utf-8"))]
    assert [p.relative_to(SERVICE).as_posix() for p in writers] == ["workbooks/versions.py"]
