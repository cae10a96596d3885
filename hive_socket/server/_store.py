"""SQLite persistence: ``notify.user`` notifications until delivered, and idempotency keys.

One connection, used only by one worker thread: every call is handed to that thread, so the
event loop never waits on the disk, and the calls run one at a time in the order made.
The database is in WAL mode with ``synchronous=FULL``: a notification is on disk before the
server answers, so a crash (even SIGKILL or a power cut) loses no accepted notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import attrs

from ._responses import Answer

__all__ = ["DELIVERED_RETENTION", "NotificationStore", "StoredNotification"]

P = ParamSpec("P")
T = TypeVar("T")

DELIVERED_RETENTION = 7 * 24 * 3600.0
"""Seconds a delivered notification stays in the database (for inspection) before purging."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    project_id   TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    event        TEXT NOT NULL,
    created_at   REAL NOT NULL,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS notifications_undelivered
    ON notifications (project_id, user_id, seq) WHERE delivered_at IS NULL;
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    status     INTEGER NOT NULL,
    body       BLOB NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
"""


@attrs.frozen
class StoredNotification:
    """A ``notification:new`` event waiting for (or past) delivery to one user."""

    id: str
    project_id: str
    user_id: str
    event: dict[str, object]
    created_at: float


class NotificationStore:
    """The server's SQLite database; open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._executor: ThreadPoolExecutor | None = None
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        """Open (creating if needed) the database file."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hive-socket-db")
        await self._run(self._open)

    async def close(self) -> None:
        """Close the database; calls after this fail."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(executor, self._close)
        finally:
            # The worker is idle now, so this returns at once.
            executor.shutdown(wait=False)

    async def add_notification(
        self,
        notification: StoredNotification,
        *,
        idempotency_key: str | None,
        scope: str,
        answer: Answer,
        not_before: float,
    ) -> Answer | None:
        """Store ``notification`` and, with it, ``answer`` under ``idempotency_key``.

        Returns:
            ``None`` once stored; or, when ``idempotency_key`` was already stored at or
            after ``not_before``, that first answer, and nothing is stored.
        """
        return await self._run(
            self._add_notification, notification, idempotency_key, scope, answer, not_before
        )

    async def mark_delivered(
        self,
        notification_ids: Sequence[str],
        *,
        at: float,
        idempotency_key: str | None = None,
        scope: str = "",
        answer: Answer | None = None,
    ) -> None:
        """Record that these notifications reached a socket, and the final answer of the
        request that sent them."""
        await self._run(
            self._mark_delivered, list(notification_ids), at, idempotency_key, scope, answer
        )

    async def undelivered(self, project_id: str, user_id: str) -> list[StoredNotification]:
        """The user's notifications not yet delivered, oldest first."""
        return await self._run(self._undelivered, project_id, user_id)

    async def answer_for(self, scope: str, key: str, *, not_before: float) -> Answer | None:
        """The answer stored under ``key`` at or after ``not_before``, if any."""
        return await self._run(self._answer_for, scope, key, not_before)

    async def purge(self, *, keys_before: float, delivered_before: float) -> None:
        """Delete idempotency keys and delivered notifications older than these times."""
        await self._run(self._purge, keys_before, delivered_before)

    async def _run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._executor is None:
            raise RuntimeError("the notification store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))

    # Everything below runs on the worker thread.

    @property
    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the notification store is not open")
        return self._db

    def _open(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=5000")
            db.executescript(_SCHEMA)
        except BaseException:
            db.close()
            raise
        self._db = db

    def _close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()

    def _add_notification(
        self,
        notification: StoredNotification,
        idempotency_key: str | None,
        scope: str,
        answer: Answer,
        not_before: float,
    ) -> Answer | None:
        db = self._connection
        with _transaction(db):
            if idempotency_key is not None:
                earlier = self._answer_for(scope, idempotency_key, not_before)
                if earlier is not None:
                    return earlier
                db.execute(
                    "INSERT OR REPLACE INTO idempotency_keys (scope, key, status, body, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (scope, idempotency_key, answer.status, answer.body, notification.created_at),
                )
            db.execute(
                "INSERT INTO notifications (id, project_id, user_id, event, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    notification.id,
                    notification.project_id,
                    notification.user_id,
                    json.dumps(notification.event, ensure_ascii=False),
                    notification.created_at,
                ),
            )
        return None

    def _mark_delivered(
        self,
        notification_ids: list[str],
        at: float,
        idempotency_key: str | None,
        scope: str,
        answer: Answer | None,
    ) -> None:
        db = self._connection
        # Not worth an fsync: should a power cut lose this mark, the notification is only
        # delivered again. The next FULL commit syncs it anyway (the WAL is written in order).
        db.execute("PRAGMA synchronous=NORMAL")
        try:
            self._record_delivery(db, notification_ids, at, idempotency_key, scope, answer)
        finally:
            db.execute("PRAGMA synchronous=FULL")

    @staticmethod
    def _record_delivery(
        db: sqlite3.Connection,
        notification_ids: list[str],
        at: float,
        idempotency_key: str | None,
        scope: str,
        answer: Answer | None,
    ) -> None:
        with _transaction(db):
            db.executemany(
                "UPDATE notifications SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL",
                [(at, notification_id) for notification_id in notification_ids],
            )
            if idempotency_key is not None and answer is not None:
                db.execute(
                    "UPDATE idempotency_keys SET status = ?, body = ? WHERE scope = ? AND key = ?",
                    (answer.status, answer.body, scope, idempotency_key),
                )

    def _undelivered(self, project_id: str, user_id: str) -> list[StoredNotification]:
        rows = self._connection.execute(
            "SELECT id, event, created_at FROM notifications"
            " WHERE project_id = ? AND user_id = ? AND delivered_at IS NULL ORDER BY seq",
            (project_id, user_id),
        ).fetchall()
        return [
            StoredNotification(
                id=notification_id,
                project_id=project_id,
                user_id=user_id,
                event=json.loads(event),
                created_at=created_at,
            )
            for notification_id, event, created_at in rows
        ]

    def _answer_for(self, scope: str, key: str, not_before: float) -> Answer | None:
        row = self._connection.execute(
            "SELECT status, body FROM idempotency_keys"
            " WHERE scope = ? AND key = ? AND created_at >= ?",
            (scope, key, not_before),
        ).fetchone()
        return None if row is None else Answer(status=row[0], body=bytes(row[1]))

    def _purge(self, keys_before: float, delivered_before: float) -> None:
        db = self._connection
        with _transaction(db):
            db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (keys_before,))
            db.execute(
                "DELETE FROM notifications WHERE delivered_at IS NOT NULL AND delivered_at < ?",
                (delivered_before,),
            )


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
