"""Shared envelope fixtures: a generated test PKI (never committed keys) and sample packages."""

from __future__ import annotations

import pytest

import edxml
from tests import envelope_fixtures


@pytest.fixture(scope="session")
def pki() -> edxml.DemoPki:
    """A fresh CA and signer for the whole session (RSA key generation takes a moment)."""
    return edxml.DemoPki.generate(organ_id="000.00.00.G22")


@pytest.fixture
def package() -> edxml.Package:
    return envelope_fixtures.new_document()


@pytest.fixture
def package_bytes(package: edxml.Package) -> bytes:
    return edxml.build(package)
