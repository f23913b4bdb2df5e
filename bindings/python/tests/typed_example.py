"""A typed use of the binding, checked with `mypy --strict` by
bindings/python/test (it also runs as a test)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import libcrm


def example(path: str = ":memory:") -> list[dict[str, Any]]:
    with libcrm.connect(path) as db:
        db.apply({"form": "lead", "fields": [{"name": "name", "type": "text", "required": True},
                                             {"name": "budget", "type": "decimal", "scale": 2},
                                             {"name": "since", "type": "date"}]})
        rid: int = db.insert("lead", {"name": "Ann", "budget": Decimal("1.50"), "since": dt.date(2024, 1, 2)})
        n: int = db.insert_many("lead", ({"name": f"n{i}"} for i in range(3)))
        assert n == 3
        with db.transaction():
            db.update("lead", rid, {"budget": Decimal("2.00")}, version=1)
        try:
            db.insert("lead", {})
        except libcrm.ValidationError as e:
            fields: list[str] = [x["field"] for x in e.errors]
            assert fields == ["name"]
        cur: libcrm.Cursor = db.query("lead", {"field": "name", "op": "starts_with", "value": "n"}, sort="-name")
        return list(cur)


def test_typed_example() -> None:
    assert [r["name"] for r in example()] == ["n2", "n1", "n0"]
