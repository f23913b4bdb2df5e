#!/usr/bin/env bash
# CLI on both backends: the same commands against a new SQLite file and a
# new PostgreSQL database (CRM_TEST_PG) must give the same exit codes and
# byte-identical stdout: forms, records, queries with keyset tokens,
# conflicts, workflows and timers, reports in JSON and CSV, crm check.
# run.sh covers every verb and error path on SQLite; this one is the
# differential smoke test. Skipped (77) without CRM_TEST_PG. Needs psql
# (PostgreSQL's client) to make the fresh database. Prints "N passed, N failed".
#   usage: tests/cli/backends.sh path/to/crm
set -uo pipefail

CRM=${1:?usage: backends.sh path/to/crm}
if [[ -z ${CRM_TEST_PG:-} ]]; then
	echo "skipped: CRM_TEST_PG is not set"
	exit 77
fi
PSQL=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | head -1)
if [[ -z $PSQL ]]; then
	echo "backends.sh: psql not found" >&2
	exit 1
fi
T=$(mktemp -d)
DBNAME=crm_cli_$$
PG_DB="$CRM_TEST_PG$([[ $CRM_TEST_PG == *\?* ]] && echo '&' || echo '?')dbname=$DBNAME"
cleanup() {
	"$PSQL" "$CRM_TEST_PG" -qc "DROP DATABASE IF EXISTS $DBNAME" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
"$PSQL" "$CRM_TEST_PG" -qc "CREATE DATABASE $DBNAME" >/dev/null || exit 1
LITE_DB=$T/crm.db
passed=0
failed=0

# same RC ARGS...: run `crm ARGS` (stdin from $T/in when it exists) on both
# databases; both must exit RC with the same stdout.
same() {
	local want=$1 rc_l rc_p in=/dev/null
	shift
	local what="$*"
	[[ -f $T/in ]] && in=$T/in
	"$CRM" --db "$LITE_DB" "$@" <"$in" >"$T/lite.out" 2>"$T/lite.err"
	rc_l=$?
	"$CRM" --db "$PG_DB" "$@" <"$in" >"$T/pg.out" 2>"$T/pg.err"
	rc_p=$?
	rm -f "$T/in"
	if [[ $rc_l == "$want" && $rc_p == "$want" ]] && cmp -s "$T/lite.out" "$T/pg.out" &&
		! grep -qE 'Sanitizer|runtime error:' "$T/lite.err" "$T/pg.err"; then
		passed=$((passed + 1))
		echo "ok   $what"
	else
		failed=$((failed + 1))
		echo "FAIL $what: exit $rc_l on SQLite, $rc_p on PostgreSQL, want $want"
		diff "$T/lite.out" "$T/pg.out" | head -20
		echo "  SQLite stderr: $(head -c 600 "$T/lite.err")"
		echo "  PostgreSQL stderr: $(head -c 600 "$T/pg.err")"
	fi
}
input() { printf '%s' "$1" >"$T/in"; }

input '[{"form": "account", "fields": [{"name": "name", "type": "text", "required": true}, {"name": "tier", "type": "enum", "options": ["gold", "silver"]}]},
 {"form": "deal", "fields": [{"name": "title", "type": "text", "required": true},
  {"name": "amount", "type": "decimal", "scale": 2}, {"name": "weight", "type": "number"},
  {"name": "stage", "type": "enum", "options": ["open", "won", "lost"], "index": true},
  {"name": "tags", "type": "multi_enum", "options": ["vip", "new"]}, {"name": "closes", "type": "datetime"},
  {"name": "due", "type": "date"}, {"name": "hot", "type": "boolean"}, {"name": "code", "type": "text", "unique": true},
  {"name": "account", "type": "ref", "form": "account"}]},
 {"workflow": "deal_life", "form": "deal", "start_on": "create", "initial": "open",
  "states": {"open": {"timers": [{"after": "1d", "event": "expire"}]}, "won": {"final": true}, "lost": {"final": true}},
  "transitions": [{"from": "open", "event": "win", "to": "won"}, {"from": "open", "event": "expire", "to": "lost"}]},
 {"report": "by_stage", "source": "deal", "timezone": "+08:00",
  "dimensions": ["stage", {"field": "closes", "bucket": "week"}],
  "measures": [{"name": "n", "agg": "count"}, {"name": "total", "agg": "sum", "field": "amount"},
   {"name": "mean", "agg": "avg", "field": "amount"}, {"name": "w", "agg": "sum", "field": "weight"}], "totals": true}]'
same 0 apply -
same 0 forms
same 0 form deal
same 0 --as ann:sales insert account '[{"name": "Acme", "tier": "gold"}, {"name": "beta"}, {"name": "Beta", "tier": "silver"}]'
input '{"title": "a", "amount": "10.05", "weight": 0.1, "stage": "open", "tags": ["vip"], "closes": "2025-12-31T23:30:00Z", "due": "2026-01-31", "hot": true, "code": "Z-1", "account": 1}
{"title": "B", "amount": "0.10", "weight": 0.2, "stage": "won", "closes": "2026-01-04T16:00:00Z", "code": "a-1", "account": 2}
{"title": "_c", "amount": "99999999.99", "stage": "lost", "tags": [], "code": "a_1"}
{"title": "d", "amount": "-3.33", "weight": 1e-3, "closes": "1969-12-31T23:59:59.999Z", "code": "A-1", "hot": false}
{"title": "é", "code": "é-1", "account": 3}'
same 0 --as bob:sales --now 2026-01-02T03:04:05Z insert deal -
same 4 insert deal '{"title": "dup", "code": "Z-1"}'
same 4 insert deal '{"amount": "1.001"}'
same 0 get deal 1
same 0 get deal 5
same 0 query deal --sort code
same 0 query deal --sort -title --fields title,code --with-token --limit 2
same 0 query deal --sort title --filter '{"field": "title", "op": "gt", "value": "B"}'
same 0 query deal --filter '{"field": "tags", "op": "contains", "value": "vip"}'
same 0 query deal --filter '{"and": [{"field": "amount", "op": "ge", "value": "0.10"}, {"field": "hot", "op": "ne", "value": true}]}' --sort amount
same 0 count deal --filter '{"field": "code", "op": "between", "value": ["A", "a"]}'
same 0 --now 2026-01-03T00:00:00Z update deal 2 '{"stage": "lost"}' --if-version 1
same 5 --now 2026-01-03T00:00:00Z update deal 2 '{"stage": "open"}' --if-version 1
same 5 delete deal 4 --if-version 9
same 0 --now 2026-01-03T00:00:00Z fire deal 1 win
same 0 --now 2026-01-04T03:04:06Z tick
same 0 query deal --sort id --fields stage
same 0 report by_stage
same 0 report by_stage --format csv
same 0 check
same 0 check deal
same 0 export deal --query '{"sort": ["id"]}'
same 0 export deal --query '{"sort": ["id"]}' --format ndjson --headers labels --system
same 0 export --report by_stage --format json

echo "$passed passed, $failed failed"
((failed == 0))
