"""Memory: rounds of insert_many and full iteration leave RSS flat. Run in
a release build (bindings/python/test sets CRM_PY_MEMORY=1 there; ASan's
quarantine would hide or fake growth). CRM_PY_ROWS rows a round (default
20000; the issue's size is 1000000)."""

import os

import pytest

import libcrm

pytestmark = pytest.mark.skipif(not os.environ.get("CRM_PY_MEMORY"), reason="release build only (CRM_PY_MEMORY=1)")

ROWS = int(os.environ.get("CRM_PY_ROWS", "20000"))
FORM = {"form": "lead", "audit": False, "events": False,
        "fields": [{"name": "name", "type": "text", "required": True}, {"name": "phone", "type": "phone"},
                   {"name": "budget", "type": "decimal", "scale": 2}, {"name": "since", "type": "date"},
                   {"name": "tags", "type": "multi_enum", "options": ["a", "b"]}, {"name": "extra", "type": "json"}],
        "unique": [["phone"]], "indexes": [["name"]]}


def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_rss_flat_over_inserts_and_iteration(tmp_path):
    with libcrm.connect(tmp_path / "m.db") as db:
        db.apply(FORM)
        samples = []
        for r in range(5):
            base = r * ROWS
            n = db.insert_many("lead", ({"name": f"n{i}", "phone": f"+86{base + i:011d}", "budget": "12.50",
                                         "since": "2024-01-02", "tags": ["a"], "extra": {"i": i}}
                                        for i in range(ROWS)))
            assert n == ROWS
            seen = 0
            for row in db.query("lead", {"field": "id", "op": "gt", "value": base}):
                seen += 1
            assert seen == ROWS
            samples.append(rss_kb())
    # after the first round warms caches (SQLite's page cache, allocator
    # arenas), later rounds must not grow: at most 4 MiB over all of them
    growth = samples[-1] - samples[1]
    print(f"rss after each round of {ROWS} rows (KiB): {samples}")
    assert growth < 4096, samples
