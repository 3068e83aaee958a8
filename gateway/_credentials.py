"""Who may call the hub: systemid → secret and the agencies that system speaks for.

A credentials file is JSON (readable, and written by ``lienthong gateway credentials``)::

    {"systems": [
      {"systemid": "lt.000.00.00.G22", "secret": "9f…", "agencies": ["000.00.00.G22"]}
    ]}

A system may speak for several agencies (an LGSP connects a whole province); an agency
belongs to at most one system.

    >>> creds = Credentials.generate(["000.00.00.G22", "000.00.00.H29"])
    >>> creds.system_for("000.00.00.H29").systemid
    'lt.000.00.00.H29'
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gateway._errors import CredentialsError

__all__ = ["Credentials", "System"]

_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class System:
    """One connecting system: its id, shared secret and the agencies it speaks for."""

    systemid: str
    secret: str
    agencies: tuple[str, ...]


class Credentials:
    """An immutable set of systems, indexed by systemid and by agency."""

    __slots__ = ("_by_agency", "_by_id", "_systems")

    def __init__(self, systems: Iterable[System]) -> None:
        self._systems = tuple(systems)
        self._by_id: dict[str, System] = {}
        self._by_agency: dict[str, System] = {}
        for system in self._systems:
            if system.systemid in self._by_id:
                raise CredentialsError(f"systemid {system.systemid!r} appears twice")
            self._by_id[system.systemid] = system
            for code in system.agencies:
                other = self._by_agency.get(code)
                if other is not None:
                    raise CredentialsError(
                        f"agency {code!r} belongs to both {other.systemid!r} and "
                        f"{system.systemid!r}: expected one system per agency"
                    )
                self._by_agency[code] = system

    @property
    def systems(self) -> tuple[System, ...]:
        return self._systems

    def secret(self, systemid: str) -> str | None:
        """The secret of ``systemid``, None when no such system is registered."""
        system = self._by_id.get(systemid)
        return system.secret if system is not None else None

    def system(self, systemid: str) -> System | None:
        return self._by_id.get(systemid)

    def system_for(self, agency: str) -> System:
        """The system speaking for ``agency``; raises KeyError when none does."""
        return self._by_agency[agency]

    def __len__(self) -> int:
        return len(self._systems)

    @classmethod
    def generate(cls, agencies: Iterable[str], *, prefix: str = "lt.") -> Credentials:
        """One system per agency, ``<prefix><code>``, each with a fresh random secret.

        Secrets come from :mod:`secrets` (the OS's cryptographic source), never from a seeded
        generator: they protect a hub, they are not part of a reproducible result.
        """
        return cls(
            System(f"{prefix}{code}", secrets.token_hex(_SECRET_BYTES), (code,))
            for code in agencies
        )

    @classmethod
    def load(cls, path: str | Path) -> Credentials:
        """Read a credentials file. Raises CredentialsError naming the file, entry and field."""
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CredentialsError(f"{path}: cannot read: {exc.strerror}") from exc
        except (UnicodeDecodeError, ValueError) as exc:
            raise CredentialsError(f"{path}: not a JSON file ({exc})") from exc
        entries = raw.get("systems") if isinstance(raw, dict) else None
        if not isinstance(entries, list):
            raise CredentialsError(f'{path}: expected an object {{"systems": [...]}}')
        systems: list[System] = []
        for i, entry in enumerate(entries):
            where = f"{path}: systems[{i}]"
            if not isinstance(entry, dict):
                raise CredentialsError(f"{where}: expected an object")
            systemid, secret, agencies = (
                entry.get("systemid"),
                entry.get("secret"),
                entry.get("agencies"),
            )
            if not isinstance(systemid, str) or not systemid.strip():
                raise CredentialsError(f"{where}.systemid = {systemid!r}: expected a non-empty id")
            if not isinstance(secret, str) or len(secret) < 8:
                raise CredentialsError(
                    f"{where}.secret: expected a string of at least 8 characters"
                )
            if (
                not isinstance(agencies, list)
                or not agencies
                or not all(isinstance(a, str) and a for a in agencies)
            ):
                raise CredentialsError(
                    f"{where}.agencies = {agencies!r}: expected a non-empty list of agency codes"
                )
            systems.append(System(systemid, secret, tuple(agencies)))
        try:
            return cls(systems)
        except CredentialsError as exc:
            raise CredentialsError(f"{path}: {exc}") from None

    def save(self, path: str | Path) -> Path:
        """Write the file (mode 0600: it holds secrets) and return its path."""
        path = Path(path)
        body = {
            "systems": [
                {"systemid": s.systemid, "secret": s.secret, "agencies": list(s.agencies)}
                for s in self._systems
            ]
        }
        text = json.dumps(body, ensure_ascii=False, indent=1) + "\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            raise CredentialsError(f"{path}: cannot write: {exc.strerror}") from exc
        return path
