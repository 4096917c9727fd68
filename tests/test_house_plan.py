"""The house plan, checked from the source (no imports run): no import loops in the core or the
app, and no platform named outside its folder (`switchboard/providers/<code>/`) — every other
part derives the platforms from the registry (README, "Adding a platform")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_CODES = ("retell", "vapi", "signalwire", "livekit")
# Strings that contain a platform's code without naming the platform.
NOT_PLATFORMS = {"livekit:read", "livekit:write"}  # seed 003's scope names, kept as aliases of read/write


def import_graph(root: Path, package: str, *, lazy: bool) -> dict[str, set[str]]:
    """module → the modules of `package` it imports: at module level (`lazy=False`), or anywhere
    in it (`lazy=True`); `if TYPE_CHECKING:` blocks never run, so they do not count."""
    modules: dict[str, Path] = {}
    for path in (root / package).rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in _imports(tree.body, lazy):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                module = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else [])) \
                    if node.level else node.module or ""
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def _imports(body: list[ast.stmt], lazy: bool):
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _imports(node.orelse, lazy)
        elif isinstance(node, (ast.If, ast.Try, ast.With)) or (lazy and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []):
                    yield from _imports(child.body if isinstance(child, ast.ExceptHandler) else [child], lazy)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def platform_mentions(root: Path) -> list[str]:
    """Every string in the code (docstrings aside) that names a platform by its code, outside
    the platforms' own folders, the tests, the migrations and the documents."""
    word = re.compile(r"(?<![\w.-])(" + "|".join(PLATFORM_CODES) + r")(?![\w-])")
    found = []
    for package in ("switchboard", "edge_functions", "app", "agent_worker"):
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith("switchboard/providers/"):
                continue
            tree = ast.parse(path.read_text(), rel)
            docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                          if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                          and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                        and node.value not in NOT_PLATFORMS:
                    for m in word.finditer(node.value):
                        found.append(f"{rel}:{node.lineno}: {m.group(1)!r} in {node.value[:60]!r}")
    return found


def test_no_import_loops_in_the_core_even_through_imports_inside_functions() -> None:
    # A lazy import only hides a loop from the interpreter, not from the design (one ran
    # versions → scenarios → conversations → versions until the publish gate moved to versions).
    assert cycles(import_graph(ROOT, "switchboard", lazy=True)) == []


def test_no_import_loops_in_the_app_even_through_imports_inside_functions() -> None:
    assert cycles(import_graph(ROOT, "app", lazy=True)) == []


def test_the_loop_finder_finds_loops(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from pkg import a\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n")
    assert cycles(import_graph(tmp_path, "pkg", lazy=False)) == []
    assert cycles(import_graph(tmp_path, "pkg", lazy=True)) == [["pkg.a", "pkg.sub.b"]]


def test_no_platform_is_named_outside_its_folder() -> None:
    assert platform_mentions(ROOT) == []
