#!/usr/bin/env bash
# CLI test: every verb and error path of the `crm` binary against a temporary
# database — exit codes, stdout JSON, stderr messages, CSV quoting, NDJSON and
# @file input, and that a failing command changes nothing. Any sanitizer
# report on stderr fails the case. Prints "N passed, N failed".
#   usage: tests/cli/run.sh path/to/crm VERSION   (VERSION: meson.build's project version)
set -uo pipefail

CRM=${1:?usage: run.sh path/to/crm VERSION}
VERSION=${2:?usage: run.sh path/to/crm VERSION}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
unset CRM_DB
DB=$T/crm.db
passed=0
failed=0
name=""
bad=""
rc=0

# ---- harness ----
begin() { name=$1; bad=""; }
end() {
	if [[ -z $bad ]]; then
		passed=$((passed + 1))
		echo "ok   $name"
	else
		failed=$((failed + 1))
		echo "FAIL $name:$bad"
		echo "  stdout: $(head -c 600 "$T/out")"
		echo "  stderr: $(head -c 1500 "$T/err")"
	fi
}
problem() { bad="$bad $*;"; }

# crm ARGS...: run against $DB, capturing stdout, stderr and the exit code.
crm() {
	"$CRM" --db "$DB" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	sanitizer_check
}
# crm_in INPUT ARGS...: the same with INPUT on stdin.
crm_in() {
	local input=$1
	shift
	"$CRM" --db "$DB" "$@" >"$T/out" 2>"$T/err" <<<"$input"
	rc=$?
	sanitizer_check
}
# raw ARGS...: run without --db.
raw() {
	"$CRM" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	sanitizer_check
}
sanitizer_check() {
	if grep -qE 'Sanitizer|runtime error:' "$T/err"; then problem "sanitizer report"; fi
}

