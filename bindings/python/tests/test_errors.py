"""Every error class, threads, and garbage collection in any order."""

import gc
import threading
import time

import pytest

import libcrm
from libcrm import _util
from conftest import LEAD, open_db


def test_hierarchy():
    for cls in (libcrm.InputError, libcrm.NotFoundError, libcrm.ConflictError, libcrm.ValidationError,
                libcrm.AccessDenied, libcrm.ScriptError, libcrm.BusyError, libcrm.OutOfMemory,
                libcrm.StorageError, libcrm.LimitError, libcrm.ProgrammingError, libcrm.ExistsError):
        assert issubclass(cls, libcrm.Error) and cls.__module__ == "libcrm"
    assert issubclass(libcrm.AccessDenied, PermissionError)
    assert issubclass(libcrm.NotFoundError, LookupError)
    # CRM_ENOMEM cannot be provoked from Python: the mapping is checked directly
    e = _util.make_error(9, "out of memory", '{"code":"CRM_ENOMEM","message":"out of memory"}')
    assert type(e) is libcrm.OutOfMemory and isinstance(e, MemoryError) and e.code == "CRM_ENOMEM"


def test_input_error_offset(db):
    with pytest.raises(libcrm.InputError) as e:
        db.apply('{"form": "x", ]')
    assert e.value.code == "CRM_EINVAL" and e.value.offset is not None and e.value.offset > 0
    assert e.value.detail["code"] == "CRM_EINVAL"


def test_nul_refused(leads):
    with pytest.raises(libcrm.ValidationError) as e:
        leads.insert("lead", {"name": "a\x00b"})
    assert e.value.errors[0]["code"] == "nul"


def test_script_error_location(db):
    db.apply({"form": "t", "fields": [{"name": "n", "type": "integer"},
                                       {"name": "c", "type": "computed", "returns": "integer",
                                        "lua": "record.n + nil_value.x"}]})
    with pytest.raises(libcrm.ScriptError) as e:
        db.insert("t", {"n": 1})
    assert e.value.code == "CRM_ESCRIPT"
    assert e.value.location is not None and ":" in e.value.location


def test_limit_error(db):
    db.limit("definitions", 1)
    db.apply(LEAD)
    with pytest.raises(libcrm.LimitError) as e:
        db.apply({"form": "other", "fields": [{"name": "a", "type": "text"}]})
    assert e.value.code == "CRM_ELIMIT"


def test_busy_error(tmp_path):
    # SQLite's file lock (PostgreSQL waits on row locks instead)
    path = tmp_path / "busy.db"
    with libcrm.connect(path) as a, libcrm.connect(path, timeout=0) as b:
        a.apply(LEAD)
        a.begin()
        a.insert("lead", {"name": "x"})
        with pytest.raises(libcrm.BusyError) as e:
            b.insert("lead", {"name": "y"})
        assert e.value.code == "CRM_EBUSY"
        a.rollback()


def test_storage_error(leads, tmp_path):
    with pytest.raises(libcrm.StorageError) as e:
        leads.export({"form": "lead"}, file=tmp_path / "no" / "such" / "dir.csv")
    assert isinstance(e.value, OSError) and e.value.code == "CRM_EIO"


def test_closed_connection_and_objects(leads):
    leads.insert_many("lead", ({"name": str(i)} for i in range(3)))
    cur = leads.query("lead")
    next(cur)
    leads.close()
    leads.close()
    assert leads.closed
    with pytest.raises(libcrm.ProgrammingError):
        next(cur)
    with pytest.raises(libcrm.ProgrammingError):
        leads.count("lead")
    del cur


def test_gc_any_order():
    for order in range(4):
        db = open_db()
        db.apply(LEAD)
        db.insert_many("lead", ({"name": str(i)} for i in range(5)))
        db.apply({"report": "r", "source": "lead", "dimensions": [{"field": "name"}],
                  "measures": [{"name": "n", "agg": "count"}]})
        cur, rep = db.query("lead"), db.report("r")
        next(cur), next(rep)
        db.cycle = (cur, rep)  # a reference cycle through the connection
        objs = [db, cur, rep]
        if order == 1:
            objs.reverse()
        elif order == 2:
            db.close()
        elif order == 3:
            cur.close()
            rep.close()
        del db, cur, rep
        objs.clear()
        gc.collect()


def test_second_thread_gets_programming_error(leads):
    entered, release = threading.Event(), threading.Event()
    errors = []

    def rows():
        entered.set()
        release.wait(10)
        yield {"name": "a"}

    def other():
        entered.wait(10)
        try:
            leads.count("lead")
        except libcrm.ProgrammingError as e:
            errors.append(str(e))
        finally:
            release.set()

    t = threading.Thread(target=other)
    t.start()
    leads.insert_many("lead", rows())
    t.join()
    assert errors and "another thread" in errors[0]
    assert leads.count("lead") == 1


def test_callback_may_not_reenter(leads):
    def rows():
        leads.count("lead")
        yield {"name": "a"}

    with pytest.raises(libcrm.ProgrammingError, match="this thread"):
        leads.insert_many("lead", rows())


def test_threads_with_own_connections(tmp_path):
    path = tmp_path / "t.db"
    with libcrm.connect(path) as d:
        d.apply(LEAD)
    errors = []

    def work(n):
        try:
            with libcrm.connect(path, timeout=30) as d:
                d.insert_many("lead", ({"name": f"{n}-{i}"} for i in range(200)))
                assert len(list(d.query("lead", limit=10))) == 10
        except Exception as e:  # pragma: no cover
            errors.append(e)

    ts = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    with libcrm.connect(path) as d:
        assert d.count("lead") == 800


def test_gil_released_during_engine_work(leads):
    data = "name\n" + "".join(f"n{i}\n" for i in range(20000))
    ticks = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        while ticks[0] == 0:  # the spinner runs
            time.sleep(0.001)
        before = ticks[0]
        leads.import_data("lead", data)  # one C call, no Python callbacks
        after = ticks[0]
    finally:
        stop.set()
        t.join()
    assert after > before


def test_nul_never_truncates(leads):
    # a C string would end at U+0000 and hide what follows: refused instead
    with pytest.raises(ValueError, match="null"):
        leads.insert("lead", '{"name": "a"}\x00{"name": "b"}')
    with pytest.raises(ValueError, match="null"):
        leads.query("lead", '{"limit": 1}\x00')
    for call in (lambda r: leads.insert("lead", r), lambda r: leads.insert_many("lead", [r])):
        with pytest.raises(ValueError, match="null"):
            call({"name": "x", "na\x00me": "y"})
        with pytest.raises(libcrm.ValidationError) as e:
            call({"name": "x", "tags": ["a\x00b"]})
        errors = e.value.errors or e.value.rows[0]["errors"]
        assert errors[0]["code"] == "nul"
    assert leads.count("lead") == 0
