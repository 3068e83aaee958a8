"""The :class:`Store` on SQLite: WAL journal, ``synchronous=FULL`` by default.

One write connection, used only by the group-commit writer's thread: a batch is one
``BEGIN IMMEDIATE … COMMIT``, so one WAL fsync covers every row of it. Readers get a
connection per thread (WAL lets them read while the writer writes). Package bytes live in the
database beside their metadata: one fsync then covers both, where files beside the database
would each need their own before the commit that names them (measured: see bench/).

    >>> import tempfile, pathlib
    >>> store = SqliteStore(pathlib.Path(tempfile.mkdtemp()) / "hub.db")
    >>> store.count_received("000.00.00.G01", "edoc")
    0
    >>> store.close()
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway._errors import StoreError
from gateway._store import (
    Acknowledged,
    Acknowledgement,
    Conflict,
    MessageKind,
    Outcome,
    ReceivedItem,
    SentItem,
    Stored,
    Unrelated,
    Write,
)

__all__ = ["SqliteStore"]

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE message (
    doc_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    sender TEXT NOT NULL,
    systemid TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    document_id TEXT NOT NULL,
    title TEXT NOT NULL,
    notation TEXT NOT NULL,
    status_code TEXT NOT NULL,
    status_desc TEXT NOT NULL,
    about TEXT NOT NULL,
    created_s REAL NOT NULL,
    body BLOB NOT NULL  -- last: listing columns stay on the row's first page
);  -- a rowid table: WITHOUT ROWID suits small rows only
CREATE UNIQUE INDEX message_resend ON message (sender, kind, dedup_key);
CREATE INDEX message_sent ON message (sender, kind, created_s);
CREATE TABLE delivery (
    doc_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    sender TEXT NOT NULL,
    state TEXT NOT NULL,
    state_desc TEXT NOT NULL,
    created_s REAL NOT NULL,
    updated_s REAL NOT NULL,
    received_s REAL,
    business_status TEXT NOT NULL DEFAULT '',
    business_desc TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (doc_id, recipient)
) WITHOUT ROWID;
-- what a recipient's poll reads: only deliveries not yet acknowledged done
CREATE INDEX delivery_waiting ON delivery (recipient, kind, created_s) WHERE state != 'done';
"""
_INSERT_MESSAGE = (
    "INSERT INTO message (doc_id, kind, sender, systemid, dedup_key, content_sha256, "
    "document_id, title, notation, status_code, status_desc, about, created_s, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_DELIVERY = (
    "INSERT INTO delivery (doc_id, recipient, kind, sender, state, state_desc, created_s, "
    "updated_s) VALUES (?, ?, ?, ?, 'pending', '', ?, ?)"
)
_FIND_RESEND = (
    "SELECT doc_id, content_sha256 FROM message WHERE sender = ? AND kind = ? AND dedup_key = ?"
)
# A status may answer a package its sender received from the party it notifies (01–06, 15,
# 16), or one it sent to that party (13, a recall): EDXML.md's "sent by" column. Each half is
# one lookup in message_resend, then the delivery's primary key.
_RELATED = (
    "SELECT EXISTS (SELECT 1 FROM message m JOIN delivery d ON d.doc_id = m.doc_id "
    "WHERE m.sender = ? AND m.kind = 'edoc' AND m.dedup_key = ? AND d.recipient = ?) "
    "OR EXISTS (SELECT 1 FROM message m JOIN delivery d ON d.doc_id = m.doc_id "
    "WHERE m.sender = ? AND m.kind = 'edoc' AND m.dedup_key = ? AND d.recipient = ?)"
)
_BUSINESS_STATUS = (
    "UPDATE delivery SET business_status = ?, business_desc = ? WHERE recipient = ? AND "
    "doc_id = (SELECT doc_id FROM message WHERE sender = ? AND kind = 'edoc' AND dedup_key = ?)"
)
# ``done`` is final: a later processing/fail (a late or retried ack) finds the item and
# changes nothing, so an acknowledged delivery never comes back to the list. (In SET, every
# ``state`` is the row's value before the update.)
_ACK = (
    "UPDATE delivery SET "
    "state = CASE WHEN state = 'done' THEN state ELSE ? END, "
    "state_desc = CASE WHEN state = 'done' THEN state_desc ELSE ? END, "
    "updated_s = CASE WHEN state = 'done' THEN updated_s ELSE ? END, "
    "received_s = CASE WHEN ? = 'done' THEN coalesce(received_s, ?) ELSE received_s END "
    "WHERE doc_id = ? AND recipient = ?"
)


