"""Actors and permissions, audit, the event stream and consumers, import
and export, search, timeline, duplicates and merge."""

import datetime as dt
import io
import json

import pytest

import libcrm

DEFS = [
    {"form": "deal", "fields": [{"name": "title", "type": "text"},
                                {"name": "team", "type": "text", "actor_default": "team"},
                                {"name": "phone", "type": "phone"}],
     "search": {"fields": ["title"]},
     "duplicates": {"rules": [{"name": "same_phone", "fields": [{"field": "phone", "normalize": "phone"}]}]},
     "permissions": [{"roles": ["rep"], "allow": ["read", "create", "update"],
                      "rows": {"field": "team", "op": "eq", "actor": "team"}}]},
    {"form": "note", "fields": [{"name": "text", "type": "text"}, {"name": "deal", "type": "ref", "form": "deal"}]},
]


@pytest.fixture
def sv(db):
    db.apply(DEFS)
    return db


def test_acting_as_and_access(sv):
    north = sv.insert("deal", {"title": "n", "team": "north"})
    south = sv.insert("deal", {"title": "s", "team": "south"})
    with sv.acting_as("ann", ["rep"], team="north") as d:
        assert d.actor()["user"] == "ann" and d.actor()["attrs"] == {"team": "north"}
        assert [r["title"] for r in d.query("deal")] == ["n"]
        with pytest.raises(libcrm.NotFoundError):
            d.get("deal", south)
        with pytest.raises(libcrm.AccessDenied) as e:
            d.delete("deal", north)
        assert isinstance(e.value, PermissionError) and e.value.code == "CRM_EPERM"
        assert d.explain_access("delete", "deal")["allowed"] is False
        rid = d.insert("deal", {"title": "mine"})
        assert d.get("deal", rid)["team"] == "north"
    assert sv.actor()["system"] is True
    assert sv.count("deal") == 3
    with pytest.raises(libcrm.InputError):
        sv.set_actor({"user": "x", "bogus": 1})


def test_audit(sv):
    sv.set_clock(1000)
    rid = sv.insert("deal", {"title": "v1"})
    sv.set_clock(2000)
    sv.update("deal", rid, {"title": "v2"})
    hist = sv.audit_history("deal", rid)
    assert [h["op"] for h in hist][:2] == ["insert", "update"]
    assert isinstance(hist[0]["at"], dt.datetime)
    assert sv.record_at("deal", rid, 1500)["title"] == "v1"
    sv.revert("deal", rid, 1)
    assert sv.get("deal", rid)["title"] == "v1"
    v = sv.audit_verify()
    assert v["ok"] is True and sv.audit_verify(v["head"])["ok"] is True
    sv.audit_key(b"k" * 32)
    sv.audit_key(None)
    with pytest.raises(libcrm.NotFoundError):
        sv.record_at("deal", rid, 10)


def test_event_stream_and_consumer_iterator(sv):
    head = sv.event_head()
    sv.insert_many("deal", ({"title": str(i)} for i in range(5)))
    events = sv.event_list(head)
    assert len(events) >= 5 and events[0]["seq"] > head
    c = sv.consumer("mail", start="first")
    seen = [e["seq"] for e in c]
    assert seen == sorted(seen) and len(seen) == len(sv.event_list(0, 1000))
    assert list(sv.consumer("mail")) == []
    assert sv.consumer_get("mail")["position"] == seen[-1]
    assert [x["name"] for x in sv.consumer_list()] == ["mail"]
    assert sv.event_prune() >= 5
    sv.consumer_drop("mail")
    with pytest.raises(libcrm.NotFoundError):
        sv.consumer_get("mail")


