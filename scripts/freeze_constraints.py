"""Write constraints.txt: the exact installed version of every distribution leadripe[dev] needs.

The project's requirements (pyproject.toml: dependencies and every extra) are followed through the
installed distributions' own requirements (markers evaluated, extras followed), so the file pins the
project's whole dependency tree as tested, and nothing else that happens to be installed.

    .venv/bin/python scripts/freeze_constraints.py      # rewrites constraints.txt

``make venv`` and CI install with ``pip install -c constraints.txt -e ".[dev]"``.
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
PROJECT = "leadripe"


def project_requirements(pyproject: Path) -> list[Requirement]:
    """Every requirement of the project: its dependencies and all its extras (self-references dropped)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    texts = [*project.get("dependencies", [])]
    for extra in project.get("optional-dependencies", {}).values():
        texts += extra
    return [req for req in map(Requirement, texts) if canonicalize_name(req.name) != PROJECT]


def dependency_tree(requirements: list[Requirement]) -> dict[str, str]:
    """Canonical name -> installed version for the requirements and everything they need, transitively."""
    pinned: dict[str, str] = {}
    # (requirement, extras asked for it): a distribution is revisited when a new extra of it is needed.
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(req, frozenset(req.extras)) for req in requirements]
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            sys.exit(f"{req.name} is required but not installed: install the project first (make venv)")
        pinned[name] = dist.version
        for text in dist.requires or []:
            child = Requirement(text)
            # A child applies when its marker holds without an extra, or with one of the extras asked for.
            environments = [{"extra": ""}, *({"extra": extra} for extra in extras)]
            if child.marker is None or any(child.marker.evaluate(env) for env in environments):
                todo.append((child, frozenset(child.extras)))
    return pinned


def main() -> None:
    pinned = dependency_tree(project_requirements(REPO / "pyproject.toml"))
    lines = [
        "# The exact versions the tests ran with: leadripe[dev]'s whole dependency tree, as installed.",
        "# Regenerate with `.venv/bin/python scripts/freeze_constraints.py` after changing dependencies.",
        f"# Python {sys.version_info.major}.{sys.version_info.minor} on {sys.platform}.",
        *(f"{name}=={version}" for name, version in sorted(pinned.items())),
    ]
    (REPO / "constraints.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"constraints.txt: {len(pinned)} distributions")


if __name__ == "__main__":
    main()