class SqliteStore:
    """SQLite storage at ``path`` (created when missing). Raises StoreError when the file is
    not a gateway database or cannot be opened."""

    def __init__(
        self, path: str | Path, *, synchronous: str = "FULL", wal_autocheckpoint: int = 4000
    ) -> None:
        self.path = Path(path)
        self._synchronous = synchronous
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a missing mount, a directory not ours, a file in the way
            raise StoreError(
                f"{self.path}: cannot create its directory {self.path.parent}: {exc.strerror}"
            ) from None
        try:
            self._writer = self._connect()
            self._writer.execute("PRAGMA journal_mode = WAL")
            # Pages between checkpoints; a checkpoint runs inside some batch's commit.
            self._writer.execute(f"PRAGMA wal_autocheckpoint = {int(wal_autocheckpoint)}")
            self._prepare_schema()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open as a gateway database: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        conn.execute("PRAGMA busy_timeout = 10000")
        return conn

    def _prepare_schema(self) -> None:
        version = self._writer.execute("PRAGMA user_version").fetchone()[0]
        tables = self._writer.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()[0]
        if version == _SCHEMA_VERSION:
            return
        if version != 0 or tables:
            raise StoreError(
                f"{self.path}: schema version {version} with {tables} tables: expected a gateway "
                f"database (version {_SCHEMA_VERSION}) or a new file"
            )
        self._writer.executescript(
            f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {_SCHEMA_VERSION}; COMMIT;"
        )

    # -- writes (writer thread only) -------------------------------------------------------

    def write(self, writes: Sequence[Write]) -> list[Outcome | Exception]:
        self._check_open()
        conn = self._writer
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                outcomes: list[Outcome | Exception] = [self._apply(conn, w) for w in writes]
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return outcomes
        except sqlite3.Error as exc:
            if len(writes) == 1:
                return [StoreError(f"{self.path}: write failed: {exc}")]
        # One write spoiled the batch: apply them one by one so only that one fails.
        return [self.write([w])[0] for w in writes]

    def _apply(self, conn: sqlite3.Connection, write: Write) -> Outcome:
        if isinstance(write, Acknowledgement):
            w = write
            cur = conn.execute(
                _ACK, (w.state, w.description, w.at_s, w.state, w.at_s, w.doc_id, w.agency)
            )
            return Acknowledged(found=cur.rowcount > 0)
        m = write
        earlier = conn.execute(_FIND_RESEND, (m.sender, m.kind, m.dedup_key)).fetchone()
        if earlier is not None:
            doc_id, sha = earlier
            return Stored(doc_id, duplicate=True) if sha == m.content_sha256 else Conflict(doc_id)
        if m.kind == "status":
            notify = m.recipients[0]
            args = (notify, m.about, m.sender, m.sender, m.about, notify)
            if not conn.execute(_RELATED, args).fetchone()[0]:
                return Unrelated(m.about)
        conn.execute(
            _INSERT_MESSAGE,
            (
                m.doc_id,
                m.kind,
                m.sender,
                m.systemid,
                m.dedup_key,
                m.content_sha256,
                m.document_id,
                m.title,
                m.notation,
                m.status_code,
                m.status_desc,
                m.about,
                m.created_s,
                m.body,
            ),
        )
        conn.executemany(
            _INSERT_DELIVERY,
            [(m.doc_id, r, m.kind, m.sender, m.created_s, m.created_s) for r in m.recipients],
        )
        if m.kind == "status":
            # The latest business status of the package this answers, on the sender's view of
            # this recipient's delivery (getSentEdocList).
            conn.execute(
                _BUSINESS_STATUS,
                (m.status_code, m.status_desc, m.sender, m.recipients[0], m.about),
            )
        return Stored(m.doc_id)

    # -- reads (any thread) ----------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        self._check_open()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._connect()
                conn.execute("PRAGMA query_only = 1")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot open for reading: {exc}") from exc
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def received(
        self,
        agency: str,
        kind: MessageKind,
        *,
        from_s: float | None = None,
        to_s: float | None = None,
        limit: int = 1000,
    ) -> list[ReceivedItem]:
        sql = (
            "SELECT doc_id, kind, sender, recipient, created_s, updated_s, state, state_desc "
            "FROM delivery WHERE recipient = ? AND kind = ? AND state != 'done'"
        )
        args: list[object] = [agency, kind]
        if from_s is not None:
            sql += " AND created_s >= ?"
            args.append(from_s)
        if to_s is not None:
            sql += " AND created_s < ?"
            args.append(to_s)
        sql += " ORDER BY created_s LIMIT ?"
        args.append(limit)
        rows = self._read(sql, args)
        return [ReceivedItem(*row) for row in rows]

    def count_received(self, agency: str, kind: MessageKind) -> int:
        rows = self._read(
            "SELECT count(*) FROM delivery WHERE recipient = ? AND kind = ? AND state != 'done'",
            [agency, kind],
        )
        return int(rows[0][0])

    def content(self, agency: str, doc_id: str) -> bytes | None:
        rows = self._read(
            "SELECT body FROM message WHERE doc_id = ? AND (sender = ? OR EXISTS ("
            "SELECT 1 FROM delivery WHERE delivery.doc_id = message.doc_id AND recipient = ?))",
            [doc_id, agency, agency],
        )
        return bytes(rows[0][0]) if rows else None

    def sent(
        self, agency: str, kind: MessageKind, *, doc_id: str | None = None, limit: int = 1000
    ) -> list[SentItem]:
        sql = (
            "SELECT m.doc_id, m.sender, d.recipient, m.title, m.notation, m.created_s, "
            "d.received_s, d.state, d.state_desc, d.business_status, d.business_desc "
            "FROM message m JOIN delivery d ON d.doc_id = m.doc_id "
            "WHERE m.sender = ? AND m.kind = ?"
        )
        args: list[object] = [agency, kind]
        if doc_id is not None:
            sql += " AND m.doc_id = ?"
            args.append(doc_id)
        sql += " ORDER BY m.created_s DESC, d.recipient LIMIT ?"
        args.append(limit)
        return [SentItem(*row) for row in self._read(sql, args)]

    def _read(self, sql: str, args: Sequence[object]) -> list[Any]:
        try:
            return self._reader().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: read failed: {exc}") from exc

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._writer.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self.path}: the store is closed")
