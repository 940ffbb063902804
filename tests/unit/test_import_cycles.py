"""The modules of orchestration/ import one another without a cycle.

Every import counts, at any depth: module level, inside a function, under TYPE_CHECKING,
relative or absolute. A cycle hidden inside a function still ties the modules together (each
can only be understood, tested and imported with the others), so none is allowed. Also:
settings.py is below everything (it imports nothing from orchestration.lib), and lib is pure
(it imports nothing from Dagster nor from orchestration.defs).

Run as a script (python tests/unit/test_import_cycles.py [REPO]) to print the graph's cycles
for another checkout.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "orchestration"


@dataclass(frozen=True)
class Import:
    target: str  # the imported name, absolute ('orchestration.lib.record', 'dagster')
    line: int
    function: str | None  # the enclosing function, for an import inside one


def modules(repo: Path = REPO) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((repo / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(repo).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path) -> Iterator[Import]:
    """Every import statement of a module, wherever it stands, relative ones made absolute:
    for `from a.b import c` both a.b and a.b.c (c may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]

    def visit(node: ast.AST, function: str | None) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                yield from (Import(alias.name, child.lineno, function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package[: len(package) - (child.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                yield Import(base, child.lineno, function)
                yield from (Import(f"{base}.{alias.name}", child.lineno, function) for alias in child.names)
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            yield from visit(child, inner)

    yield from visit(tree, None)


def graph(repo: Path = REPO) -> dict[str, dict[str, Import]]:
    """module -> {module of the package it imports -> the first such import}."""
    known = modules(repo)
    edges: dict[str, dict[str, Import]] = {}
    for name, path in known.items():
        edges[name] = {}
        for imported in imports(name, path):
            target = imported.target
            while target and target not in known:  # 'orchestration.lib.record.Figure' -> the module
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):  # a parent package is no cycle
                edges[name].setdefault(target, imported)
    return edges


def cycles(edges: dict[str, dict[str, Import]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, {}):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return sorted(found)


def describe(component: list[str], edges: dict[str, dict[str, Import]]) -> str:
    """The edges inside a cycle, one a line, with where each import stands."""
    lines = [f"cycle of {len(component)} modules:"]
    for source in component:
        for target, imported in sorted(edges[source].items()):
            if target in component:
                where = f"in {imported.function}()" if imported.function else "at module level"
                lines.append(f"  {source} -> {target}  (line {imported.line}, {where})")
    return "\n".join(lines)


def test_no_module_imports_a_module_that_imports_it_back():
    edges = graph()
    assert "orchestration.lib.record" in edges  # the walk found the package
    found = cycles(edges)
    assert not found, "\n".join(describe(c, edges) for c in found)


def test_settings_import_nothing_from_lib():
    offending = [
        f"line {i.line}: {i.target}"
        for i in imports("orchestration.settings", REPO / PACKAGE / "settings.py")
        if i.target == f"{PACKAGE}.lib" or i.target.startswith(f"{PACKAGE}.lib.")
    ]
    assert not offending, f"orchestration/settings.py imports from orchestration.lib: {offending}"


def test_lib_imports_neither_dagster_nor_defs():
    offending = []
    for name, path in modules().items():
        if not name.startswith(f"{PACKAGE}.lib"):
            continue
        for i in imports(name, path):
            top = i.target.split(".")[0]
            if top.startswith("dagster") or i.target.startswith(f"{PACKAGE}.defs"):
                offending.append(f"{path.relative_to(REPO)}:{i.line}: {i.target}")
    assert not offending, "orchestration/lib must stay free of Dagster:\n" + "\n".join(offending)


def test_every_import_is_one_the_checker_sees():
    """importlib.import_module and __import__ would hide an edge from the graph (the format
    dispatch once imported the workbook parsers that way)."""
    hidden = []
    for path in modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if called in ("import_module", "__import__"):
                    hidden.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not hidden, f"imports by name, which the cycle check cannot follow: {hidden}"


def test_the_checker_sees_a_cycle_hidden_in_a_function(tmp_path):
    package = tmp_path / PACKAGE
    (package / "lib").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "lib" / "__init__.py").write_text("")
    (package / "lib" / "a.py").write_text("from . import b\n")
    (package / "lib" / "b.py").write_text("def f():\n    from orchestration.lib.a import X\n")
    (package / "lib" / "c.py").write_text("from orchestration.lib import a\n")
    edges = graph(tmp_path)
    assert cycles(edges) == [["orchestration.lib.a", "orchestration.lib.b"]]
    assert "in f()" in describe(cycles(edges)[0], edges)


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO
    edges = graph(root)
    found = cycles(edges)
    print("\n".join(describe(c, edges) for c in found) or "no cycle")
    sys.exit(1 if found else 0)
