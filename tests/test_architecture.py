"""Apps depend one way: accounts <- participation <- achievement <- declarations.

The import-linter contract (``[tool.importlinter]`` in pyproject.toml, run by ``make lint``)
holds on the tree and breaks on a reverse import; ruff refuses reaching an app by name with
``importlib``, which import-linter cannot see.  The negative cases run on a copy of the apps.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
APPS = ("accounts", "participation", "achievement", "declarations", "reports", "cqrs_site")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def copy_of_the_apps(tmp_path) -> Path:
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_apps_depend_one_way():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_copy_of_the_apps_keeps_the_contract_too(copy_of_the_apps):
    """The positive control of the tests below: the copy itself passes."""
    result = lint_imports(copy_of_the_apps)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("lower", "higher"),
    [("accounts", "participation"), ("participation", "achievement"), ("achievement", "declarations")],
)
def test_a_reverse_import_breaks_the_contract(copy_of_the_apps, lower, higher):
    (copy_of_the_apps / lower / "reverse.py").write_text(f"import {higher}.models  # noqa: F401\n")

    result = lint_imports(copy_of_the_apps)

    assert result.returncode != 0
    assert f"{lower} is not allowed to import {higher}" in result.stdout
    assert f"{lower}.reverse -> {higher}.models" in result.stdout


def test_reaching_an_app_by_name_with_importlib_is_refused(copy_of_the_apps):
    hidden = copy_of_the_apps / "achievement" / "by_name.py"
    hidden.write_text(
        "import importlib\nimport importlib.util\n\n\n"
        "def recalculate():\n"
        '    if importlib.util.find_spec("declarations") is not None:\n'
        '        importlib.import_module("declarations.tasks")\n'
    )

    result = subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", "--select", "TID251", str(hidden)],
        cwd=copy_of_the_apps,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "`importlib.import_module` is banned" in result.stdout
    assert "`importlib.util.find_spec` is banned" in result.stdout
    assert "by_name" not in lint_imports(copy_of_the_apps).stdout  # what import-linter alone misses
