"""Workflows, approvals, timers, decisions and reports."""

import datetime as dt
from decimal import Decimal

import pytest

import libcrm

DEFS = [
    {"form": "deal", "fields": [{"name": "title", "type": "text"}, {"name": "amount", "type": "decimal", "scale": 2},
                                {"name": "region", "type": "enum", "options": ["north", "south"]}]},
    {"workflow": "deal_flow", "form": "deal", "start_on": "create", "initial": "draft",
     "states": {"draft": {"timers": [{"after": "24h", "event": "expire"}]},
                "review": {"approval": {"steps": [{"role": "legal"}], "approved": "approved",
                                        "rejected": "rejected"}},
                "signed": {"final": True}, "expired": {"final": True}},
     "transitions": [{"from": "draft", "event": "submit", "to": "review"},
                     {"from": "draft", "event": "expire", "to": "expired"},
                     {"from": "review", "event": "approved", "to": "signed"},
                     {"from": "review", "event": "rejected", "to": "draft"}]},
    {"decision": "route", "inputs": ["region"], "outputs": ["owner"], "hit": "first",
     "rules": [{"when": {"region": "north"}, "then": {"owner": "alice"}},
               {"when": {"region": "*"}, "then": {"owner": "pool"}}]},
    {"report": "by_region", "source": "deal", "dimensions": [{"field": "region"}],
     "measures": [{"name": "deals", "agg": "count"}, {"name": "total", "agg": "sum", "field": "amount"}],
     "order": ["region"]},
]


@pytest.fixture
def wf(db):
    db.apply(DEFS)
    return db


def test_fire_events_history(wf):
    rid = wf.insert("deal", {"title": "a", "amount": Decimal("10.00"), "region": "north"})
    events = wf.events("deal", rid)
    assert {e["event"] for e in events} == {"submit", "expire"}
    wf.fire("deal", rid, "submit", {"title": "b"})
    assert wf.get("deal", rid)["title"] == "b"
    [inst] = wf.instances("deal", rid)
    assert inst["state"] == "review" and inst["workflow"] == "deal_flow"
    assert isinstance(inst["started_at"], dt.datetime)
    hist = wf.history("deal", rid)
    assert [h["event"] for h in hist][-1] == "submit"
    assert wf.instance(inst["id"])["record"] == rid
    assert wf.instance_history(inst["id"]) == hist
    assert isinstance(wf.instance_events(inst["id"]), list)
    with pytest.raises(libcrm.InputError):
        wf.fire("deal", rid, "submit")


def test_approve_reject(wf):
    rid = wf.insert("deal", {"title": "a"})
    wf.fire("deal", rid, "submit")
    with pytest.raises(libcrm.AccessDenied) as e:
        wf.approve("deal", rid)
    assert isinstance(e.value, PermissionError)
    with wf.acting_as("lena", ["legal"]):
        wf.reject("deal", rid, "missing clause")
    assert wf.instances("deal", rid)[0]["state"] == "draft"
    wf.fire("deal", rid, "submit")
    with wf.acting_as("lena", ["legal"]):
        wf.approve("deal", rid)
    assert wf.instances("deal", rid)[0]["state"] == "signed"


def test_tick_timers(wf):
    wf.set_clock(0)
    rid = wf.insert("deal", {"title": "a"})
    assert wf.tick(dt.datetime(1970, 1, 1, 12, tzinfo=dt.timezone.utc)) == 0
    assert wf.tick(25 * 3600 * 1000) == 1
    assert wf.instances("deal", rid)[0]["state"] == "expired"


def test_start_exists_and_migrate(wf):
    rid = wf.insert("deal", {"title": "a"})
    with pytest.raises(libcrm.ExistsError):
        wf.start("deal_flow", rid)
    assert wf.migrate_workflow("deal_flow") == 0
    inst = wf.instances("deal", rid)[0]["id"]
    wf.fire_instance(inst, "submit")
    assert wf.instance(inst)["state"] == "review"


def test_decide(wf):
    assert wf.decide("route", {"region": "north"}) == {"owner": "alice"}
    assert wf.decide("route", {"region": "south"}) == {"owner": "pool"}
    with pytest.raises(libcrm.NotFoundError):
        wf.decide("nope", {})


def test_report_rows_columns_csv_drill(wf):
    wf.insert_many("deal", [{"title": "a", "amount": Decimal("1.50"), "region": "north"},
                            {"title": "b", "amount": Decimal("2.25"), "region": "north"},
                            {"title": "c", "amount": Decimal("4.00"), "region": "south"}])
    rep = wf.report("by_region")
    assert [c.name for c in rep.columns] == ["region", "deals", "total"]
    assert rep.columns[2].type == "decimal" and isinstance(rep.columns[0], libcrm.Column)
    rows = list(rep)
    assert rows == [{"region": "north", "deals": 2, "total": Decimal("3.75")},
                    {"region": "south", "deals": 1, "total": Decimal("4.00")}]
    csv = rep.to_csv()
    assert csv.splitlines()[0].startswith("region") and "3.75" in csv
    assert rep.to_dict()["rows"][0]["region"] == "north"
    assert "sql" in str(rep.explain()).lower()
    q = rep.drill(rows[0])
    assert sorted(r["title"] for r in wf.query("deal", q["filter"])) == ["a", "b"]
    assert list(wf.report("by_region", rows="tuple"))[0] == ("north", 2, Decimal("3.75"))
    with pytest.raises(libcrm.NotFoundError):
        wf.report("nope")


def test_report_outlives_its_connection(wf):
    wf.insert("deal", {"title": "a", "region": "north"})
    rep = wf.report("by_region")
    wf.close()
    with pytest.raises(libcrm.ProgrammingError):
        next(rep)
    with pytest.raises(libcrm.ProgrammingError):
        rep.to_csv()
    assert [c.name for c in rep.columns] == ["region", "deals", "total"]
    rep.close()