want_rc() { [[ $rc == "$1" ]] || problem "exit $rc, want $1"; }
want_out() {
	local got
	got=$(cat "$T/out")
	[[ $got == "$1" ]] || problem "stdout '$got', want '$1'"
}
want_out_has() { grep -qF -- "$1" "$T/out" || problem "stdout lacks '$1'"; }
want_out_lacks() { ! grep -qF -- "$1" "$T/out" || problem "stdout has '$1'"; }
want_no_out() { [[ ! -s $T/out ]] || problem "stdout not empty"; }
want_err_has() { grep -qF -- "$1" "$T/err" || problem "stderr lacks '$1'"; }
want_no_err() { [[ ! -s $T/err ]] || problem "stderr not empty"; }
# An error: stdout empty, "crm: message" then a JSON object on the second line.
want_error() {
	want_rc "$1"
	want_no_out
	[[ $(sed -n 1p "$T/err") == "crm: "* ]] || problem "stderr line 1 is not 'crm: ...'"
	[[ $(sed -n 2p "$T/err") == "{"*"}" ]] || problem "stderr line 2 is not a JSON object"
	[[ $(sed -n 2p "$T/err") == *'"code":'* ]] || problem "detail lacks a code"
}
# count FORM [FILTER]: the record count as a number (stdout/err of that call discarded).
count() {
	local n
	if [[ $# -gt 1 ]]; then
		n=$("$CRM" --db "$DB" count "$1" --filter "$2" 2>/dev/null)
	else
		n=$("$CRM" --db "$DB" count "$1" 2>/dev/null)
	fi
	n=${n#*:}
	echo "${n%\}}"
}
lines() { wc -l <"$T/out" | tr -d ' '; }

# ---- fixtures ----
mkdir -p "$T/forms/sub" "$T/v2"
cat >"$T/forms/customer.json" <<'JSON'
{"form": "customer", "label": "Customer",
 "fields": [
   {"name": "name",  "type": "text", "required": true, "max_length": 100},
   {"name": "phone", "type": "phone", "unique": true, "pattern": "^1[3-9]\\d{9}$"},
   {"name": "note",  "type": "text"}]}
JSON
# in a subdirectory, and referring to customer: apply must recurse and resolve refs across files
cat >"$T/forms/sub/lead.json" <<'JSON'
{"form": "lead", "label": "Lead",
 "fields": [
   {"name": "name",     "type": "text", "required": true},
   {"name": "region",   "type": "enum", "options": ["north", "south", "east", "west"]},
   {"name": "budget",   "type": "decimal", "scale": 2},
   {"name": "customer", "type": "ref", "form": "customer"}]}
JSON
echo "not metadata" >"$T/forms/README.txt"
sed 's/"fields": \[/"fields": [\n   {"name": "source", "type": "text"},/' "$T/forms/sub/lead.json" >"$T/v2/lead.json"
printf '{"form": "broken",\n "fields": [\n   {"name": "x", "type": "text"},,\n ]}\n' >"$T/broken.json"

# ---- global options and usage ----
begin "--version prints the version"
raw --version
want_rc 0; want_out_has "crm $VERSION (libcrm $VERSION)"; want_no_err
end

begin "--help prints usage to stdout"
raw --help
want_rc 0; want_out_has "usage: crm"; want_no_err
end

begin "no verb is a usage error (exit 2)"
raw --db "$DB"
want_rc 2; want_no_out; want_err_has "usage: crm"
end

begin "unknown verb exits 2"
crm frobnicate
want_error 2; want_err_has "unknown verb 'frobnicate'"
end

begin "unknown global option exits 2"
raw --bogus forms
want_error 2
end

begin "no --db and no CRM_DB exits 2"
raw forms
want_error 2; want_err_has "CRM_DB"
end

begin "a read verb on a missing database exits 3 without creating it"
crm forms
want_error 3; want_err_has "no database at"
[[ ! -e $DB ]] || problem "database file was created"
end

begin "--now rejects a malformed time (exit 2)"
crm --now 2024-13-01T00:00Z forms
want_error 2
end

# ---- apply ----
begin "apply refuses a file with a JSON syntax error, naming file and line"
crm apply "$T/broken.json"
want_error 1; want_err_has "broken.json:3:"
end

begin "apply gathers a directory recursively in one call and says what it created"
crm apply "$T/forms"
want_rc 0; want_no_err
want_out_has '"changed":2'
want_out_has '{"kind":"form","name":"customer","action":"created","version":1}'
want_out_has '{"kind":"form","name":"lead","action":"created","version":1}'
end

begin "apply of a directory and a broken file is atomic"
crm apply "$T/v2" "$T/broken.json"
want_error 1
crm form lead
want_out_lacks '"source"'
end

begin "apply again with no change says nothing changed"
crm apply "$T/forms/customer.json" "$T/forms/sub/lead.json"
want_rc 0
want_out '{"changed":0,"data_loss":false,"documents":[{"kind":"form","name":"customer","action":"unchanged"},{"kind":"form","name":"lead","action":"unchanged"}]}'
end

begin "apply reads *.lua files as plugins named after the file"
mkdir -p "$T/plug"
printf 'return { shout = function(ctx) return string.upper(ctx.x) end }\n' >"$T/plug/loud.lua"
crm apply "$T/plug"
want_rc 0; want_out_has '{"kind":"plugin","name":"loud","action":"created","version":1}'
printf 'return {\n  broken = function(\n' >"$T/plug/bad.lua"
crm apply "$T/plug"
want_error 1; want_err_has "bad:3:"
rm -f "$T/plug/bad.lua"
end

begin "apply of a missing path exits 1"
crm apply "$T/nope"
want_error 1
end

begin "apply without paths and nothing on stdin says what is wrong (exit 1)"
crm apply
want_error 1
end

begin "apply reads an array of documents from stdin"
crm_in '[{"form": "tag", "fields": [{"name": "label", "type": "text"}]}]' apply -
want_rc 0; want_out_has '"changed":1'
end

begin "apply names the file of a semantic error, and the document in it"
printf '[{"form": "ok1", "fields": [{"name": "a", "type": "text"}]},\n {"form": "bad1", "fields": [{"name": "a", "type": "nope"}]}]\n' >"$T/two.json"
crm apply "$T/forms" "$T/two.json"
want_error 1
want_err_has "crm: $T/two.json (document 1): form bad1: fields[0].type: unknown type 'nope'"
want_err_has '"document":1,"file":"'"$T/two.json"'"'
want_err_has '"path":"fields[0].type"'
rm -f "$T/two.json"
end

begin "apply gives a syntax error's byte offset in the file, not in the gathered input"
crm apply "$T/forms" "$T/broken.json"
want_error 1
want_err_has "broken.json:3:34: metadata is not valid JSON (at byte 65:"
want_err_has '"offset":65,"line":3,"column":34'
end

begin "apply refuses a workflow calling a missing plugin, naming file and path"
printf '{"workflow": "wf_bad", "form": "customer", "initial": "a",\n "states": {"a": {"on_enter": "nosuch.fn"}}, "transitions": []}\n' >"$T/wf_bad.json"
crm apply "$T/wf_bad.json"
want_error 3
want_err_has "crm: $T/wf_bad.json: workflow wf_bad: states.a.on_enter: no plugin named 'nosuch'"
want_err_has '"path":"states.a.on_enter"'
rm -f "$T/wf_bad.json"
end

# ---- forms ----
begin "forms lists every form"
crm forms
want_rc 0; want_out_has '"customer"'; want_out_has '"lead"'; want_out_has '"tag"'
end

begin "form NAME shows the definition"
crm form lead
want_rc 0; want_out_has '"budget"'; want_out_has '"region"'
end

begin "form of an unknown name exits 3"
crm form nosuch
want_error 3
end

# ---- insert ----
begin "insert one object prints its id"
crm insert customer '{"name": "Acme", "phone": "13800000001"}'
want_rc 0; want_out '{"id":1}'; want_no_err
end

begin "insert an array prints the ids"
crm insert customer '[{"name": "Beta", "phone": "13800000002"}, {"name": "Gamma", "phone": "13800000003"}]'
want_rc 0; want_out '{"ids":[2,3]}'
end

begin "insert NDJSON from stdin prints the ids"
crm_in $'{"name": "Delta", "phone": "13800000004"}\n{"name": "Epsilon", "phone": "13800000005"}\n' insert customer -
want_rc 0; want_out '{"ids":[4,5]}'
end

printf '{"name": "Zeta, \\"Z\\" Ltd", "phone": "13800000006", "note": "line one\\nsaid \\"hi\\", then left"}' >"$T/zeta.json"
begin "insert @file reads the record from a file"
crm insert customer "@$T/zeta.json"
want_rc 0; want_out '{"id":6}'
end

begin "insert of bad JSON exits 1 and changes nothing"
crm insert customer '{"name": "Broken", "phone": '
want_error 1
[[ $(count customer) == 6 ]] || problem "count changed"
end

begin "insert into an unknown form exits 3"
crm insert nosuch '{"name": "x"}'
want_error 3
end

begin "insert failing validation exits 4 with every field in the detail"
crm insert customer '{"phone": "12345"}'
want_error 4; want_err_has '"errors"'; want_err_has '"name"'; want_err_has '"phone"'
[[ $(count customer) == 6 ]] || problem "count changed"
end

begin "insert of a duplicate unique value exits 4"
crm insert customer '{"name": "Dup", "phone": "13800000001"}'
want_error 4; want_err_has '"phone"'
end

begin "a batch with one bad row inserts nothing and exits 4 naming the row"
crm insert customer '[{"name": "Eta", "phone": "13800000007"}, {"name": "Theta", "phone": "bad"}]'
want_error 4; want_err_has '"rows"'; want_err_has '"index":1'
[[ $(count customer) == 6 ]] || problem "count changed"
end

begin "insert of an empty array inserts nothing"
crm insert customer '[]'
want_rc 0; want_out '{"ids":[]}'
end

begin "insert of a non-object exits 1"
crm insert customer '42'
want_error 1
end

begin "@ of a missing file exits 1"
crm insert customer "@$T/missing.json"
want_error 1
end

begin "insert with --now and --as stamps time and owner"
crm --now 2024-05-01T17:30:00+08:00 --as alice:sales,manager insert lead '{"name": "Lead A", "region": "north", "budget": "1200.50", "customer": 1}'
want_rc 0; want_out '{"id":1}'
crm get lead 1
want_out_has '2024-05-01T09:30:00'; want_out_has '"owner":"alice"'
end

begin "--as without a user exits 2"
crm --as :sales forms
want_error 2
end

# ---- actors: --as, whoami, can ----
begin "--as USER:ROLES;attrs builds the actor: whoami prints it"
raw --as 'ann:rep,manager;team=north;regions=north|east' whoami
want_rc 0; want_out_has '"user":"ann"'; want_out_has '"roles":["rep","manager"]'
want_out_has '"team":"north"'; want_out_has '"regions":["north","east"]'; want_no_err
raw --as 'ann;regions[]=north' whoami
want_rc 0; want_out_has '"regions":["north"]'; want_out_has '"roles":[]'
end

begin "--as: a backslash puts ; = | , : @ and itself in names and values"
raw --as 'a\:b\\c:rep;k=v=w;t=a\;b\|c' whoami
want_rc 0; want_out_has '"user":"a:b\\c"'; want_out_has '"roles":["rep"]'
want_out_has '"k":"v=w"'; want_out_has '"t":"a;b|c"'
raw --as '\@ann' whoami
want_rc 0; want_out_has '"user":"@ann"'
raw --as 'ann;q="x";s=DROP TABLE lead; --' whoami
want_error 2 # "s=DROP TABLE lead" then " --": an attribute without '='
raw --as "ann;q=\"x'\\\\\"" whoami
want_rc 0; want_out_has '"q":"\"x'"'"'\\\""'
end

begin "--as: every malformed actor is a usage error naming the part (exit 2)"
for bad in ':rep' 'ann:' 'ann:rep,,x' 'ann:r,r' 'ann;' 'ann;=x' 'ann;team' 'ann;team=' 'ann;a=x||y' \
	'ann;a=x|' 'ann;a=1;a=2' 'ann\' ''; do
	raw --as "$bad" whoami
	want_error 2
done
raw --as 'ann;team=' whoami
want_err_has "attribute 'team' has an empty value"
raw --as 'ann;a=1;a=2' whoami
want_err_has "attribute 'a' is given twice"
raw --as 'ann:rep,,x' whoami
want_err_has "an empty role"
raw --as 'ann:r\,x' whoami # the library's rule on role names
want_error 1; want_err_has "roles[0]"
end

begin "--as @FILE reads the actor JSON; the library refuses a bad one (exit 1)"
printf '%s' '{"user": "fin", "roles": ["finance"], "attrs": {"level": 3, "eu": true}}' >"$T/actor.json"
raw --as "@$T/actor.json" whoami
want_rc 0; want_out_has '"user":"fin"'; want_out_has '"level":3'; want_out_has '"eu":true'
printf '%s' '{"user": "x", "system": "yes"}' >"$T/actor-bad.json"
raw --as "@$T/actor-bad.json" whoami
want_error 1
printf '%s' '{"user": "x", "rolez": []}' >"$T/actor-bad.json"
raw --as "@$T/actor-bad.json" whoami
want_error 1
raw --as "@$T/missing.json" whoami
want_error 1
raw --as '@' whoami
want_error 2
end

begin "whoami without --as is the system actor"
raw whoami
want_rc 0; want_out_has '"system":true'
end

begin "can explains a decision: exit 0 allowed, 1 denied, 2 usage, 3 unknown form"
cat >"$T/perm.json" <<'JSON'
[{"form": "deal", "fields": [{"name": "title", "type": "text"}, {"name": "team", "type": "text", "actor_default": "team"}],
  "permissions": [{"roles": ["rep"], "allow": ["read", "create", "update"], "rows": {"field": "owner", "op": "eq", "actor": "user"}},
                  {"roles": ["manager"], "allow": ["read", "update", "delete"], "rows": {"field": "team", "op": "eq", "actor": "team"}}]}]
JSON
PDB=$T/perm.db
raw --db "$PDB" apply "$T/perm.json"
raw --db "$PDB" --as 'ann:rep;team=north' insert deal '{"title": "ann"}'
raw --db "$PDB" --as 'bob:rep;team=south' insert deal '{"title": "bob"}'
raw --db "$PDB" can ann:rep read deal 1
want_rc 0; want_out_has '"allowed":true'; want_out_has '"reason":"allowed by rule 1 of role rep"'
raw --db "$PDB" can ann:rep delete deal 1
want_rc 1; want_out_has '"allowed":false'; want_out_has 'grants delete on deal'
raw --db "$PDB" can 'meg:manager;team=north' delete deal 1
want_rc 0; want_out_has 'rule 2 of role manager'
# another rep's record is explained as a missing one
raw --db "$PDB" can ann:rep read deal 2
want_rc 1; want_out_has '"allowed":false'
got=$(sed 's/ 2"/ #"/' "$T/out")
raw --db "$PDB" can ann:rep read deal 99
[[ $got == "$(sed 's/ 99"/ #"/' "$T/out")" ]] || problem "an unreadable record is explained unlike a missing one"
raw --db "$PDB" can ann:rep frob deal
want_error 2; want_err_has "VERB must be read, create, update, delete or fire:EVENT"
raw --db "$PDB" can ann:rep read nosuch
want_error 3
raw --db "$PDB" --as bob:rep can ann:rep read deal
want_error 2; want_err_has "leave out --as"
raw --db "$PDB" can 'ann:' read deal
want_error 2
raw --db "$PDB" can ann:rep read
want_error 2
end

begin "--as is enforced on every verb: another rep's record exits 3, a denied write 6"
raw --db "$PDB" --as ann:rep get deal 2
want_error 3; want_err_has "no deal record with id 2"
raw --db "$PDB" --as ann:rep query deal
want_rc 0; want_out_has '"title":"ann"'; want_out_lacks '"title":"bob"'
raw --db "$PDB" --as ann:rep delete deal 1
want_error 6
raw --db "$PDB" get deal 1
want_rc 0; want_out_has '"title":"ann"'
echo '{"report": "by_team", "source": "deal", "dimensions": ["team"], "measures": [{"name": "n", "agg": "count"}]}' >"$T/by_team.json"
raw --db "$PDB" apply "$T/by_team.json"
raw --db "$PDB" --as ann:rep report by_team --format csv
want_rc 0; want_out 'team,n
north,1'
raw --db "$PDB" --as ann:rep report by_team --drill '{"team": "south"}'
want_rc 0
raw --db "$PDB" --as ann:rep query deal --query "$(cat "$T/out")"
want_rc 0; want_out '[]'
raw --db "$PDB" report by_team --format csv
want_rc 0; want_out_has 'south,1'
end

begin "--as: huge input is refused by the library's limits, never a crash"
long=$(head -c 100000 /dev/zero | tr '\0' 'r')
raw --as "ann:$long" whoami
want_error 1; want_err_has "roles[0]"
roles=$(seq -s, 1 5000 | sed 's/[0-9]\+/r&/g')
raw --as "ann:$roles" whoami
want_error 1; want_err_has "at most 256"
vals=$(seq -s'|' 1 5000)
raw --as "ann;a=$vals" whoami
want_error 1; want_err_has "more than 256 items"
end

# ---- get ----
begin "get prints the record"
crm get customer 1
want_rc 0; want_out_has '"name":"Acme"'; want_out_has '"id":1'; want_no_err
end

begin "get of a missing id exits 3"
crm get customer 999
want_error 3
end

begin "get with a non-numeric id exits 2"
crm get customer abc
want_error 2
end

# ---- update / delete ----
begin "update changes a field and prints the id"
crm update customer 2 '{"name": "Beta Two"}'
want_rc 0; want_out '{"id":2,"updated":true}'
crm get customer 2
want_out_has '"name":"Beta Two"'; want_out_has '"version":2'
end

begin "update with a stale --if-version exits 5 and changes nothing"
crm update customer 2 '{"name": "Stale"}' --if-version 1
want_error 5
crm get customer 2
want_out_has '"name":"Beta Two"'
end

begin "update with the current --if-version succeeds"
crm update customer 2 --if-version 2 '{"name": "Beta Three"}'
want_rc 0
crm get customer 2
want_out_has '"name":"Beta Three"'; want_out_has '"version":3'
end

begin "update failing validation exits 4"
crm update customer 2 '{"phone": "nope"}'
want_error 4; want_err_has '"phone"'
end

begin "update of bad JSON exits 1"
crm update customer 2 '{"name": '
want_error 1
end

begin "update of a missing record exits 3"
crm update customer 999 '{"name": "x"}'
want_error 3
end

begin "update without JSON reads it from stdin"
crm update customer 2
want_error 1; want_err_has "not a valid JSON object"
crm update customer
want_error 2
end

begin "--if-version must be a positive integer"
crm update customer 2 '{}' --if-version zero
want_error 2
end

begin "delete with a stale --if-version exits 5"
crm delete customer 3 --if-version 7
want_error 5
[[ $(count customer) == 6 ]] || problem "count changed"
end

begin "delete removes the record"
crm delete customer 3 --if-version 1
want_rc 0; want_out '{"id":3,"deleted":true}'
crm get customer 3
want_rc 3
end

begin "delete of a missing record exits 3"
crm delete customer 3
want_error 3
end

# ---- query ----
begin "query prints a JSON array of every record"
crm query customer
want_rc 0; want_no_err
[[ $(head -c1 "$T/out") == "[" ]] || problem "not an array"
[[ $(grep -c '"phone"' "$T/out") == 5 ]] || problem "want 5 rows"
end

begin "query filter, sort and limit"
crm query customer --filter '{"field": "name", "op": "starts_with", "value": "E"}' --sort=-name --limit 5
want_rc 0
want_out_has '"Epsilon"'; want_out_lacks '"Acme"'
end

begin "query sort order is respected"
crm query customer --sort -phone --format ndjson --fields phone
want_rc 0
[[ $(head -n1 "$T/out") == *13800000006* ]] || problem "first row is not the highest phone"
[[ $(tail -n1 "$T/out") == *13800000001* ]] || problem "last row is not the lowest phone"
end

begin "query ndjson prints one object per line"
crm query customer --format ndjson
want_rc 0
[[ $(lines) == 5 ]] || problem "want 5 lines, got $(lines)"
end

begin "query with no match prints an empty array"
crm query customer --filter '{"field": "name", "op": "eq", "value": "nobody"}'
want_rc 0; want_out '[]'
end

begin "query csv quotes commas, quotes and newlines (RFC 4180)"
crm query customer --format csv --fields name,note --filter '{"field": "id", "op": "eq", "value": 6}'
want_rc 0
head -n1 "$T/out" | grep -q '^id,name,note' || problem "header is $(head -n1 "$T/out")"
grep -qF '"Zeta, ""Z"" Ltd","line one' "$T/out" || problem "quoted fields missing"
grep -qF 'said ""hi"", then left"' "$T/out" || problem "embedded newline field missing"
end

begin "query csv writes null as an empty field"
crm query customer --format csv --fields name,note --filter '{"field": "id", "op": "eq", "value": 1}'
want_rc 0
sed -n 2p "$T/out" | grep -q '^1,Acme,' || problem "row is $(sed -n 2p "$T/out")"
end

begin "query --offset skips rows"
crm query customer --sort phone --offset 4 --format ndjson
want_rc 0
[[ $(lines) == 1 ]] || problem "want 1 line"; want_out_has '13800000006'
end

begin "query --with-token and --after page through results"
crm query customer --sort phone --limit 2 --with-token --format ndjson
want_rc 0; want_out_has '"_token":'
token=$(tail -n1 "$T/out" | sed 's/.*"_token":"\([^"]*\)".*/\1/')
crm query customer --sort phone --limit 2 --after "$token" --format ndjson
want_rc 0; want_out_has '13800000004'; want_out_lacks '13800000001'
end

begin "query with a bad --after token exits 1"
crm query customer --after not-a-token
want_error 1
end

begin "query --fields with an empty name exits 2"
crm query customer --fields name,,phone
want_error 2
end

begin "query --filter with two JSON values exits 1"
crm query customer --filter '{} {}'
want_error 1
end

begin "query of an unknown form exits 3"
crm query nosuch
want_error 3
end

begin "query with a bad filter JSON exits 1 and prints nothing"
crm query customer --filter '{"field": "name",'
want_error 1
end

begin "query with an unknown field in the filter fails, naming it"
crm query customer --filter '{"field": "nosuch", "op": "eq", "value": 1}'
[[ $rc == 1 || $rc == 3 ]] || problem "exit $rc, want 1 or 3"
want_no_out; want_err_has "nosuch"
end

begin "query --format must be known (exit 2)"
crm query customer --format xml
want_error 2
end

begin "query --limit must be a number (exit 2)"
crm query customer --limit ten
want_error 2
end

begin "query with an unknown option exits 2"
crm query customer --colour red
want_error 2
end

begin "query --filter @file"
echo '{"field": "name", "op": "eq", "value": "Acme"}' >"$T/filter.json"
crm query customer --filter "@$T/filter.json" --format ndjson
want_rc 0; [[ $(lines) == 1 ]] || problem "want 1 line"
end

# ---- count ----
begin "count prints the number of records"
crm count customer
want_rc 0; want_out '{"count":5}'
end

begin "count with a filter"
crm count customer --filter '{"field": "name", "op": "starts_with", "value": "E"}'
want_rc 0; want_out '{"count":1}'
end

begin "count of an unknown form exits 3"
crm count nosuch
want_error 3
end

# ---- migration ----
begin "apply --plan shows a migration and changes nothing"
crm apply --plan "$T/v2/lead.json"
want_rc 0; want_no_err
want_out_has '{"kind":"form","name":"lead","action":"changed","version":2,"changes":[{"change":"add","field":"source","rows":'
crm form lead
want_out_lacks '"source"'
end

begin "apply --plan on a database not made yet plans against an empty one and creates nothing"
"$CRM" --db "$T/fresh.db" apply --plan "$T/forms" >"$T/out" 2>"$T/err"
rc=$?
want_rc 0; want_out_has '"action":"created"'
[[ ! -e $T/fresh.db ]] || problem "a plan created a database"
end

begin "re-applying a changed form migrates it and keeps the data"
crm apply "$T/v2/lead.json"
want_rc 0; want_out_has '"changes":[{"change":"add","field":"source"'
crm form lead
want_out_has '"source"'
crm update lead 1 '{"source": "wechat"}'
want_rc 0
crm get lead 1
want_out_has '"source":"wechat"'; want_out_has '"name":"Lead A"'
end

begin "renaming a field by its name alone is refused as data loss; --allow-data-loss drops it"
sed 's/"source"/"channel"/' "$T/v2/lead.json" >"$T/v3.json"
crm apply "$T/v3.json"
want_error 4
want_err_has "crm: $T/v3.json: form lead: removing field 'source' would discard 1 value"
want_err_has '"id": "source"'
crm get lead 1
want_out_has '"source":"wechat"'
crm apply --plan "$T/v3.json"
want_rc 0; want_out_has '{"change":"drop","field":"source","rows":'; want_out_has '"data_loss":true'
crm apply --allow-data-loss "$T/v3.json"
want_rc 0; want_out_has '"change":"drop","field":"source"'
crm get lead 1
want_out_has '"channel":null'; want_out_lacks '"source"'
rm -f "$T/v3.json"
end

# ---- environment ----
begin "CRM_DB is used when --db is absent"
CRM_DB=$DB "$CRM" count customer >"$T/out" 2>"$T/err"
rc=$?
want_rc 0; want_out '{"count":5}'
end

# ---- workflows (a database of their own) ----
DB=$T/wf.db
mkdir -p "$T/wf" "$T/wf2"
cat >"$T/wf/forms.json" <<'JSON'
[{"form": "lead", "fields": [
   {"name": "name",   "type": "text", "required": true},
   {"name": "region", "type": "enum", "options": ["north", "south", "east", "west"]},
   {"name": "budget", "type": "decimal", "scale": 2, "min": 0}]},
 {"form": "task", "fields": [
   {"name": "title",    "type": "text", "required": true},
   {"name": "lead",     "type": "ref", "form": "lead", "on_delete": "cascade"},
   {"name": "assignee", "type": "text"}]},
 {"form": "contract", "fields": [
   {"name": "title",  "type": "text", "required": true},
   {"name": "amount", "type": "decimal", "scale": 2}]}]
JSON
cat >"$T/wf/plugin.json" <<'JSON'
{"plugin": "routing",
 "lua": "local owners = {north = 'nora', south = 'sam'}\nreturn {assign = function(ctx) return {owner = owners[ctx.record.region] or 'pool'} end}"}
JSON
cat >"$T/wf/workflows.json" <<'JSON'
[{"workflow": "lead_flow", "form": "lead", "start_on": "create", "initial": "new",
  "states": {
    "new": {"on_enter": [{"call": "routing.assign"},
                         {"create": {"form": "task", "values": {"title": "Call", "lead": {"field": "id"}, "assignee": {"field": "owner"}}}}],
            "timers": [{"after": "24h", "event": "sla_breach"}]},
    "contacted": {},
    "escalated": {"on_enter": [{"emit": "lead_escalated"}]},
    "qualified": {"final": true}},
  "transitions": [
    {"from": ["new", "escalated"], "event": "contact", "to": "contacted"},
    {"from": "new", "event": "sla_breach", "to": "escalated"},
    {"from": "contacted", "event": "qualify", "to": "qualified", "guard": {"field": "budget", "op": "ge", "value": 1000}}]},
 {"workflow": "contract_review", "form": "contract", "start_on": "create", "initial": "draft",
  "states": {
    "draft": {},
    "review": {"approval": {"mode": "sequential", "steps": [{"role": "legal"}, {"role": "finance"}],
                            "approved": "approved", "rejected": "rejected"}},
    "signed": {"final": true}},
  "transitions": [
    {"from": "draft", "event": "submit", "to": "review"},
    {"from": "review", "event": "approved", "to": "signed"},
    {"from": "review", "event": "rejected", "to": "draft"}]},
 {"workflow": "onboarding", "initial": "open",
  "states": {"open": {}, "closed": {"final": true}},
  "transitions": [{"from": "open", "event": "close", "to": "closed"}]},
 {"decision": "region_owner", "inputs": ["region"], "outputs": ["owner"],
  "rules": [{"when": {"region": "north"}, "then": {"owner": "nora"}}, {"then": {"owner": "pool"}}]},
 {"decision": "tags", "inputs": ["budget"], "outputs": ["tag"], "hit": "collect",
  "rules": [{"when": {"budget": {"op": "ge", "value": 100}}, "then": {"tag": "big"}}, {"then": {"tag": "any"}}]}]
JSON
# version 2 of onboarding renames "open" to "active"
cat >"$T/wf2/onboarding.json" <<'JSON'
{"workflow": "onboarding", "initial": "active",
 "states": {"active": {}, "closed": {"final": true}},
 "transitions": [{"from": "active", "event": "close", "to": "closed"}],
 "migrate": {"states": {"open": "active"}}}
JSON
T0=2024-05-01T09:00:00Z

begin "apply forms, a plugin, workflows and decision tables in one call"
crm apply "$T/wf"
want_rc 0; want_no_err
want_out_has '"changed":'
end

begin "insert starts the workflow: routed owner, task, instance in its initial state"
crm --as alice:sales --now $T0 insert lead '{"name": "Zhang Wei", "region": "north"}'
want_rc 0; want_out '{"id":1}'
crm get lead 1
want_out_has '"owner":"nora"'
crm query task --format ndjson
want_out_has '"assignee":"nora"'; want_out_has '"lead":1'
crm instances lead 1
want_rc 0; want_out_has '"workflow":"lead_flow"'; want_out_has '"state":"new"'; want_out_has '"status":"active"'
want_out_has '"started_at":"2024-05-01T09:00:00.000Z"'
end

begin "events lists what the record's state allows"
crm events lead 1
want_rc 0; want_no_err
want_out_has '"event":"contact","to":"contacted","enabled":true'; want_out_has '"event":"sla_breach"'
want_out_lacks '"event":"qualify"'
end

begin "fire of an event the state does not allow exits 1 listing the allowed ones"
crm fire lead 1 qualify
want_error 1; want_err_has "not allowed"; want_err_has "allowed: contact, sla_breach"
crm instances lead 1
want_out_has '"state":"new"'
end

begin "fire with fields failing validation exits 4 and changes nothing"
crm fire lead 1 contact '{"budget": -5}'
want_error 4; want_err_has '"budget"'
crm instances lead 1
want_out_has '"state":"new"'
end

begin "fire with bad JSON fields exits 1"
crm fire lead 1 contact '{"budget": '
want_error 1
end

begin "fire as --as at --now moves the state and prints the instances"
crm --as bob:sales --now 2024-05-01T10:30:00Z fire lead 1 contact
want_rc 0; want_no_err
want_out_has '"state":"contacted"'; want_out_has '"entered_at":"2024-05-01T10:30:00.000Z"'
[[ $(head -c1 "$T/out") == "[" ]] || problem "not an array"
end

begin "history shows every transition with the actor from --as and the time from --now"
crm history lead 1
want_rc 0
want_out_has '"at":"2024-05-01T09:00:00.000Z","event":"(start)","from":null,"to":"new","actor":"alice"'
want_out_has '"at":"2024-05-01T10:30:00.000Z","event":"contact","from":"new","to":"contacted","actor":"bob"'
end

begin "a guard that refuses exits 4; the fields written with it are undone"
crm fire lead 1 qualify '{"budget": 10}'
want_error 4; want_err_has "guard"
crm get lead 1
want_out_has '"budget":null'
crm instances lead 1
want_out_has '"state":"contacted"'
end

begin "fire with JSON fields that satisfy the guard (JSON from stdin)"
crm_in '{"budget": 5000}' fire lead 1 qualify -
want_rc 0; want_out_has '"state":"qualified"'; want_out_has '"status":"done"'
crm get lead 1
want_out_has '"budget":5000.00'
end

begin "fire on a finished workflow exits 1"
crm fire lead 1 contact
want_error 1
end

begin "fire on an unknown form exits 3"
crm fire nosuch 1 contact
want_error 3
end

begin "fire with missing arguments or a bad id exits 2"
crm fire lead 1
want_error 2
crm fire lead one contact
want_error 2
end

begin "tick fires a due timer exactly once"
crm --now $T0 insert lead '{"name": "Li Na", "region": "south"}'
want_out '{"id":2}'
crm tick --now 2024-05-02T08:59:59Z
want_rc 0; want_out '{"fired":0}'
crm tick --now 2024-05-02T09:00:00Z
want_rc 0; want_out '{"fired":1}'
crm tick --now 2024-05-02T09:00:00Z
want_rc 0; want_out '{"fired":0}'
crm tick --now 2024-05-09T00:00:00Z
want_out '{"fired":0}'
crm instances lead 2
want_out_has '"state":"escalated"'
end

begin "the timer's event is in the history, at the tick's time, with no actor"
crm history lead 2
want_out_has '"at":"2024-05-02T09:00:00.000Z","event":"sla_breach","from":"new","to":"escalated","actor":null'
want_out_has '"event":"(start)"'
end

begin "tick honours the global --now"
crm --now 2024-06-01T00:00:00Z insert lead '{"name": "Chen Jie", "region": "east"}'
crm --now 2024-06-01T23:00:00Z tick
want_out '{"fired":0}'
crm --now 2024-06-02T00:00:00Z tick
want_out '{"fired":1}'
crm get lead 3
want_out_has '"owner":"pool"'
end

begin "tick --now must be a time, and tick takes no arguments (exit 2)"
crm tick --now tomorrow
want_error 2
crm tick now
want_error 2
end

begin "history, events and instances of an unknown form exit 3; of a record without workflows print []"
crm history nosuch 1
want_error 3
crm events nosuch 1
want_error 3
crm instances nosuch 1
want_error 3
crm history lead 99
want_rc 0; want_out '[]'
crm history lead
want_error 2
end

begin "start a workflow on a record that has one exits 1"
crm start lead_flow 2
want_error 1; want_err_has "already has"
end

begin "start of an unknown workflow exits 3; a form-bound one without ID exits 1"
crm start nosuch
want_error 3
crm start lead_flow
want_error 1
crm start lead_flow x
want_error 2
end

begin "start a free-standing workflow prints its instance; fire --instance moves it"
crm start onboarding
want_rc 0; want_out_has '{"instance":'
inst=$(sed 's/[^0-9]//g' "$T/out")
crm fire --instance "$inst" close
want_rc 0; want_out_has "\"id\":$inst,\"workflow\":\"onboarding\""; want_out_has '"state":"closed","status":"done"'
crm fire --instance "$inst" close
want_error 1; want_err_has "done"
end

begin "fire --instance of a missing instance exits 3; a bad one exits 2"
crm fire --instance 999 close
want_error 3
crm fire --instance zero close
want_error 2
crm fire --instance 1 close '{}' extra
want_error 2
end

begin "approve without --as exits 2 and touches nothing"
crm --as sam:sales insert contract '{"title": "ACME frame contract", "amount": 250000}'
want_out '{"id":1}'
crm fire contract 1 submit
want_rc 0; want_out_has '"state":"review"'
crm approve contract 1
want_error 2; want_err_has "--as"
end

begin "approval by the wrong role exits 6 naming the awaited approver"
crm --as fred:finance approve contract 1
want_error 6; want_err_has "waiting for role legal"; want_err_has '"CRM_EPERM"'
crm instances contract 1
want_out_has '"state":"review"'
end

begin "reject needs --reason (exit 2); approve takes no --reason"
crm --as lena:legal reject contract 1
want_error 2
crm --as lena:legal reject contract 1 --reason ''
want_error 2
crm --as lena:legal approve contract 1 --reason x
want_error 2
end

begin "approvals in sequence: legal, then finance; the record moves on"
crm --as lena:legal,audit --now 2024-05-03T10:00:00Z approve contract 1
want_rc 0; want_out_has '"state":"review"'
crm --as lena:legal approve contract 1
want_error 6; want_err_has "finance"
crm --as fred:finance --now 2024-05-03T11:00:00Z approve contract 1
want_rc 0; want_out_has '"state":"signed"'
crm history contract 1
want_out_has '"at":"2024-05-03T10:00:00.000Z","event":"approve","from":"review","to":"review","actor":"lena"'
want_out_has '"event":"approved","from":"review","to":"signed","actor":"fred"'
end

begin "reject with a reason returns the record; the reason is in the history"
crm insert contract '{"title": "Risky", "amount": 900000}'
crm fire contract 2 submit
crm --as lena:legal reject contract 2 --reason "unlimited liability"
want_rc 0; want_out_has '"state":"draft"'
crm history contract 2
want_out_has '"event":"reject"'; want_out_has '"reason":"unlimited liability"'; want_out_has '"actor":"lena"'
end

begin "approve on a record that awaits no approval exits 1; on an unknown form 3"
crm --as lena:legal approve contract 2
want_error 1
crm --as lena:legal approve nosuch 1
want_error 3
crm --as lena:legal approve contract 999
want_error 3
end

begin "exit 3 for a missing record on every verb that needs one; history and instances of it are []"
for args in "get lead 999" "update lead 999 {}" "delete lead 999" "fire lead 999 go" "events lead 999" \
	"start lead_flow 999" "--as lena:legal reject contract 999 --reason x"; do
	# shellcheck disable=SC2086
	crm $args
	want_error 3
done
crm history lead 999
want_rc 0; want_out '[]'
crm instances lead 999
want_rc 0; want_out '[]'
end

begin "migrate-workflow moves active instances to the latest version"
crm start onboarding
inst=$(sed 's/[^0-9]//g' "$T/out")
crm apply "$T/wf2/onboarding.json"
want_rc 0
crm migrate-workflow onboarding
want_rc 0; want_out '{"migrated":1}'
crm migrate-workflow onboarding
want_out '{"migrated":0}'
crm fire --instance "$inst" close
want_rc 0
end

begin "migrate-workflow of an unknown workflow exits 3; without a name exits 2"
crm migrate-workflow nosuch
want_error 3
crm migrate-workflow
want_error 2
end

begin "decide prints the first matching rule's outputs"
crm decide region_owner '{"region": "north"}'
want_rc 0; want_out '{"owner":"nora"}'
crm decide region_owner '{"region": "west"}'
want_out '{"owner":"pool"}'
end

begin "decide with hit policy collect prints an array; inputs from a file"
echo '{"budget": 500}' >"$T/inputs.json"
crm decide tags "@$T/inputs.json"
want_rc 0; want_out '[{"tag":"big"},{"tag":"any"}]'
end

begin "decide: unknown table exits 3, bad or non-object inputs exit 1"
crm decide nosuch '{}'
want_error 3
crm decide region_owner '{"region": '
want_error 1
crm decide region_owner '[1]'
want_error 1
crm decide
want_error 2
crm_in '{"region": "north"}' decide region_owner
want_rc 0; want_out_has '"owner"'
end

# ---- reports (on the workflow database: leads 1 north 5000.00 nora, 2 south sam, 3 east pool) ----
cat >"$T/report.json" <<'JSON'
{"report": "leads_by_region", "source": "lead", "dimensions": ["region"],
 "measures": [{"name": "leads", "agg": "count"}, {"name": "budget", "agg": "sum", "field": "budget"}],
 "filter": {"field": "owner", "op": "ne", "param": "not_owner"},
 "params": {"not_owner": {"type": "text", "default": "-"}}}
JSON

begin "report prints columns and rows as JSON"
crm apply "$T/report.json"
want_rc 0; want_out_has '{"kind":"report","name":"leads_by_region","action":"created"'
crm report leads_by_region
want_rc 0; want_no_err
want_out_has '"columns":[{"name":"region"'; want_out_has '{"region":"north","leads":1,"budget":5000.00}'
want_out_has '{"region":"south","leads":1,"budget":null}'
end

begin "report --format csv"
crm report leads_by_region --format csv
want_rc 0
[[ $(head -n1 "$T/out") == "region,leads,budget" ]] || problem "header is $(head -n1 "$T/out")"
grep -qx 'north,1,5000.00' "$T/out" || problem "north row missing"
grep -qx 'south,1,' "$T/out" || problem "south row (null budget) missing"
end

begin "report --format ndjson and table print the rows"
crm report leads_by_region --format ndjson
want_rc 0; want_out_has '{"region":"north"'; [[ $(lines) == 3 ]] || problem "$(lines) lines, want 3"
crm report leads_by_region --format table
want_rc 0
[[ $(sed -n 1p "$T/out") == "region  leads  budget" ]] || problem "header '$(sed -n 1p "$T/out")'"
grep -q '^north  *1  *5000.00$' "$T/out" || problem "north row not aligned"
end

begin "report --param: plain text is a string, JSON is JSON"
crm report leads_by_region --param not_owner=nora
want_rc 0; want_out_lacks '"north"'; want_out_has '"south"'
crm report leads_by_region --param 'not_owner="sam"'
want_rc 0; want_out_has '"north"'; want_out_lacks '"south"'
end

begin "report --param with a number for a text parameter exits 1"
crm report leads_by_region --param not_owner=42
want_error 1; want_err_has "not_owner"
end

begin "report --param of an unknown parameter exits 1 naming it"
crm report leads_by_region --param bogus=1
want_error 1; want_err_has "bogus"
end

begin "report --param without '=' or given twice exits 2"
crm report leads_by_region --param not_owner
want_error 2
crm report leads_by_region --param =x
want_error 2
crm report leads_by_region --param not_owner=a --param not_owner=b
want_error 2
end

begin "report --explain shows the SQL, binds and plan"
crm report leads_by_region --explain --param not_owner=nora
want_rc 0; want_out_has '"sql":'; want_out_has '"value":"nora","param":"not_owner"'; want_out_has '"plan":'
# what is not exactly one JSON value stays text
for v in 007 '[1,' '"open' '{"a":1}x' 1e 'true false' ''; do
	crm report leads_by_region --explain --param "not_owner=$v"
	if [[ -n $v ]]; then
		want_rc 0; want_out_has "\"value\":$(printf '%s' "$v" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/"/')"
	else
		want_error 1 # an empty text parameter is refused by the report engine
	fi
done
end

begin "report --drill prints the query behind a row; it finds that row's records"
crm report leads_by_region --drill '{"region": "north"}'
want_rc 0; want_out_has '"filter":'
filter=$(sed 's/^{"filter":\(.*\)}$/\1/' "$T/out")
crm count lead --filter "$filter"
want_out '{"count":1}'
crm report leads_by_region --drill '{"region": "north"}'
cp "$T/out" "$T/drill.json"
crm query lead --query @"$T/drill.json" --format ndjson
want_rc 0; [[ $(lines) == 1 ]] || problem "the drilled query is not query input"
end

begin "report option errors exit 2"
crm report leads_by_region --format xml
want_error 2
crm report leads_by_region --explain --drill '{}'
want_error 2
crm report leads_by_region --format csv --explain
want_error 2
crm report
want_error 2
end

begin "report of an unknown name exits 3"
crm report nosuch
want_error 3
end

begin "--help lists the workflow verbs and exit code 6"
raw --help
want_out_has "fire FORM ID EVENT"; want_out_has "tick [--now TIME]"; want_out_has "report NAME"
want_out_has "6 not permitted"
end

# ---- issue 7: bounded input, which files are touched, conventions of git/sqlite3/jq ----
DB=$T/conv.db
mkdir -p "$T/conv"
cat >"$T/conv/person.json" <<'JSON'
{"form": "person", "fields": [
  {"name": "name", "type": "text", "required": true},
  {"name": "email", "type": "email", "unique": true},
  {"name": "age", "type": "integer"},
  {"name": "shout", "type": "computed", "lua": "print('computing ' .. record.name) return string.upper(record.name)"}]}
JSON

begin "apply of /dev/zero stops at the first NUL byte (exit 1) and creates nothing"
timeout 20 "$CRM" --db "$DB" apply /dev/zero >"$T/out" 2>"$T/err"; rc=$?
want_error 1; want_err_has "NUL byte at offset 0"
[[ ! -e $DB ]] || problem "database file was created"
end

begin "input past --max-input (or CRM_MAX_INPUT) is refused with exit 1"
head -c 5000 /dev/zero | tr '\0' ' ' >"$T/big.json"
crm --max-input 1000 apply "$T/big.json"
want_error 1; want_err_has "larger than 1000 bytes"; want_err_has CRM_ELIMIT
CRM_MAX_INPUT=1000 "$CRM" --db "$DB" apply "$T/big.json" >"$T/out" 2>"$T/err"; rc=$?
want_error 1; want_err_has "larger than 1000 bytes"
end

begin "a failed apply on a new path leaves no file behind"
crm apply - <<<'{"form": "bad", "fields": [{"name": "x", "type": "no_such_type"}]}' 2>/dev/null
crm_in '{"form": "bad", "fields": [{"name": "x", "type": "no_such_type"}]}' apply -
want_error 1
[[ ! -e $DB && ! -e $DB-wal ]] || problem "a database was left behind"
end

begin "apply defines the forms (the database is created)"
crm apply "$T/conv"
want_rc 0
end

begin "a verb on an SQLite file of another application exits 1 and leaves it unchanged"
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("create table notes(x)"); c.commit()' "$T/other.db"
sum_before=$(cksum <"$T/other.db")
"$CRM" --db "$T/other.db" forms >"$T/out" 2>"$T/err"; rc=$?
want_error 1; want_err_has "not a libcrm database"
"$CRM" --db "$T/other.db" apply "$T/conv" >"$T/out" 2>"$T/err"; rc=$?
want_error 1
[[ $(cksum <"$T/other.db") == "$sum_before" && ! -e $T/other.db-wal ]] || problem "the file changed"
"$CRM" --db "$T/other.db" --init apply "$T/conv" >"$T/out" 2>"$T/err"; rc=$?
want_rc 0
end

begin "crm help VERB and crm VERB --help print the verb's usage"
raw help insert
want_rc 0; want_out_has "usage: crm insert FORM"
crm query --help
want_rc 0; want_out_has "usage: crm query FORM"; want_no_err
raw help frobnicate
want_error 2
for v in apply forms form insert upsert get update delete query count start fire tick history events instances \
	approve reject migrate-workflow decide report; do
	raw "$v" --help
	[[ $rc == 0 && $(head -c 11 "$T/out") == "usage: crm " ]] || problem "$v --help"
done
end

begin "global options are accepted after the verb"
"$CRM" forms --db "$DB" --format csv >"$T/out" 2>"$T/err"; rc=$?
want_rc 0; want_out_has "form,version,label"
end

begin "did you mean: unknown verbs, options, forms and fields"
crm qurey person
want_error 2; want_err_has "did you mean 'query'"
crm query person --fitler '{}'
want_error 2; want_err_has "did you mean '--filter'"
crm query persno
want_error 3; want_err_has "did you mean 'person'"
crm query person --sort nmae
want_error 1; want_err_has "did you mean 'name'"
end

begin "insert reads stdin when JSON is left out; pretty-printed and concatenated objects are a batch"
printf '{"name": "Ann", "email": "ann@example.com"}{"name": "Bob"}\n{\n  "name": "Cy",\n  "age": 30\n}\n' >"$T/people.json"
"$CRM" --db "$DB" insert person <"$T/people.json" >"$T/out" 2>"$T/err"; rc=$?
want_rc 0; want_out '{"ids":[1,2,3]}'
crm_in '{"name": "Dee"}' insert person
want_rc 0; want_out '{"id":4}'
crm_in '{"name": "X1"}{"name": "X2"}{"name": ' insert person
want_error 1
[[ $(count person) == 4 ]] || problem "a broken last value let the others in"
end

begin "insert --count prints how many; --quiet prints nothing"
printf '{"name": "E1"}\n{"name": "E2"}\n' >"$T/two.ndjson"
"$CRM" --db "$DB" insert person --count <"$T/two.ndjson" >"$T/out" 2>"$T/err"; rc=$?
want_rc 0; want_out '{"inserted":2}'
"$CRM" --db "$DB" insert person --quiet <"$T/two.ndjson" >"$T/out" 2>"$T/err"; rc=$?
want_rc 0; want_no_out
end

begin "upsert inserts, then updates the record with the same unique key"
crm upsert person email '{"name": "Fay", "email": "fay@example.com"}'
want_rc 0; want_out_has '"inserted":true'
crm upsert person email '{"name": "Fay B", "email": "fay@example.com"}'
want_rc 0; want_out_has '"inserted":false'
[[ $(count person '{"field":"name","op":"eq","value":"Fay B"}') == 1 ]] || problem "not updated"
end

begin "--format table prints an aligned table with a header"
crm query person --fields name,age --sort name --limit 2 --no-system --format table
want_rc 0
[[ $(sed -n 1p "$T/out") == "name"*"age" && $(sed -n 2p "$T/out") == "----"* ]] || problem "no header"
[[ $(sed -n 3p "$T/out") == "Ann "* ]] || problem "first row"
end

begin "--format works on every verb that prints records; others refuse it (exit 2)"
crm get person 1 --format csv
want_rc 0; want_out_has "name,email"
crm forms --format ndjson
want_rc 0; [[ $(lines) == 1 ]] || problem "one form, one line"
crm count person --format csv
want_error 2
end

begin "Lua print is on stderr; --log-level off hides it"
crm_in '{"name": "Gil"}' insert person
want_rc 0; want_err_has "computing Gil"
crm_in '{"name": "Hal"}' insert person --log-level off
want_rc 0; want_no_err
crm --log-level loud forms
want_error 2
end

begin "an export with --no-system re-imports into an empty copy unchanged"
crm query person --format ndjson --no-system --sort name
cp "$T/out" "$T/export.ndjson"
want_out_lacks '"created_at"'
"$CRM" --db "$T/copy.db" apply "$T/conv" >/dev/null 2>&1
"$CRM" --db "$T/copy.db" insert person --quiet <"$T/export.ndjson" >"$T/out" 2>"$T/err"; rc=$?
want_rc 0
"$CRM" --db "$T/copy.db" query person --format ndjson --no-system --sort name >"$T/out" 2>"$T/err"
cmp -s "$T/out" "$T/export.ndjson" || problem "the copy differs"
end

begin "query --query takes a whole query document (report --drill prints one)"
crm query person --query '{"filter": {"field": "age", "op": "eq", "value": 30}}' --format ndjson --no-system
want_rc 0; want_out_has '"name":"Cy"'; [[ $(lines) == 1 ]] || problem "one row"
crm query person --query '{}' --limit 1
want_error 2
end

DB=$T/view.db
begin "apply without a path reads the documents from stdin"
DB=$T/stdin-apply.db
crm_in '{"form": "note", "fields": [{"name": "text", "type": "text"}]}' apply
want_rc 0; want_out_has '"name":"note","action":"created"'
end

begin "sqlite3 reads human values from a form's view"
crm apply "$T/forms"
want_rc 0
crm insert lead '{"name": "Viewed", "region": "east", "budget": "12000.50"}'
want_rc 0
[[ $(sqlite3 "$DB" "SELECT budget, substr(created_at, 11) FROM crm_view_lead WHERE name = 'Viewed'") == "12000.5|T"*"Z" ]] ||
	problem "crm_view_lead does not show budget 12000.5 and an ISO created_at"
end

begin "check finds drift from raw SQL, exits 4 and changes nothing"
crm check
want_rc 0; want_out_has '"problems":0,'
sqlite3 "$DB" "UPDATE lead SET region = 'mars' WHERE name = 'Viewed'"
crm check lead
want_rc 4; want_out_has '"code":"option","message":"'"'mars'"' is not an option of region"'
[[ $(sqlite3 "$DB" "SELECT region FROM lead WHERE name = 'Viewed'") == mars ]] || problem "check changed the record"
crm check nosuch
want_error 3
end

begin "audit lists a record's entries; record-at and revert read them back"
crm --now 2030-01-01T00:00:00Z insert lead '{"name": "Audited", "region": "east"}'
want_rc 0
aid=$(sed 's/[^0-9]//g' "$T/out")
crm --now 2030-01-02T00:00:00Z --as bob update lead "$aid" '{"name": "Renamed"}'
want_rc 0
crm audit lead "$aid"
want_rc 0; want_out_has '"op":"insert"'; want_out_has '"actor":"bob","op":"update"'
want_out_has '"data":{"name":["Audited","Renamed"]}'
crm record-at lead "$aid" 2030-01-01T12:00:00Z
want_rc 0; want_out_has '"name":"Audited"'; want_out_has '"version":1}'
crm record-at lead "$aid" 2029-12-31T00:00:00Z
want_error 3
crm revert lead "$aid" 1
want_rc 0; want_out_has '"name":"Audited"'; want_out_has '"version":3'
crm audit lead "$aid"
want_out_has '"op":"revert"'
crm revert lead "$aid" 3
want_error 1
crm revert lead "$aid" x
want_error 2
crm audit lead
want_error 2
end

begin "audit verify exits 0 on an intact chain and 1 after an edit with the sqlite3 CLI"
crm audit verify
want_rc 0; want_out_has '"ok":true'
head=$(sed 's/.*"head":"\([0-9a-f]*\)".*/\1/' "$T/out")
crm audit verify --head "$head"
want_rc 0
sqlite3 "$DB" "UPDATE crm_audit SET actor = 'mallory' WHERE seq = 3"
crm audit verify
want_rc 1; want_out_has '"ok":false'; want_out_has '"kind":"hash"'
sqlite3 "$DB" "DELETE FROM crm_audit WHERE seq = (SELECT max(seq) FROM crm_audit)"
crm audit verify --head "$head"
want_rc 1; want_out_has '"kind":"tail"'; want_out_has '"kind":"head"'
crm audit verify --head nothex
want_error 1
end

begin "a libcrypto without SHA-256 (only OpenSSL's null provider) fails audited writes and verify as such, not as out of memory"
cat >"$T/openssl-null.cnf" <<'CNF'
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
null = null_sect
[null_sect]
activate = 1
CNF
count_before=$(sqlite3 "$DB" "SELECT count(*) FROM lead")
OPENSSL_CONF=$T/openssl-null.cnf crm insert lead '{"name": "No Hash"}'
want_error 1; want_err_has "libcrypto could not compute the audit trail's SHA-256"
[[ $(sqlite3 "$DB" "SELECT count(*) FROM lead") == "$count_before" ]] || problem "the insert stayed"
OPENSSL_CONF=$T/openssl-null.cnf crm audit verify
want_error 1; want_err_has "libcrypto could not compute"
end

# ---- export (docs/integration.md "Export") ----
EXDB=$T/export.db
ex() {
	"$CRM" --db "$EXDB" --now 2026-01-02T03:04:05Z "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	sanitizer_check
}
"$CRM" --db "$EXDB" apply - >/dev/null <<'JSON'
[{"form": "deal", "fields": [
   {"name": "title", "type": "text", "label": "Title"},
   {"name": "amount", "type": "decimal", "label": "Amount"},
   {"name": "margin", "type": "decimal", "label": "Margin"},
   {"name": "closed", "type": "date"},
   {"name": "at", "type": "datetime"},
   {"name": "won", "type": "boolean"},
   {"name": "tags", "type": "multi_enum", "options": ["vip", "new"]}],
  "permissions": [{"roles": ["rep"], "allow": ["read"], "rows": {"field": "owner", "op": "eq", "actor": "user"},
                   "fields": {"margin": "hidden"}}]},
 {"report": "by_won", "source": "deal", "dimensions": [{"field": "won", "label": "Won"}],
  "measures": [{"name": "n", "agg": "count", "label": "Deals"}, {"name": "sum", "agg": "sum", "field": "amount"}]}]
JSON
"$CRM" --db "$EXDB" --now 2026-01-02T03:04:05Z insert deal - >/dev/null <<'JSON'
{"title": "Big, \"one\"", "amount": "1200.50", "margin": "7.25", "closed": "2026-03-01", "at": "2026-03-01T08:00:00+08:00", "won": true, "tags": ["vip", "new"], "owner": "ann"}
{"title": "张三的单", "amount": "3", "owner": "bob"}
JSON

begin "export writes CSV by default, labels as headers, and the system columns on request"
ex export deal
want_rc 0; want_no_err
want_out "$(printf 'title,amount,margin,closed,at,won,tags\r\n"Big, ""one""",1200.50,7.25,2026-03-01,2026-03-01T00:00:00.000Z,true,"[""vip"",""new""]"\r\n张三的单,3.00,,,,,\r')"
ex export deal --headers labels --query '{"fields": ["title", "amount"], "sort": ["-amount"], "limit": 1}' --bom
want_rc 0
want_out "$(printf '\xef\xbb\xbfTitle,Amount\r\n"Big, ""one""",1200.50\r')"
ex export deal --format ndjson --system --query '{"fields": ["title"]}'
want_out "$(printf '%s\n%s' '{"id":1,"title":"Big, \"one\"","created_at":"2026-01-02T03:04:05.000Z","updated_at":"2026-01-02T03:04:05.000Z","owner":"ann","version":1}' \
	'{"id":2,"title":"张三的单","created_at":"2026-01-02T03:04:05.000Z","updated_at":"2026-01-02T03:04:05.000Z","owner":"bob","version":1}')"
ex --format json export deal --query '{"fields": ["amount"]}'
want_out "$(printf '[\n{"amount":1200.50},\n{"amount":3.00}\n]')"
end

begin "export of NDJSON inserts back unchanged"
ex export deal --format ndjson
cp "$T/out" "$T/deals.ndjson"
"$CRM" --db "$T/export2.db" apply - >/dev/null <<<"$("$CRM" --db "$EXDB" form deal | sed 's/"permissions":\[[^]]*\]\]*}*\],*//')"
"$CRM" --db "$T/export2.db" insert deal @"$T/deals.ndjson" >/dev/null 2>"$T/err" || problem "insert failed: $(cat "$T/err")"
"$CRM" --db "$T/export2.db" export deal --format ndjson >"$T/out" 2>"$T/err"
cmp -s "$T/out" "$T/deals.ndjson" || problem "the round trip changed the records: $(diff "$T/deals.ndjson" "$T/out")"
end

begin "export --report writes the report's columns"
ex export --report by_won --headers labels
want_rc 0
want_out "$(printf 'Won,Deals,sum\r\n,1,3.00\r\ntrue,1,1200.50\r')"
ex export --report by_won --params '{}' --format ndjson
want_out_has '{"won":true,"n":1,"sum":1200.50}'
end

begin "export as a rep reads her rows only, without the hidden field"
ex --as ann:rep export deal
want_rc 0
want_out "$(printf 'title,amount,closed,at,won,tags\r\n"Big, ""one""",1200.50,2026-03-01,2026-03-01T00:00:00.000Z,true,"[""vip"",""new""]"\r')"
ex --as ann:rep export deal --query '{"fields": ["margin"]}'
want_error 6; want_err_has "field 'margin' is hidden"
ex --as eve:guest export deal --format ndjson
want_rc 0; want_no_out
end

begin "export --out writes XLSX with typed cells, checked in the sheet's XML"
ex export deal --out "$T/deals.xlsx" --headers labels
want_rc 0; want_no_out; want_no_err
if command -v unzip >/dev/null; then
	unzip -p "$T/deals.xlsx" xl/worksheets/sheet1.xml >"$T/sheet.xml"
	unzip -p "$T/deals.xlsx" xl/styles.xml >"$T/styles.xml"
else
	python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[2], "wb").write(z.read("xl/worksheets/sheet1.xml")); open(sys.argv[3], "wb").write(z.read("xl/styles.xml"))' \
		"$T/deals.xlsx" "$T/sheet.xml" "$T/styles.xml"
fi
for want in '<t>Title</t>' '<t>Big, "one"</t>' '<v>1200.5</v>' '<v>46082</v>' '<v>46082</v>' \
	't="b"><v>1</v>' '<t>["vip","new"]</t>' '<t>张三的单</t>' '<dimension ref="A1:G3"/>'; do
	grep -qF -- "$want" "$T/sheet.xml" || problem "sheet lacks $want"
done
grep -qF 'formatCode="yyyy-mm-dd"' "$T/styles.xml" || problem "no date format"
grep -qF 'formatCode="0.00"' "$T/styles.xml" || problem "no decimal format"
ex export deal --format xlsx
want_error 2; want_err_has "--out"
end

begin "export refuses bad requests and leaves no file behind"
ex export deal --format xml
want_error 1; want_err_has 'options.format'
ex export deal --headers titles
want_error 1; want_err_has 'options.headers'
ex export deal --query '{"fields": '
want_error 1
ex export deal --query '{"filter": {"field": "title; DROP TABLE deal", "op": "eq", "value": 1}}'
want_error 1
ex export nope
want_error 3
ex export deal --report by_won
want_error 2
ex export
want_error 2
ex export deal --params '{}'
want_error 2
ex export deal --out "$T/none/x.csv"
want_error 1
ex export nope --out "$T/nope.csv"
want_error 3
[[ ! -e $T/nope.csv ]] || problem "a refused export left a file"
ls "$T" | grep -q 'nope.csv\.' && problem "a temporary file was left"
ex export deal --bom --format json
want_error 1; want_err_has 'options.bom'
end

# ---- the event stream (its own database; only deal_won events are counted,
# whatever else the engines append) ----
saved_db=$DB
DB=$T/events.db
cat >"$T/events.json" <<'JSON'
[{"form": "deal", "fields": [{"name": "name", "type": "text"}]},
 {"workflow": "deal_flow", "form": "deal", "start_on": "create", "initial": "open",
  "states": {"open": {}, "won": {"final": true}},
  "transitions": [{"from": "open", "event": "win", "to": "won", "actions": [{"emit": "deal_won"}]}]}]
JSON
crm apply "$T/events.json"
for i in 1 2 3; do
	crm insert deal "{\"name\": \"d$i\"}"
	crm fire deal "$i" win
done
WON='{"types": ["deal_won"]}'
seq_of() { sed -n "${1}p" "$T/out" | sed 's/^{"seq":\([0-9]*\),.*/\1/'; }

begin "events read leases the consumer's next events; ack moves its position; the lease expires by the clock"
crm --now 2030-01-01T00:00:00Z events read erp --filter "$WON" --limit 2 --format ndjson
want_rc 0; want_no_err
[[ $(lines) == 2 ]] || problem "2 events wanted"
want_out_has '"name":"deal_won","form":"deal","record":1'
first=$(seq_of 1)
second=$(seq_of 2)
crm --now 2030-01-01T00:00:29Z events read erp
want_rc 0; want_out '[]'
crm --now 2030-01-01T00:00:30Z events read erp --limit 2 --format ndjson
want_rc 0
[[ $(seq_of 1) == "$first" && $(seq_of 2) == "$second" ]] || problem "the unacknowledged events again"
crm --now 2030-01-01T00:00:31Z events ack erp "$second"
want_rc 0; want_out_has "\"position\":$second,"; want_out_has '"lease":null'
crm --now 2030-01-01T00:00:32Z events read erp --format ndjson
want_rc 0
[[ $(lines) == 1 ]] || problem "1 event wanted"
want_out_has '"record":3'
end

begin "events ack refuses what was not handed out, bad numbers, unknown consumers and names"
crm events ack erp 999999
want_error 1; want_err_has "cannot be acknowledged"
crm events ack erp -1
want_error 2
crm events ack erp x
want_error 2
crm events ack nobody 1
want_error 3; want_err_has "no consumer named 'nobody'"
crm events read "Bad Name"
want_error 1; want_err_has "a consumer name is 1 to 64 characters"
crm events read erp --filter '{"types": "deal_won"}'
want_error 1; want_err_has "filter.types"
crm events read erp --limit 0
want_error 2
crm --as bob events read erp
want_error 6
crm --as bob events consumers
want_error 6
end

begin "events tail prints events one a line, follows new ones, and stops at --count or on SIGINT"
crm events tail --after 0 --count 2
want_rc 0
[[ $(lines) == 2 ]] || problem "2 lines wanted"
"$CRM" --db "$DB" events tail --count 1 --interval 20 >"$T/tail" 2>"$T/err" &
tail_pid=$!
sleep 0.5
crm insert deal '{"name": "d4"}'
crm fire deal 4 win
wait "$tail_pid"
rc=$?
want_rc 0
[[ $(wc -l <"$T/tail") == 1 ]] || problem "one new event wanted"
timeout -s INT --preserve-status 1 "$CRM" --db "$DB" events tail --interval 50 >"$T/out" 2>"$T/err"
rc=$?
want_rc 0; want_no_out; want_no_err
end

begin "events consumers, prune and drop"
crm events read late --filter "$WON"
crm events consumers
want_rc 0; want_out_has '{"name":"erp","position":'; want_out_has '{"name":"late","position":0,'
crm events prune
want_rc 0; want_out '{"removed":0}'
crm events drop late
want_rc 0; want_out '{"dropped":"late"}'
crm events drop late
want_error 3
crm events prune --older-than 1x
want_error 2
crm events prune --older-than 0s
want_rc 0; want_out_has '{"removed":'
crm events consumers
want_out_lacks '"late"'
end

begin "events FORM ID is still the record's workflow events"
crm events deal 4
want_rc 0; want_out '[]'
crm events -- deal 1
want_rc 0
end
DB=$saved_db

# ---- import ----
begin "import: CSV with a BOM and CRLF, GBK, best-effort with an error report"
cat >"$T/imp.json" <<'EOF'
{"form": "imp", "fields": [{"name": "name", "type": "text", "required": true, "label": "姓名"},
  {"name": "phone", "type": "phone", "unique": true, "label": "手机"}, {"name": "score", "type": "integer"},
  {"name": "secret", "type": "text"}],
 "permissions": [{"roles": ["rep"], "allow": ["read", "create"], "fields": {"secret": "read_only"}}]}
EOF
crm apply "$T/imp.json"
want_rc 0
printf '\xEF\xBB\xBFname,phone,score\r\nA,13800000001,1\r\n"B, ""quoted""\nline",13800000002,x\r\nC,13800000003,3\r\n' >"$T/a.csv"
crm import imp "$T/a.csv" --mode best-effort --errors "$T/errs.csv"
want_rc 0; want_out_has '"rows":3,"inserted":2,"updated":0,"failed":1,'
want_out_has '{"row":2,"field":"score","code":"type","message":"score must be an integer"}'
[[ $(cat "$T/errs.csv") == $'row,field,code,message\r\n2,"score","type","score must be an integer"\r' ]] || problem "error report: $(cat "$T/errs.csv")"
[[ $(count imp) == 2 ]] || problem "count $(count imp)"
printf '姓名,手机\r\n张三,13800000004\r\n' | iconv -f UTF-8 -t GBK >"$T/gbk.csv"
crm import imp "$T/gbk.csv"
want_rc 0; want_out_has '"inserted":1,'
crm query imp --filter '{"field":"phone","op":"eq","value":"13800000004"}'
want_out_has '"name":"张三"'
end

begin "import: atomic with a bad row exits 4, prints the summary and writes nothing"
printf 'name,score\nD,1\nE,oops\n' >"$T/b.csv"
crm import imp "$T/b.csv"
want_rc 4; want_out_has '"failed":1,'; want_err_has "nothing was written"
[[ $(count imp) == 3 ]] || problem "count $(count imp)"
end

begin "import: --map from a file, --upsert, NDJSON from stdin"
printf '{"Mobile": "phone", "Full name": "name", "Remark": ""}' >"$T/map.json"
printf 'Full name,Mobile,Remark\nA2,13800000001,x\nF,13800000005,y\n' >"$T/c.csv"
crm import imp "$T/c.csv" --map "$T/map.json" --upsert phone
want_rc 0; want_out_has '"inserted":1,"updated":1,'
crm_in '{"phone": "13800000005", "score": 9}' import imp - --upsert phone
want_rc 0; want_out_has '"updated":1,'
[[ $(count imp) == 4 ]] || problem "count $(count imp)"
end

begin "import: hostile and mistaken input is refused and changes nothing"
head -c 3000 /dev/urandom >"$T/bin.csv"
crm import imp "$T/bin.csv"
want_error 1
printf 'name,nope\nx,y\n' >"$T/d.csv"
crm import imp "$T/d.csv"
want_error 1; want_err_has "no field for column 'nope'"
crm import imp "$T/missing.csv"
want_error 1
crm import imp "$T/d.csv" --mode fast
want_error 1
printf 'name\n"open\n' >"$T/e.csv"
crm import imp "$T/e.csv"
want_error 1
crm import imp
want_error 2
crm import imp "$T/a.csv" --map "$T/a.csv"
want_error 2
[[ $(count imp) == 4 ]] || problem "count $(count imp)"
end

begin "import: as a rep, a read-only column is denied (exit 6)"
printf 'name,secret\nG,s\n' >"$T/f.csv"
crm --as ann:rep import imp "$T/f.csv"
want_rc 6; want_out_has '"field":"secret","code":"CRM_EPERM"'
crm --as vic:viewer import imp "$T/a.csv"
want_rc 6
[[ $(count imp) == 4 ]] || problem "count $(count imp)"
begin "search finds Chinese and English words, timeline lists what references a record"
main_db=$DB
DB=$T/search.db
crm_in '[{"form":"customer","fields":[{"name":"name","type":"text"},{"name":"company","type":"text"}],"search":{"fields":["name","company"]}},{"form":"deal","fields":[{"name":"title","type":"text"},{"name":"customer","type":"ref","form":"customer"}]}]' --init apply
want_rc 0
crm insert customer '{"name":"张三丰","company":"北京华为技术有限公司"}'
crm insert customer '{"name":"Acme","company":"Acme Corp"}'
crm insert deal '{"title":"Renewal","customer":1}'
crm search 华为
want_rc 0; want_out_has '北京«华为»技术有限公司'; want_out_lacks 'Acme'
crm search 华为技术 --form customer --limit 1
want_rc 0; want_out_has '"next":null'
crm search 'acme' --limit 5
want_rc 0; want_out_has '«Acme» Corp'
crm search '"NEAR( OR *'
want_rc 0; want_out '{"hits":[],"next":null}'
crm search acme --form deal
want_error 1
crm search acme --limit 0
want_error 2
crm timeline customer 1 --kind record
want_rc 0; want_out_has '"kind":"record","form":"deal","id":1'
crm timeline customer 1 --kind mail
want_error 1
crm timeline customer 99
want_error 3
DB=$main_db
begin "duplicates reports, merge merges, merge undo brings both back; insert warns on stderr"
cat >"$T/client.json" <<'JSON'
{"form": "client", "fields": [{"name": "name", "type": "text"}, {"name": "phone", "type": "phone"},
  {"name": "email", "type": "email"}],
 "duplicates": {"rules": [{"name": "phone", "fields": [{"field": "phone", "normalize": "phone"}]}], "on_insert": "warn"}}
JSON
crm apply "$T/client.json"
want_rc 0
crm insert client '{"name": "Zhang", "phone": "13800138000"}'
want_rc 0; want_no_err
c1=$(sed 's/[^0-9]//g' "$T/out")
crm insert client '{"name": "Zhang San", "phone": "+86 138-0013-8000", "email": "zs@x.cn"}'
want_rc 0; want_err_has 'crm: warnings: [{"code":"duplicate"'
c2=$(sed 's/[^0-9]//g' "$T/out")
crm duplicates client
want_rc 0; want_out_has '"groups":[{"rule":"phone","score":1,"records":['"$c1,$c2"']}]'
crm duplicates client --rule nope
want_error 1
crm duplicates client --limit 0
want_error 2
crm merge client "$c1" "$c2" --prefer name=other
want_rc 0; want_out_has '"fields":["name","email"]'
mid=$(sed 's/.*"merge":\([0-9]*\).*/\1/' "$T/out")
crm get client "$c1"
want_out_has '"name":"Zhang San"'; want_out_has '"email":"zs@x.cn"'
crm get client "$c2"
want_error 3
crm merge client "$c1" "$c2"
want_error 3
crm merge client "$c1" "$c1"
want_error 1
crm merge client "$c1" "$c2" --prefer name
want_error 2
crm merge undo "$mid"
want_rc 0; want_out '{"undone":'"$mid"'}'
crm get client "$c2"
want_rc 0; want_out_has '"email":"zs@x.cn"'
crm get client "$c1"
want_out_has '"name":"Zhang"'; want_out_has '"email":null'
crm merge undo "$mid"
want_error 1
crm merge undo 999
want_error 3
crm merge undo x
want_error 2
end

echo "$passed passed, $failed failed"
((failed == 0))
