"""The conventions, checked: ruff, mypy on the package, and the layering of DESIGN.md."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("daemon", "runtime", "adapters", "policies")
BIN = Path(sys.executable).parent

# What each folder may import from the others (DESIGN.md, "Layout").
ALLOWED = {
    "daemon": {"daemon", "runtime", "adapters", "policies"},
    "runtime": {"runtime"},
    "adapters": {"adapters", "runtime"},
    "policies": {"policies"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "edgeward" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_layering(package: str) -> None:
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for target in _imports(path) - ALLOWED[package]:
            wrong.append(f"{path.relative_to(ROOT)} imports edgeward.{target}")
    assert not wrong, "\n".join(wrong)


def test_every_folder_says_what_it_is_for() -> None:
    for init in [ROOT / p / "__init__.py" for p in PACKAGES] + list(
        ROOT.glob("runtime/*/__init__.py")
    ):
        assert ast.get_docstring(ast.parse(init.read_text())), f"{init} has no docstring"


def test_torch_is_not_needed_at_run_time() -> None:
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] not in PACKAGES or "training" in rel.parts:
            continue
        assert "torch" not in _imports_any(path), f"{rel} imports torch"


def _imports_any(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_ruff() -> None:
    paths = [*PACKAGES, "tests"]
    check = subprocess.run(
        [BIN / "ruff", "check", *paths], cwd=ROOT, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = subprocess.run(
        [BIN / "ruff", "format", "--check", *paths], cwd=ROOT, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy(tmp_path: Path) -> None:
    # The folders install as edgeward.<folder>; mypy needs to see them laid out that way.
    tree = tmp_path / "edgeward"
    tree.mkdir()
    for package in PACKAGES:
        os.symlink(ROOT / package, tree / package)
    args = [str(BIN / "mypy"), "--config-file", str(ROOT / "pyproject.toml")]
    for package in PACKAGES:
        args += ["-p", f"edgeward.{package}"]
    result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
