"""The agency directories: counts, codes, names, confidence flags, and refusal of bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from lienthong.agencies import available_directories, load_directory
from lienthong.errors import DirectoryError

HEADER = "code,name,kind,region,weight,weight_basis,confirmed,code_basis,members\n"
GOOD_HUB = "000.00.00.G22,Văn phòng Chính phủ,hub,capital,3,assumption,true,AGENCIES.md,\n"
GOOD_ROW = "000.00.00.H24,Hà Nội,province,red-river-delta,1,assumption,false,inferred,\n"


def test_bundled_directories() -> None:
    assert available_directories() == ("2019", "2025")


def test_2019_is_vpcp_30_central_bodies_and_63_provinces() -> None:
    d = load_directory("2019")
    assert len(d.agencies) == 1 + 30 + 63
    assert d.count("hub") == 1
    assert d.count("ministry") + d.count("central") == 30
    assert d.count("ministry") == 21  # G01-G21
    assert d.count("province") == 63
    hub = d.by_code("000.00.00.G22")
    assert (hub.kind, hub.name, hub.confirmed) == ("hub", "Văn phòng Chính phủ", True)
    assert d.by_code("000.00.00.H29").name == "TP Hồ Chí Minh"
    assert d.by_code("000.00.00.H15").name == "Đà Nẵng"
    assert len(set(d.codes())) == len(d.codes())


def test_inferred_codes_are_never_marked_confirmed() -> None:
    d = load_directory("2019")
    confirmed_provinces = {a.code[-3:] for a in d.agencies if a.kind == "province" and a.confirmed}
    # AGENCIES.md confirms exactly these provincial codes; the rest follow alphabetical order.
    assert confirmed_provinces == {"H14", "H29", "H37", "H41", "H49", "H56", "H57"}
    assert not d.by_code("000.00.00.G13").confirmed  # marked "(inferred)" in AGENCIES.md
    unconfirmed_central = [a for a in d.agencies if a.kind == "central" and not a.confirmed]
    assert len(unconfirmed_central) == 4
    assert all("not confirmed" in a.code_basis for a in unconfirmed_central)
    for agency in d.agencies:
        assert agency.weight_basis, agency.code


def test_2025_reorganised_topology() -> None:
    d = load_directory("2025")
    assert d.count("province") == 34
    assert d.count("hub") + d.count("ministry") == 17
    codes = set(d.codes())
    for gone in ("G04", "G05", "G07", "G13", "G14"):
        assert f"000.00.00.{gone}" not in codes
    assert d.by_code("000.00.00.G10").name == "Bộ Nông nghiệp và Môi trường"
    assert d.by_code("000.00.00.G21").name == "Bộ Dân tộc và Tôn giáo"
    # Merged units keep the code of the member whose name they take, and that is an inference.
    hcmc = d.by_code("000.00.00.H29")
    assert set(hcmc.members) == {"000.00.00.H29", "000.00.00.H09", "000.00.00.H02"}
    assert not hcmc.confirmed
    merged = [a for a in d.agencies if a.kind == "province" and a.members]
    assert len(merged) == 23
    assert sum(len(a.members) for a in merged) == 52
    assert not any(a.confirmed for a in merged)
    # Every 2019 province is either unchanged or a member of exactly one 2025 unit.
    old = {a.code for a in load_directory("2019").agencies if a.kind == "province"}
    unchanged = {a.code for a in d.agencies if a.kind == "province" and not a.members}
    members = [m for a in merged for m in a.members]
    assert len(members) == len(set(members))
    assert unchanged | set(members) == old


def test_2025_weights_sum_the_members() -> None:
    d25, d19 = load_directory("2025"), load_directory("2019")
    for agency in d25.agencies:
        if agency.members:
            assert agency.weight == pytest.approx(
                sum(d19.by_code(m).weight for m in agency.members)
            )


def _write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "dir.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "column", "expected"),
    [
        ("bad code!,X,province,r,1,b,true,c,\n", "code", "identifier"),
        ("000.00.00.H24,,province,r,1,b,true,c,\n", "name", "non-empty"),
        ("000.00.00.H24,X,village,r,1,b,true,c,\n", "kind", "one of hub"),
        ("000.00.00.H24,X,province,,1,b,true,c,\n", "region", "region"),
        ("000.00.00.H24,X,province,r,-1,b,true,c,\n", "weight", "> 0"),
        ("000.00.00.H24,X,province,r,heavy,b,true,c,\n", "weight", "> 0"),
        ("000.00.00.H24,X,province,r,1,,true,c,\n", "weight_basis", "basis"),
        ("000.00.00.H24,X,province,r,1,b,yes,c,\n", "confirmed", "true or false"),
        ("000.00.00.H24,X,province,r,1,b,true,,\n", "code_basis", "where the code"),
        ("000.00.00.G22,X,province,r,1,b,true,c,\n", "code", "not already used on line 2"),
        ("000.00.00.H24,X,province\n", "code", "columns"),
    ],
)
def test_bad_rows_are_refused_naming_file_line_column_value(
    tmp_path: Path, row: str, column: str, expected: str
) -> None:
    path = _write(tmp_path, GOOD_HUB + row)
    with pytest.raises(DirectoryError) as info:
        load_directory(path)
    message = str(info.value)
    assert message.startswith(f"{path}:3: {column} = ")
    assert expected in message


def test_bad_header_missing_hub_and_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="header"):
        load_directory(_write(tmp_path, GOOD_HUB, header="code,name\n"))
    with pytest.raises(DirectoryError, match="rows of kind hub: expected exactly one"):
        load_directory(_write(tmp_path, GOOD_ROW))
    with pytest.raises(
        DirectoryError, match="unknown agency directory; expected one of 2019, 2025"
    ):
        load_directory("1999")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(HEADER.encode() + "000.00.00.G22,Bà,hub,c,1,b,true,c,\n".encode("latin-1"))
    with pytest.raises(DirectoryError, match="not UTF-8"):
        load_directory(bad)


def test_a_spreadsheet_bom_is_accepted_and_a_quoted_line_break_refused(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + GOOD_HUB + GOOD_ROW).encode())
    assert len(load_directory(path).agencies) == 2
    for name in ('"Hà\nNội"', '"Hà\u2028Nội"'):
        path = _write(tmp_path, GOOD_HUB + GOOD_ROW.replace("Hà Nội", name))
        with pytest.raises(DirectoryError) as info:
            load_directory(path)
        # the csv module reads the quoted break as part of the field; the row ends a line later
        assert str(info.value).startswith(f"{path}:")
        assert "name = " in str(info.value)
        assert str(info.value).endswith(
            "expected text on one line (no line breaks or control characters)"
        )