def test_consumer_read_gives_event_lists_dicts(sv):
    # built from the row read's columns, the same dicts as the JSON of event_list
    sv.insert_many("deal", ({"title": str(i)} for i in range(3)))
    events = sv.consumer("same", start="first").read(1000)
    assert events and events == sv.event_list(0, 1000)
    assert set(events[0]) == {"seq", "at", "name", "form", "record", "instance", "actor", "payload"}
    assert events[0]["at"].tzinfo is not None
    assert isinstance(events[0]["payload"], dict)


def test_consumer_acknowledges_only_what_was_consumed(sv):
    sv.insert_many("deal", ({"title": str(i)} for i in range(4)))
    c = sv.consumer("partial", start="first", batch=2)
    it = iter(c)
    first = next(it)
    before = sv.consumer_get("partial")["position"]
    assert before < first["seq"]  # handed, not yet acknowledged
    next(it)  # asking for the next one acknowledges the first
    assert sv.consumer_get("partial")["position"] == first["seq"]
    it.close()


def test_import_with_progress_and_export(sv, tmp_path):
    data = "title,phone\n" + "".join(f"t{i},+86138{i:08d}\n" for i in range(50))
    calls = []
    summary = sv.import_data("deal", data, {"format": "csv"}, progress=lambda r, b, t: calls.append((r, b, t)))
    assert summary["inserted"] == 50 and calls and calls[-1][0] == 50
    out = sv.export({"form": "deal"}, {"format": "ndjson"})
    assert isinstance(out, bytes) and len(out.splitlines()) == 50
    buf = io.BytesIO()
    sv.export({"form": "deal", "query": {"limit": 2}}, {"format": "csv"}, file=buf)
    assert buf.getvalue().startswith(b"title")
    path = tmp_path / "deals.json"
    sv.export({"form": "deal"}, {"format": "json"}, file=path)
    assert len(json.loads(path.read_text())) == 50
    csv_path = tmp_path / "in.csv"
    csv_path.write_text("title\nx\n")
    assert sv.import_file("deal", csv_path)["inserted"] == 1


def test_import_cancel_and_failure_summary(sv):
    data = "title\n" + "".join(f"t{i}\n" for i in range(3000))

    def stop(rows, done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sv.import_data("deal", data, progress=stop)
    assert sv.count("deal") == 0
    with pytest.raises(libcrm.Error) as e:
        sv.import_data("deal", data, progress=lambda *a: False)
    assert e.value.summary["cancelled"] is True
    assert sv.count("deal") == 0
    assert sv.import_data("deal", data, progress=lambda *a: None)["inserted"] == 3000
    with pytest.raises(libcrm.ValidationError) as e:
        sv.import_data("deal", "title,phone\na,not-a-phone\n")
    assert e.value.summary["failed"] == 1


def test_export_write_error_propagates(sv):
    sv.insert("deal", {"title": "a"})

    class Bad:
        def write(self, b):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        sv.export({"form": "deal"}, file=Bad())


def test_search_timeline(sv):
    rid = sv.insert("deal", {"title": "Quarterly renewal"})
    sv.insert("note", {"text": "called", "deal": rid})
    hits = sv.search("renewal")["hits"]
    assert hits[0]["id"] == rid and hits[0]["form"] == "deal"
    tl = sv.timeline("deal", rid, {"kinds": ["record", "audit"]})
    assert {i["kind"] for i in tl["items"]} == {"record", "audit"}
    assert isinstance(tl["items"][0]["at"], dt.datetime)
    with pytest.raises(libcrm.InputError):
        sv.search("renewal", {"bogus": 1})


def test_duplicates_merge(sv):
    a = sv.insert("deal", {"title": "a", "phone": "+8613800000001"})
    b = sv.insert("deal", {"title": "b", "phone": "+86 138 0000 0001"})
    groups = sv.duplicates("deal")["groups"]
    assert sorted(groups[0]["records"]) == [a, b]
    res = sv.merge("deal", a, b)
    with pytest.raises(libcrm.NotFoundError):
        sv.get("deal", b)
    sv.merge_undo(res["merge"])
    assert sv.get("deal", b)["title"] == "b"
