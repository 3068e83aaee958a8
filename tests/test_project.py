"""The project's own promises: README commands are CI's, locust stays in loadtest/, public faces."""

from __future__ import annotations

import ast
import doctest
import importlib
import re
import subprocess
import sys

import pytest

from lienthong.paths import ROOT

PACKAGES_WITHOUT_LOCUST = ("lienthong", "sim", "edxml", "gateway", "tests")
# loadtest modules that never import locust (a test below checks it), so unit tests may use them
PURE_LOADTEST = (
    "loadtest._backoff",
    "loadtest._plan",
    "loadtest._log",
    "loadtest._reconcile",
    "loadtest._verdict",
)
DOCTEST_MODULES = (
    "gateway",
    "gateway.protocol",
    "gateway._admission",
    "gateway._config",
    "gateway._credentials",
    "gateway._directory",
    "gateway._docids",
    "gateway._multipart",
    "gateway._samples",
    "gateway._sqlite_store",
    "gateway._writer",
    "lienthong.calibration_file",
    "lienthong.durations",
    "lienthong.toml_text",
    "lienthong.agencies",
    "lienthong.scenario._distributions",
    "lienthong.scenario._load",
    "lienthong.twin",
    "loadtest._backoff",
    "edxml",
    "edxml._attachments",
    "edxml._builder",
    "edxml._fast",
    "edxml._ids",
    "edxml._limits",
    "edxml._model",
    "edxml._parser",
    "edxml._relay",
    "edxml._schema",
    "sim",
    "sim._stats",
    "sim._series",
    "sim._streams",
)


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S)
    assert block, "README has no code block"
    lines = (line.split("#", 1)[0].strip() for line in block.group(1).splitlines())
    return [line for line in lines if line]


def test_readme_first_two_commands_are_demo_and_test() -> None:
    first, second = _readme_commands()[:2]
    assert first == "python3 dev.py demo"
    assert second == "python3 dev.py test"


def test_readme_runs_the_bench_scripts_with_the_projects_python() -> None:
    # a newcomer's python3 has none of the dependencies: only .venv's imports gateway or lxml
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    runs = re.findall(r"`([^`]*?)\s*bench/\w+\.py", text)
    assert runs, "README names no bench script"
    assert all(r.endswith(".venv/bin/python") for r in runs if r), runs


def test_ci_runs_the_readme_test_command_then_the_long_runs() -> None:
    # first exactly what a newcomer runs; then what that leaves out, as the README says
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        line.strip()
        for line in ci.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))
    ]
    test = _readme_commands()[1]
    assert commands == [test, f"{test} -m long"]
    assert f"`{test} -m long`" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert ci.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in ci


def test_nothing_outside_loadtest_imports_locust_or_gevent() -> None:
    offenders = []
    for package in PACKAGES_WITHOUT_LOCUST:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    # the load test's pure modules may be unit-tested; nothing else imports loadtest
                    pure_test = "tests/unit/loadtest" in path.as_posix() and name in PURE_LOADTEST
                    if top in ("locust", "gevent") or (top == "loadtest" and not pure_test):
                        offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_importing_the_cli_or_pure_loadtest_modules_does_not_load_locust() -> None:
    code = (
        "import sys, lienthong.cli; lienthong.cli.build_parser(); "
        + "".join(f"import {m}; " for m in PURE_LOADTEST)
        + "bad = [m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("module", ["lienthong.scenario", "edxml", "sim", "gateway"])
def test_public_faces_export_what_they_name(module: str) -> None:
    mod = importlib.import_module(module)
    for name in mod.__all__:
        assert hasattr(mod, name), name


@pytest.mark.parametrize("module", DOCTEST_MODULES)
def test_docstring_examples_run(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = doctest.testmod(
        importlib.import_module(module), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0


def test_every_package_is_typed() -> None:
    for package in ("lienthong", "sim", "edxml", "gateway", "loadtest"):
        assert (ROOT / package / "py.typed").exists(), package
