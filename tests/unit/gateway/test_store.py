"""SqliteStore: fan-out, resends, acknowledgements, isolation, business status, durability."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import (
    Acknowledged,
    Acknowledgement,
    Conflict,
    NewMessage,
    SqliteStore,
    Stored,
    StoreError,
    Unrelated,
)

G22, G01, H29, H01 = "000.00.00.G22", "000.00.00.G01", "000.00.00.H29", "000.00.00.H01"


def package(
    doc_id: str,
    *,
    sender: str = G22,
    to: tuple[str, ...] = (G01, H29),
    document_id: str = "D1",
    body: bytes = b"<p/>",
    sha: str = "s1",
    at: float = 100.0,
) -> NewMessage:
    return NewMessage(
        doc_id=doc_id,
        kind="edoc",
        sender=sender,
        systemid="lt." + sender,
        recipients=to,
        dedup_key=document_id,
        content_sha256=sha,
        document_id=document_id,
        title="Công văn",
        notation="7816/VPCP-TTĐT",
        created_s=at,
        body=body,
    )


def status(doc_id: str, *, sender: str, notify: str, about: str, code: str, sha: str) -> NewMessage:
    return NewMessage(
        doc_id=doc_id,
        kind="status",
        sender=sender,
        systemid="lt." + sender,
        recipients=(notify,),
        dedup_key="sha256:" + sha,
        content_sha256=sha,
        document_id=about,
        title="",
        notation=code,
        created_s=200.0,
        body=b"<s/>",
        status_code=code,
        status_desc=f"status {code}",
        about=about,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "hub.db")
    yield s
    s.close()


def test_a_package_fans_out_to_each_recipient(store: SqliteStore) -> None:
    assert store.write([package("a" * 24)]) == [Stored("a" * 24)]
    for agency in (G01, H29):
        (item,) = store.received(agency, "edoc")
        assert (item.doc_id, item.sender, item.recipient, item.state) == (
            "a" * 24,
            G22,
            agency,
            "pending",
        )
        assert store.content(agency, "a" * 24) == b"<p/>"
    assert store.received(G22, "edoc") == []
    assert store.count_received(G01, "edoc") == 1
    assert store.count_received(G01, "status") == 0


def test_agencies_see_only_their_own_items(store: SqliteStore) -> None:
    store.write([package("a" * 24)])
    assert store.content(H01, "a" * 24) is None  # not a recipient
    assert store.content(G22, "a" * 24) == b"<p/>"  # the sender may fetch what it sent
    assert store.write([Acknowledgement(H01, "a" * 24, "done", "", 1.0)]) == [Acknowledged(False)]
    assert store.sent(G01, "edoc") == []
    assert store.received(H01, "edoc") == []


def test_resends_return_the_original_and_conflicts_are_named(store: SqliteStore) -> None:
    store.write([package("a" * 24)])
    outcomes = store.write(
        [package("b" * 24), package("c" * 24, sha="other"), package("d" * 24, document_id="D2")]
    )
    assert outcomes == [Stored("a" * 24, duplicate=True), Conflict("a" * 24), Stored("d" * 24)]
    assert store.count_received(G01, "edoc") == 2  # nothing new stored for the resend


def test_same_document_id_from_two_senders_is_two_documents(store: SqliteStore) -> None:
    assert store.write([package("a" * 24), package("b" * 24, sender=H01)]) == [
        Stored("a" * 24),
        Stored("b" * 24),
    ]


def test_items_stay_listed_until_acknowledged_done(store: SqliteStore) -> None:
    store.write([package("a" * 24)])
    for state in ("processing", "fail"):
        ack = Acknowledgement(G01, "a" * 24, state, "x", 150.0)
        assert store.write([ack]) == [Acknowledged(True)]
        assert [i.state for i in store.received(G01, "edoc")] == [state]
    store.write([Acknowledgement(G01, "a" * 24, "done", "", 160.0)])
    assert store.received(G01, "edoc") == []
    assert store.count_received(G01, "edoc") == 0
    assert len(store.received(H29, "edoc")) == 1  # the other recipient has not acknowledged
    assert store.content(G01, "a" * 24) == b"<p/>"  # still fetchable after done


def test_done_is_final_a_late_ack_changes_nothing(store: SqliteStore) -> None:
    store.write([package("b" * 24)])
    store.write([Acknowledgement(G01, "b" * 24, "done", "ok", 160.0)])
    for state in ("processing", "fail"):  # a late or retried ack after done
        assert store.write([Acknowledgement(G01, "b" * 24, state, "late", 170.0)]) == [
            Acknowledged(True)
        ]
    assert store.received(G01, "edoc") == []
    (row,) = [r for r in store.sent(G22, "edoc", doc_id="b" * 24) if r.recipient == G01]
    assert (row.state, row.state_desc, row.received_s) == ("done", "ok", 160.0)


def test_sent_list_shows_transport_and_latest_business_status(store: SqliteStore) -> None:
    store.write([package("a" * 24)])
    store.write([Acknowledgement(G01, "a" * 24, "done", "", 160.0)])
    store.write(
        [
            status("s" * 24, sender=G01, notify=G22, about="D1", code="01", sha="x1"),
            status("t" * 24, sender=G01, notify=G22, about="D1", code="03", sha="x2"),
        ]
    )
    rows = {r.recipient: r for r in store.sent(G22, "edoc", doc_id="a" * 24)}
    assert (rows[G01].state, rows[G01].received_s, rows[G01].business_status) == (
        "done",
        160.0,
        "03",
    )
    assert (rows[H29].state, rows[H29].received_s, rows[H29].business_status) == (
        "pending",
        None,
        "",
    )
    (st1, st2) = store.received(G22, "status")
    assert (st1.doc_id, st2.doc_id) == ("s" * 24, "t" * 24)


def test_a_status_about_a_document_its_parties_do_not_share_is_not_stored(
    store: SqliteStore,
) -> None:
    store.write([package("a" * 24)])  # G22 sent D1 to G01 and H29
    outcomes = store.write(
        [
            # H01 never received D1; G01 did, but from G22, not from H29; no one sent D9
            status("u" * 24, sender=H01, notify=G22, about="D1", code="02", sha="u1"),
            status("v" * 24, sender=G01, notify=H29, about="D1", code="02", sha="v1"),
            status("w" * 24, sender=G01, notify=G22, about="D9", code="01", sha="w1"),
            # a recipient answers its sender; the sender recalls from a recipient (13)
            status("x" * 24, sender=H29, notify=G22, about="D1", code="01", sha="x1"),
            status("y" * 24, sender=G22, notify=G01, about="D1", code="13", sha="y1"),
        ]
    )
    assert outcomes == [
        Unrelated("D1"),
        Unrelated("D1"),
        Unrelated("D9"),
        Stored("x" * 24),
        Stored("y" * 24),
    ]
    assert [i.doc_id for i in store.received(G22, "status")] == ["x" * 24]
    assert [i.doc_id for i in store.received(G01, "status")] == ["y" * 24]
    assert store.received(H29, "status") == []
    assert store.content(G22, "u" * 24) is None
    rows = {r.recipient: r.business_status for r in store.sent(G22, "edoc", doc_id="a" * 24)}
    assert rows == {G01: "", H29: "01"}


def test_received_list_filters_by_time_and_limit(store: SqliteStore) -> None:
    store.write([package(f"{i:024x}", document_id=f"D{i}", at=float(i)) for i in range(10)])
    assert [i.created_s for i in store.received(G01, "edoc", from_s=3.0, to_s=6.0)] == [
        3.0,
        4.0,
        5.0,
    ]
    assert len(store.received(G01, "edoc", limit=4)) == 4


def test_reopening_keeps_everything_and_foreign_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    first = SqliteStore(path)
    first.write([package("a" * 24)])
    first.close()
    again = SqliteStore(path)
    assert again.content(G01, "a" * 24) == b"<p/>"
    again.close()
    with pytest.raises(StoreError, match="the store is closed"):
        again.received(G01, "edoc")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="expected a gateway database"):
        SqliteStore(other)


def test_wal_and_full_sync_are_in_force(store: SqliteStore) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_failing_write_fails_alone(store: SqliteStore) -> None:
    # The same doc_id twice in one batch violates the primary key: only the second fails.
    outcomes = store.write(
        [
            package("a" * 24),
            package("a" * 24, document_id="D2"),
            package("b" * 24, document_id="D3"),
        ]
    )
    assert outcomes[0] == Stored("a" * 24)
    assert isinstance(outcomes[1], StoreError)
    assert outcomes[2] == Stored("b" * 24)
