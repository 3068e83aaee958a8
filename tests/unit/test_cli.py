"""The CLI: version, help, scenario check, and one-line errors with a non-zero exit."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lienthong import __version__
from lienthong.cli import COMMAND_MODULES, build_parser, main
from lienthong.paths import ROOT


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"lienthong {__version__}"


def test_help_lists_the_built_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for module in COMMAND_MODULES:
        assert module.rsplit(".", 1)[1] in out


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _parsers(sub)


def test_every_help_text_reads_as_printed() -> None:
    # argparse formats a description only for %(prog)s: a "%%" written there shows as "%%"
    for parser in _parsers(build_parser()):
        assert "%%" not in parser.format_help(), parser.prog


def test_sim_knee_help_gives_its_own_output_directory() -> None:
    knee = next(p for p in _parsers(build_parser()) if p.prog.endswith("sim knee"))
    assert "(default: out/NAME-knee)" in " ".join(knee.format_help().split())


def test_scenario_check_prints_the_resolved_scenario(
    scenarios_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["scenario", "check", str(scenarios_dir / "smoke.toml"), "--set", "hub.workers=3"])
        == 0
    )
    out = capsys.readouterr().out
    assert 'name = "smoke"' in out
    assert "workers = 3" in out
    assert "[hub.commit]" in out  # defaults filled in


def test_scenario_check_all_shipped(
    scenarios_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = sorted(str(p) for p in scenarios_dir.glob("*.toml"))
    assert main(["scenario", "check", "--quiet", *files]) == 0
    assert capsys.readouterr().out.count(": ok (") == len(files)


def test_bad_scenario_gets_one_line_per_problem_and_exit_2(
    write_scenario: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_scenario('[hub]\nworkers = -3\n[run]\nhorizon = "soon"\n')
    assert main(["scenario", "check", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 2
    assert f"lienthong: {path}: hub.workers = -3: expected an integer ≥ 1 and ≤ 10,000" in lines
    assert any(
        line.startswith(f'lienthong: {path}: run.horizon = "soon": expected') for line in lines
    )
    assert captured.out == ""


def test_bad_override_is_reported(scenarios_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "check", str(scenarios_dir / "smoke.toml"), "--set", "garbage"]) == 2
    assert "expected key.path=value" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["sim", "run", "x.toml", "--seed", "abc"],
            "lienthong sim run: argument --seed: invalid int value: 'abc' "
            "(see lienthong sim run --help)",
        ),
        (
            ["gateway", "serve", "--port", "abc"],
            "lienthong gateway serve: argument --port: invalid int value: 'abc' "
            "(see lienthong gateway serve --help)",
        ),
        (
            ["envelope", "check"],
            "lienthong envelope check: the following arguments are required: FILE "
            "(see lienthong envelope check --help)",
        ),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A flag argparse refuses is one line naming the command, the flag and the value (it was
    the whole usage text, then the error)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [line]


def test_agencies_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agencies", "list", "2025"]) == 0
    out = capsys.readouterr().out
    assert "province: 34" in out
    assert main(["agencies", "list", "1999"]) == 2
    assert "unknown agency directory" in capsys.readouterr().err


def test_installed_entry_point_runs_without_traceback(write_scenario: Callable[..., Path]) -> None:
    exe = Path(sys.executable).parent / "lienthong"
    path = write_scenario("[hub]\nworkers = 0\n")
    done = subprocess.run(
        [str(exe), "scenario", "check", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert (
        done.stderr.strip()
        == f"lienthong: {path}: hub.workers = 0: expected an integer ≥ 1 and ≤ 10,000"
    )


def test_a_bug_is_exit_70_with_its_traceback_never_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 1 means "a check failed" (an SLO, a verdict): a crash must not read as one
    import lienthong.commands.agencies as agencies

    def broken(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(agencies, "_list", broken)
    assert main(["agencies", "list"]) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "RuntimeError: boom" in err
    assert err.strip().splitlines()[-1].startswith("lienthong: internal error (RuntimeError)")


def _entry_point() -> str:
    return str(Path(sys.executable).parent / "lienthong")


def test_a_closed_pipe_ends_quietly_with_141() -> None:
    # `lienthong … | head`: the reader goes before the output is written
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [_entry_point(), "agencies", "list", "2019", "--json"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_one_line_and_exit_74(scenarios_dir: Path) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [_entry_point(), "scenario", "check", str(scenarios_dir / "smoke.toml")],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 74
    assert done.stderr == "lienthong: cannot write to standard output: No space left on device\n"


def test_the_readme_bad_file_example_is_what_a_bad_file_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text.split("A bad file is refused", 1)[1]
    shown = after.split("```\n", 1)[1].split("```", 1)[0].splitlines()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.toml").write_text("[hub]\nworkers = -3\nworkerz = 4\n", encoding="utf-8")
    assert main(["scenario", "check", "bad.toml"]) == 2
    assert capsys.readouterr().err.splitlines() == shown
