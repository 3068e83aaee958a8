"""The agency directory: topology plus extra codes, parents, 10^5 codes, the JSON listing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway import AgencyDirectory, GatewayError


def test_topology_codes_and_hub() -> None:
    d = AgencyDirectory.load("2025")
    assert d.hub_code == "000.00.00.G22"
    assert "000.00.00.H29" in d
    assert "000.00.00.G04" not in d  # merged away in 2025


def test_extra_codes_get_parents_by_hierarchy(tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "# subordinate units\n000.00.18.G12,Tổng cục Thuế\n001.00.18.G12\n\n01.02.G22\n"
    )
    d = AgencyDirectory.load("2019", extra=extra)
    top = d.get("000.00.00.G12")
    dept = d.get("000.00.18.G12")
    unit = d.get("001.00.18.G12")
    assert top is not None
    assert dept is not None
    assert unit is not None
    assert (top.pid, dept.pid, unit.pid) == (0, top.id, dept.id)
    assert unit.name == "001.00.18.G12"
    assert "01.02.G22" in d  # non-conforming codes are routable (EDXML.md: real traffic has them)


def test_bad_extra_codes_are_named(tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text("000.00.18.G12\nbad code!\n")
    with pytest.raises(GatewayError, match=r"extra.csv:2: code 'bad code!'"):
        AgencyDirectory.load("2019", extra=extra)


def test_a_directory_of_a_hundred_thousand_codes(tmp_path: Path) -> None:
    # AGENCIES.md: 111,339 agencies on the shared test hub in October 2025.
    extra = tmp_path / "extra.csv"
    codes = [f"{i % 1000:03d}.{i // 1000 % 100:02d}.00.H29" for i in range(1, 100_001)]
    extra.write_text("\n".join(codes))
    d = AgencyDirectory.load("2019", extra=extra)
    topology = {e.code for e in AgencyDirectory.load("2019").entries}
    assert len(d) == len(topology | set(codes))  # 000.00.00.H29 is in both
    assert d.unknown(["000.00.00.H29", codes[-1], "999.99.99.Z99"]) == ["999.99.99.Z99"]
    listing = json.loads(d.listing_json())
    assert listing[0] == {
        "id": 1,
        "pid": 0,
        "code": "000.00.00.G22",
        "name": "Văn phòng Chính phủ",
        "mail": "",
    }
    assert len(listing) == len(d)


def test_unknown_topology_is_named() -> None:
    with pytest.raises(GatewayError, match="unknown agency directory"):
        AgencyDirectory.load("1999")
