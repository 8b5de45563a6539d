"""The service's import graph, by module and by folder, read from the source (nothing imported).

    python -m tests.import_graph            # each folder, the folders it uses (and how many times)
    python tests/import_graph.py            # the same
    python -m tests.import_graph --modules  # the Python imports per module

A folder is ``service/<folder>/``; the modules directly in ``service/`` (app, settings,
``__main__``) make the folder ``service``. A folder uses another when one of its modules imports
one of the other's, or when its code or templates name a template of the other's (a render,
``extends``, ``include``, ``from ... import``). tests/test_service_layout.py checks the graphs: no
module cycle, no new folder cycle, no use against the layering.
"""

import ast
import re
import sys
from collections import Counter
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


def module_graph() -> dict[str, set[str]]:
    """Each service module (migrations left out), the service modules it imports."""
    files = {_module(p): p for p in SERVICE.rglob("*.py") if "migrations" not in p.parts}
    return {m: {i for i in _imports(p) if i in files and i != m} for m, p in files.items()}


def folder_of(module: str) -> str:
    parts = module.split(".")
    files_in_folder = len(parts) > 2 or (len(parts) == 2 and (SERVICE / parts[1]).is_dir())
    return parts[1] if files_in_folder else "service"


def _template_owners() -> dict[str, str]:
    """Each template's name as rendered (its path under a ``templates/`` folder), the folder it is in."""
    return {str(p.relative_to(d)): d.parent.name for d in SERVICE.glob("*/templates") for p in d.rglob("*.html")}


TEMPLATE_TAG = re.compile(r"""\{%-?\s*(?:extends|include|import|from)\s+["']([^"']+)["']""")


def template_uses() -> list[tuple[str, str]]:
    """(file, template it names) for every template named by another folder's code or templates."""
    owners = _template_owners()
    uses = []
    for path in sorted(SERVICE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        names = {n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in owners}
        uses += [(_module(path), n) for n in sorted(names)]
    for path in sorted(SERVICE.glob("*/templates/**/*.html")):
        uses += [(str(path.relative_to(ROOT)), n) for n in sorted(set(TEMPLATE_TAG.findall(path.read_text("utf-8"))))
                 if n in owners]
    return [(f, n) for f, n in uses if _folder_of_file(f) != owners[n]]


def _folder_of_file(name: str) -> str:
    return name.split("/")[1] if "/" in name else folder_of(name)


def edges() -> list[tuple[str, str, str]]:
    """(folder, folder it uses, what: 'module -> module' or 'file renders template')."""
    graph, owners = module_graph(), _template_owners()
    found = [(folder_of(m), folder_of(d), f"{m} -> {d}") for m, deps in graph.items() for d in deps
             if folder_of(m) != folder_of(d)]
    found += [(_folder_of_file(f), owners[n], f"{f} uses template {n}") for f, n in template_uses()]
    return sorted(found)


def folder_graph() -> dict[str, Counter]:
    """Each folder, the other folders it uses, with the number of imports and template uses behind each."""
    folders: dict[str, Counter] = {folder_of(m): Counter() for m in module_graph()}
    for a, b, _ in edges():
        folders[a][b] += 1
    return folders


def cycles(graph: dict[str, set[str]] | dict[str, Counter]) -> list[list[str]]:
    """The cycles a depth-first search meets, each as the path that closes it (a -> b -> a)."""
    state: dict[str, int] = {}
    found = []

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def folder_pairs_in_cycles(folders: dict[str, Counter]) -> set[tuple[str, str]]:
    """Every import edge a -> b between folders that import each other through some path
    (both in one strongly connected component): the edges that make folder cycles."""
    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for nxt in folders[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen
    reachable = {f: reach(f) for f in folders}
    return {(a, b) for a, deps in folders.items() for b in deps if a in reachable[b]}


def main(argv: list[str]) -> None:
    if "--modules" in argv:
        graph = module_graph()
        for m in sorted(graph):
            print(f"{m} -> {', '.join(sorted(graph[m])) or '-'}")
        return
    folders = folder_graph()
    for f in sorted(folders):
        deps = ", ".join(f"{d} ({n})" for d, n in sorted(folders[f].items())) or "-"
        print(f"{f:10} -> {deps}")
    in_cycles = sorted(folder_pairs_in_cycles(folders))
    print("\nfolder uses in cycles:", ", ".join(f"{a} -> {b}" for a, b in in_cycles) or "none")
    for a, b in in_cycles:
        print(f"  {a} -> {b}: {'; '.join(what for x, y, what in edges() if (x, y) == (a, b))}")


if __name__ == "__main__":
    main(sys.argv[1:])
