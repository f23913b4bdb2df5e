import datetime as dt
from decimal import Decimal

import pytest

import libcrm


def test_insert_get_round_trip(leads):
    rec = {"name": "Ann", "phone": "+8613800000001", "budget": Decimal("12000.50"), "score": 1.5, "visits": 3,
           "vip": True, "since": dt.date(2024, 2, 29),
           "seen_at": dt.datetime(2024, 3, 1, 8, 30, 15, 123000, tzinfo=dt.timezone.utc),
           "stage": "won", "tags": ["c", "a"], "extra": {"k": [1, 2, None]}}
    rid = leads.insert("lead", rec)
    got = leads.get("lead", rid)
    assert got["id"] == rid
    for k, v in rec.items():
        if k == "tags":
            assert got[k] == ["a", "c"]
        else:
            assert got[k] == v, k
    assert isinstance(got["budget"], Decimal) and str(got["budget"]) == "12000.50"
    assert got["seen_at"].tzinfo is not None
    assert got["version"] == 1
