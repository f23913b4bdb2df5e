"""Records: every type both ways, single writes, versions, upsert, batches,
transactions, metadata."""

import datetime as dt
import json
from decimal import Decimal

import pytest

import libcrm
from conftest import LEAD


def full_record(i=1):
    return {"name": f"Ann {i}", "phone": f"+86138{i:08d}", "email": f"ann{i}@example.com",
            "budget": Decimal("12000.50"), "score": 1.5, "visits": 3, "vip": True, "since": dt.date(2024, 2, 29),
            "seen_at": dt.datetime(2024, 3, 1, 8, 30, 15, 123000, tzinfo=dt.timezone.utc),
            "stage": "won", "tags": ["c", "a"], "extra": {"k": [1, 2, None], "s": "x"}}


def test_insert_get_round_trip(leads):
    rec = full_record()
    rid = leads.insert("lead", rec)
    got = leads.get("lead", rid)
    assert got["id"] == rid
    for k, v in rec.items():
        assert got[k] == (["a", "c"] if k == "tags" else v), k
    assert isinstance(got["budget"], Decimal) and str(got["budget"]) == "12000.50"
    assert type(got["since"]) is dt.date
    assert got["seen_at"].tzinfo is not None and got["seen_at"].utcoffset() == dt.timedelta(0)
    assert got["version"] == 1 and isinstance(got["created_at"], dt.datetime)
    assert got["owner"] is None


def test_aware_datetime_in_any_zone_and_nulls(leads):
    east8 = dt.timezone(dt.timedelta(hours=8))
    rid = leads.insert("lead", {"name": "B", "seen_at": dt.datetime(2024, 1, 1, 8, 0, tzinfo=east8)})
    got = leads.get("lead", rid)
    assert got["seen_at"] == dt.datetime(2024, 1, 1, 0, 0, tzinfo=dt.timezone.utc)
    assert got["budget"] is None and got["tags"] is None and got["extra"] is None


def test_naive_datetime_refused(leads):
    with pytest.raises(ValueError, match="naive"):
        leads.insert("lead", {"name": "B", "seen_at": dt.datetime(2024, 1, 1)})
    assert leads.count("lead") == 0


def test_unstorable_python_value(leads):
    with pytest.raises(TypeError, match="cannot store"):
        leads.insert("lead", {"name": object()})
    with pytest.raises(ValueError):
        leads.insert("lead", {"name": "x", "score": float("nan")})


def test_json_text_record(leads):
    rid = leads.insert("lead", '{"name": "T", "budget": "1.25"}')
    assert leads.get("lead", rid)["budget"] == Decimal("1.25")


def test_update_and_version_conflict(leads):
    rid = leads.insert("lead", {"name": "A"})
    leads.update("lead", rid, {"visits": 7}, version=1)
    got = leads.get("lead", rid)
    assert got["visits"] == 7 and got["version"] == 2
    with pytest.raises(libcrm.ConflictError) as e:
        leads.update("lead", rid, {"visits": 8}, version=1)
    assert e.value.code == "CRM_ECONFLICT"
    leads.update("lead", rid, {"visits": None})
    assert leads.get("lead", rid)["visits"] is None


def test_delete(leads):
    rid = leads.insert("lead", {"name": "A"})
    leads.delete("lead", rid)
    with pytest.raises(libcrm.NotFoundError):
        leads.get("lead", rid)
    with pytest.raises(libcrm.NotFoundError):
        leads.delete("lead", rid)


def test_upsert(leads):
    rid, inserted = leads.upsert("lead", "phone", {"name": "A", "phone": "+8613800000009"})
    assert inserted is True
    rid2, inserted = leads.upsert("lead", "phone", {"name": "B", "phone": "+8613800000009"})
    assert (rid2, inserted) == (rid, False)
    assert leads.get("lead", rid)["name"] == "B"


def test_validation_error_lists_every_field(leads):
    with pytest.raises(libcrm.ValidationError) as e:
        leads.insert("lead", {"stage": "nope", "email": "bad"})
    fields = {x["field"] for x in e.value.errors}
    assert {"name", "stage", "email"} <= fields
    assert isinstance(e.value, ValueError) and isinstance(e.value, libcrm.Error)
    assert e.value.detail["code"] == "CRM_ECONSTRAINT"
    assert leads.count("lead") == 0


def test_insert_many_streams_a_generator(leads):
    def gen():
        for i in range(500):
            yield full_record(i)

    assert leads.insert_many("lead", gen()) == 500
    assert leads.count("lead") == 500
    ids = leads.insert_many("lead", ({"name": f"x{i}"} for i in range(3)), ids=True)
    assert len(ids) == 3 and [leads.get("lead", i)["name"] for i in ids] == ["x0", "x1", "x2"]


