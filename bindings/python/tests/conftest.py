"""Fixtures of the binding's suite: `db` opens a fresh database, SQLite in
memory or, with CRM_TEST_PG set, a fresh schema of that PostgreSQL database
(as tests/helpers.c does for the C tests)."""

from __future__ import annotations

import os
import uuid
from typing import Iterator

import pytest

import libcrm

PG = os.environ.get("CRM_TEST_PG") or None


def fresh_schema() -> str:
    return "py_" + uuid.uuid4().hex[:16]


def open_db(path: str = ":memory:") -> libcrm.Connection:
    if PG and path == ":memory:":
        return libcrm.connect(PG, schema=fresh_schema())
    return libcrm.connect(path)


LEAD = {
        "form": "lead",
        "label": "Lead",
        "fields": [
            {"name": "name", "type": "text", "required": True, "max_length": 100},
            {"name": "phone", "type": "phone"},
            {"name": "email", "type": "email"},
            {"name": "budget", "type": "decimal", "scale": 2},
            {"name": "score", "type": "number"},
            {"name": "visits", "type": "integer"},
            {"name": "vip", "type": "boolean"},
            {"name": "since", "type": "date"},
            {"name": "seen_at", "type": "datetime"},
            {"name": "stage", "type": "enum", "options": ["new", "won", "lost"]},
            {"name": "tags", "type": "multi_enum", "options": ["a", "b", "c"]},
            {"name": "extra", "type": "json"},
        ],
        "unique": [["phone"]],
        "indexes": [["stage"]],
}


@pytest.fixture
def db() -> Iterator[libcrm.Connection]:
    with open_db() as d:
        yield d


@pytest.fixture
def leads(db: libcrm.Connection) -> libcrm.Connection:
    db.apply(LEAD)
    return db


def pytest_terminal_summary(terminalreporter):  # type: ignore[no-untyped-def]
    stats = terminalreporter.stats
    passed = len(stats.get("passed", []))
    failed = len(stats.get("failed", [])) + len(stats.get("error", []))
    terminalreporter.write_line(f"{passed} passed, {failed} failed")
