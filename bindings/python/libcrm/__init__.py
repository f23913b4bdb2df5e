"""libcrm for Python: forms, records, queries, workflows, reports and the
platform services of libcrm (a C library), on SQLite or PostgreSQL.

Every rule lives in C; this package translates types and errors.
``libcrm.connect(path_or_url)`` opens a database (docs/python.md).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, Optional, Sequence, Union

from ._util import (AccessDenied, BusyError, Column, ConflictError, Error, ExistsError, InputError, LimitError,
                    NotFoundError, OutOfMemory, ProgrammingError, ScriptError, StorageError, ValidationError)
from . import _libcrm

__all__ = ["connect", "Connection", "Cursor", "Report", "Consumer", "Column", "libversion", "Error", "InputError",
           "NotFoundError", "ConflictError", "ValidationError", "AccessDenied", "ScriptError", "BusyError",
           "OutOfMemory", "StorageError", "LimitError", "ProgrammingError", "ExistsError"]

Cursor = _libcrm.Cursor
Report = _libcrm.Report
libversion = _libcrm.libversion

Document = Union[dict, list, str, "os.PathLike[str]"]


class Connection(_libcrm.Connection):
    """A libcrm database. Use it as a context manager (closed on exit); one
    thread at a time (another thread's call meanwhile raises
    ProgrammingError)."""

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def apply(self, document: Document, *, allow_data_loss: bool = False) -> dict:  # type: ignore[override]
        """Apply metadata: a dict or list of documents, JSON text, or a path
        (os.PathLike) of a JSON file. Returns the summary of what changed."""
        return super().apply(_document(document), allow_data_loss=allow_data_loss)

    def plan(self, document: Document, *, allow_data_loss: bool = False) -> dict:  # type: ignore[override]
        """What apply() would do, changing nothing."""
        return super().plan(_document(document), allow_data_loss=allow_data_loss)

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Connection"]:
        """Group calls in one transaction: committed when the block ends,
        rolled back when it raises."""
        self.begin()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    @contextlib.contextmanager
    def acting_as(self, user: Optional[str], roles: Sequence[str] = (), **attrs: Any) -> Iterator["Connection"]:
        """Act as `user` with `roles` and attributes `attrs` inside the block;
        the previous actor comes back after it."""
        previous = self.actor()
        self.set_actor({"user": user, "roles": list(roles), "attrs": attrs})
        try:
            yield self
        finally:
            if previous.get("system"):
                self.set_actor({"system": True, "user": previous["user"]} if previous.get("user") else None)
            else:
                self.set_actor({k: previous[k] for k in ("user", "roles", "attrs") if k in previous})

    def consumer(self, name: str, *, batch: int = 100, **options: Any) -> Consumer:
        """Consumer `name` of the event stream (libcrm creates it with the
        defaults on its first read), set to crm_consumer_set's `options`
        (filter, lease_ms, start) when given."""
        if options:
            self.consumer_set(name, options)
        return Consumer(self, name, batch)


class Consumer:
    """A named consumer of the event stream (db.consumer()). Iterating it
    reads leased batches (consumer_read) until nothing new is left; each
    event is acknowledged when the next one is asked for (or the batch
    ends), so an event whose handling raised or was left by ``break`` is
    delivered again once its lease ends (at least once)."""

    def __init__(self, db: Connection, name: str, batch: int = 100) -> None:
        self.db = db
        self.name = name
        self.batch = batch

    def read(self, limit: Optional[int] = None) -> list:
        """The next events, leased to this reader (acknowledge them with ack())."""
        return self.db.consumer_read(self.name, self.batch if limit is None else limit)

    def ack(self, seq: int) -> None:
        """Acknowledge every event up to and including `seq`."""
        self.db.consumer_ack(self.name, seq)

    def state(self) -> dict:
        """The consumer's state (position, lease, filter, head)."""
        return self.db.consumer_get(self.name)

    def __iter__(self) -> Iterator[dict]:
        while True:
            events = self.read()
            if not events:
                return
            for event in events:
                yield event
                self.ack(event["seq"])


def _document(document: Document) -> Any:
    if isinstance(document, os.PathLike):
        with open(document, encoding="utf-8") as f:
            return f.read()
    return document


def connect(path: Union[str, "os.PathLike[str]"], *, schema: Optional[str] = None, readonly: bool = False,
            existing: bool = False, init: bool = False, timeout: float = 5.0) -> Connection:
    """Open the SQLite database at `path` (":memory:" for a private one) or
    the PostgreSQL database of a ``postgresql://`` URL (tables in `schema`,
    default "crm"). `readonly`, `existing` (never create) and `init`
    (initialise an SQLite file of another application) are crm_open's
    flags; `timeout` is the busy timeout in seconds."""
    return Connection(path, schema=schema, readonly=readonly, existing=existing, init=init, timeout=timeout)
