"""Errors of the shared scenario and agency model.

LienthongError            anything the CLI reports as one line and exit code 2 (or its
                          ``exit_code``: lienthong.harness.NoVerdictError is 3)
├── DirectoryError        an agency directory file is unreadable or malformed
└── ScenarioError         a scenario file (or a --set override) has problems;
                          ``problems`` holds one Problem per bad key
"""

from __future__ import annotations

from dataclasses import dataclass

from lienthong.toml_text import toml_value

__all__ = ["DirectoryError", "LienthongError", "Problem", "ScenarioError"]


class LienthongError(Exception):
    """Base of the errors the CLI turns into one clear line and a non-zero exit: 2 (bad input)
    unless a subclass names another in ``exit_code``."""

    exit_code: int = 2


class DirectoryError(LienthongError):
    """An agency directory cannot be used."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad value: where, what was found, what was expected."""

    file: str
    key: str
    value: object
    expected: str

    def __str__(self) -> str:
        shown = _show(self.value)
        where = f"{self.key} = {shown}" if shown is not None else self.key
        return f"{self.file}: {where}: {self.expected}"


def _show(value: object) -> str | None:
    if value is _MISSING:
        return None
    try:
        text = toml_value(value)
    except TypeError:
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
MISSING: object = _MISSING


class ScenarioError(LienthongError):
    """A scenario cannot be used; ``problems`` lists every bad value found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
