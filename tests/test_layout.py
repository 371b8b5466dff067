"""The house rules of the layout, checked on the source: ``serving`` imports ``training``, never the
reverse; no import cycle between modules; no module in ``training/`` or ``serving/`` over 400 lines.

Imports are read with ``ast`` (nothing is imported), all of them: module level, inside functions and
under ``TYPE_CHECKING``, since each is a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("training", "serving")
MAX_LINES = 400


def _modules(root: Path = REPO) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement refers to: ``from a import b`` names ``a.b``, which is
    module ``a.b`` if there is one, else a name in module ``a`` (``import_graph`` walks up)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = module.split(".")
        anchor = anchor if is_package else anchor[:-1]
        anchor = anchor[: len(anchor) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    return [f"{base}.{alias.name}" for alias in node.names]


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of the packages it imports (the nearest enclosing module of each name)."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in _imported(node, module, path.name == "__init__.py"):
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    targets.add(name)
        graph[module] = targets
    return graph


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in graph:
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(_modules())


def test_the_graph_sees_imports_of_every_kind(tmp_path: Path) -> None:
    # A checker that found no imports would pass everything: pin each kind of import it must read.
    files = {
        "training/__init__.py": "",
        "training/a.py": "from training.b import thing\n",
        "training/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from training import c\n",
        "training/c.py": "def f():\n    import training.sub.d\n",
        "training/sub/__init__.py": "",
        "training/sub/d.py": "from .. import a\nfrom . import e\n",
        "training/sub/e.py": "import serving.x\n",
        "serving/__init__.py": "",
        "serving/x.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    toy = import_graph(_modules(tmp_path))
    assert toy["training.a"] == {"training.b"}  # module level
    assert toy["training.b"] == {"training.c"}  # under TYPE_CHECKING
    assert toy["training.c"] == {"training.sub.d"}  # inside a function
    assert toy["training.sub.d"] >= {"training.a", "training.sub.e"}  # relative
    assert toy["training.sub.e"] == {"serving.x"}
    assert cycles(toy) == [["training.a", "training.b", "training.c", "training.sub.d"]]


def test_the_real_graph_is_read(graph: dict[str, set[str]]) -> None:
    assert "training.data.contract" in graph["training.data.validation"]
    assert any(t.startswith("training.") for m, ts in graph.items() if m.startswith("serving.") for t in ts)


def test_training_never_imports_serving(graph: dict[str, set[str]]) -> None:
    offenders = {
        module: sorted(target for target in targets if target.split(".")[0] == "serving")
        for module, targets in graph.items()
        if module.split(".")[0] == "training"
    }
    assert {module: targets for module, targets in offenders.items() if targets} == {}


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


def test_the_cycle_finder_finds_cycles() -> None:
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert cycles(toy) == [["a", "b", "c"]]


def _oversize() -> dict[str, int]:
    sizes = {
        str(path.relative_to(REPO)): len(path.read_text(encoding="utf-8").splitlines())
        for path in _modules().values()
    }
    return {name: lines for name, lines in sizes.items() if lines > MAX_LINES}


def test_no_module_is_over_the_limit() -> None:
    """Every module of training/ and serving/ is at most 400 lines."""
    assert _oversize() == {}