def test_insert_many_all_or_nothing(leads):
    rows = [{"name": "ok"}, {"stage": "bad"}, {"name": "ok2"}, {"name": "x", "email": "no"}]
    with pytest.raises(libcrm.ValidationError) as e:
        leads.insert_many("lead", rows)
    assert [r["index"] for r in e.value.rows] == [1, 3]
    assert leads.count("lead") == 0


def test_insert_many_python_error_rolls_back(leads):
    def gen():
        yield {"name": "a"}
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError, match="source failed"):
        leads.insert_many("lead", gen())
    assert leads.count("lead") == 0
    with pytest.raises(TypeError):
        leads.insert_many("lead", 5)


def test_transaction(leads):
    with leads.transaction():
        leads.insert("lead", {"name": "a"})
        leads.insert("lead", {"name": "b"})
    assert leads.count("lead") == 2
    with pytest.raises(KeyError):
        with leads.transaction():
            leads.insert("lead", {"name": "c"})
            raise KeyError("x")
    assert leads.count("lead") == 2


def test_apply_path_str_plan_and_definitions(db, tmp_path):
    p = tmp_path / "lead.json"
    p.write_text(json.dumps(LEAD))
    summary = db.apply(p)
    assert summary["documents"][0]["action"] == "created"
    assert db.apply(json.dumps(LEAD))["documents"][0]["action"] == "unchanged"
    changed = dict(LEAD, fields=LEAD["fields"] + [{"name": "note", "type": "text"}])
    plan = db.plan(changed)
    assert plan["documents"][0]["action"] == "changed"
    assert "note" not in [f["name"] for f in db.definition("lead")["fields"]]
    assert [d["form"] for d in db.definitions()] == ["lead"]
    assert db.definitions("workflow") == []
    with pytest.raises(ValueError):
        db.definitions("nope")
    assert db.check()["problems"] == 0


def test_count_with_filter(leads):
    leads.insert_many("lead", ({"name": str(i), "visits": i} for i in range(10)))
    assert leads.count("lead", {"field": "visits", "op": "ge", "value": 5}) == 5


def test_clock_limit_warnings(leads):
    leads.set_clock(dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc))
    assert leads.now() == 1735776000000
    rid = leads.insert("lead", {"name": "a"})
    assert leads.get("lead", rid)["created_at"] == dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc)
    leads.set_clock(None)
    assert leads.now() > 1735776000000
    prev = leads.limit("value_length", 4)
    assert prev == 1 << 20
    with pytest.raises(libcrm.Error):
        leads.insert("lead", {"name": "toolong"})
    with pytest.raises(ValueError):
        leads.limit("nope")
    assert leads.warnings() == []


def test_file_database_and_flags(tmp_path):
    path = tmp_path / "x.db"
    with pytest.raises(libcrm.NotFoundError):
        libcrm.connect(path, existing=True)
    with libcrm.connect(path) as d:
        d.apply(LEAD)
        d.insert("lead", {"name": "a"})
    with libcrm.connect(str(path), readonly=True) as d:
        assert d.count("lead") == 1
        with pytest.raises(libcrm.Error):
            d.insert("lead", {"name": "b"})
    assert libcrm.libversion()


def test_insert_and_insert_many_read_values_alike(leads):
    """insert() and insert_many() both send typed values (single-record and
    batch readers of libcrm): the same record gives the same stored values,
    and the same bad value the same error; a str record is JSON and agrees."""
    rec = full_record(3)
    rec.update(tags={"b", "a"}, visits=2 ** 70, score=float("inf"))
    with pytest.raises(libcrm.ValidationError) as one:
        leads.insert("lead", rec)
    with pytest.raises(libcrm.ValidationError) as many:
        leads.insert_many("lead", [rec])
    assert sorted(e["field"] for e in one.value.errors) == ["score", "visits"]
    assert many.value.rows[0]["errors"] == one.value.errors
    rec.update(visits=5, score=2.5)
    a = leads.get("lead", leads.insert("lead", dict(rec, phone="+8613900000001")))
    [bid] = leads.insert_many("lead", [dict(rec, phone="+8613900000002")], ids=True)
    b = leads.get("lead", bid)
    for k in rec:
        if k != "phone":
            assert a[k] == b[k], k
    assert a["tags"] == ["a", "b"]
    with pytest.raises(TypeError, match="dict"):
        leads.insert_many("lead", [[("name", "x")]])
    assert leads.insert_many("lead", ['{"name": "json row"}']) == 1
    c = leads.get("lead", leads.insert("lead", json.dumps(dict(rec, phone="+8613900000003", budget="12000.50",
                                                               since="2024-02-29", tags=["b", "a"],
                                                               seen_at="2024-03-01T08:30:15.123Z"))))
    for k in rec:
        if k != "phone":
            assert a[k] == c[k], k
