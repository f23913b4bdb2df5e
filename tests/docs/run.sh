#!/usr/bin/env bash
# Documentation test: every code block of README.md and docs/*.md runs, so
# the examples cannot drift from the code. Each page runs in a directory of
# its own with its own database ($CRM_DB), its blocks in page order:
#   ```json            valid JSON; a metadata document (or an array of them)
#                      is applied with `crm apply` and must succeed
#   ```json fails      a metadata document that `crm apply` must refuse
#   ```json file=P     valid JSON, written to P (relative to the page's
#                      directory) and not applied
#   ```ndjson file=P   one JSON value per line, written to P
#   ```lua file=P      written to P
#   ```console         "$ " lines are commands, run in order by bash; a
#                      command whose next line starts with "crm: " must fail,
#                      every other one succeed ("$ echo $?" checks the code)
#   ```c               compiled against libcrm and run: a whole program, or a
#                      snippet run in main() with `db` open on the page's database
#   ```python, ```js   a binding's example: parsed (python3's ast, node --check
#                      as a module), not run here: the bindings' own suites
#                      run their APIs (bindings/*/test)
#   ```sh              parsed by bash -n
#   ``` (no language)  not run: grammar, output, prose (but no "$ " commands)
# A line `<!-- docs-test: new database -->` starts a new $CRM_DB from there on
# (a page whose sections each build their own example, docs/integration.md).
# Prints one line per block and "N passed, N failed".
#   usage: run.sh SOURCE_ROOT CRM_BINARY LIBDIR [CFLAGS...]
set -uo pipefail

root=$(realpath "${1:?usage: run.sh SOURCE_ROOT CRM_BINARY LIBDIR [CFLAGS...]}")
crm_bin=$(realpath "${2:?crm binary}")
libdir=$(realpath "${3:?library directory}")
shift 3
cflags=("$@")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bin"
ln -s "$crm_bin" "$T/bin/crm"
export PATH="$T/bin:$PATH"
unset CRM_DB
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
	failed=$((failed + 1))
	echo "FAIL $1: $2"
	[[ -s $T/log ]] && sed 's/^/    /' "$T/log" | head -n 20
}

# JSON text on stdin: "meta" for a metadata document or an array of them,
# "json" for other valid JSON, "bad: reason" otherwise.
json_kind() {
	python3 -c '
import json, sys
try:
    v = json.load(sys.stdin)
except ValueError as e:
    print("bad:", e); sys.exit()
kinds = ("form", "workflow", "report", "decision", "plugin")
def meta(d): return isinstance(d, dict) and any(isinstance(d.get(k), str) for k in kinds)
print("meta" if meta(v) or (isinstance(v, list) and v and all(meta(d) for d in v)) else "json")'
}

run_json() {
	local where=$1 attrs=$2 file=$3 kind
	kind=$(json_kind <"$file")
	cp "$file" "$T/block.json"
	if [[ $kind == bad* ]]; then
		echo "$kind" >"$T/log"
		fail "$where" "not valid JSON"
	elif [[ $attrs == *file=* ]]; then
		ok "$where"
	elif [[ $attrs == *fails* ]]; then
		if crm apply "$T/block.json" >"$T/log" 2>&1; then fail "$where" "apply succeeded, the page says it fails"; else ok "$where"; fi
	elif [[ $kind == meta ]]; then
		if crm apply "$T/block.json" >"$T/log" 2>&1; then ok "$where"; else fail "$where" "apply failed"; fi
	else
		ok "$where"
	fi
}

# A block in another language must parse: the command given checks it.
parses() {
	local where=$1
	shift
	if "$@" >"$T/log" 2>&1; then ok "$where"; else fail "$where" "does not parse"; fi
}

run_ndjson() {
	local where=$1 file=$2 kind
	while IFS= read -r line; do
		kind=$(json_kind <<<"$line")
		if [[ $kind == bad* ]]; then
			echo "$kind: $line" >"$T/log"
			fail "$where" "a line is not valid JSON"
			return
		fi
	done <"$file"
	ok "$where"
}

# A console transcript: each "$ " command runs in the page's directory.
run_console() {
	local where=$1 file=$2 script=$T/console.sh
	awk '
	{ line[NR] = $0 }
	function quote(s) { gsub(/["\\$`]/, "", s); return s }
	END {
		for (i = 1; i <= NR; i++) {
			if (substr(line[i], 1, 2) != "$ " || line[i] == "$ echo $?") continue
			cmd = substr(line[i], 3); what = quote(cmd)
			if (cmd ~ /<<.?EOF.?$/)
				while (i < NR && line[++i] != "EOF") cmd = cmd "\n" line[i]
			if (line[i] == "EOF") cmd = cmd "\nEOF"
			printf "{ %s\n} >>\"$LOG\" 2>&1; rc=$?\n", cmd
			if (line[i + 1] == "$ echo $?")
				printf "[[ $rc == %s ]] || { echo \"exit $rc, want %s: %s\" >>\"$LOG\"; bad=1; }\n", line[i + 2], line[i + 2], what
			else if (substr(line[i + 1], 1, 5) == "crm: ")
				printf "((rc != 0)) || { echo \"succeeded, the page shows an error: %s\" >>\"$LOG\"; bad=1; }\n", what
			else
				printf "((rc == 0)) || { echo \"exit $rc: %s\" >>\"$LOG\"; bad=1; }\n", what
		}
	}' "$file" >"$script"
	: >"$T/log"
	if (cd "$T/page" && LOG=$T/log bad=0 && source "$script" && exit $bad); then ok "$where"; else fail "$where" "a command did not do what the page shows"; fi
}

# A C block with a main() is a whole program; any other is a snippet, run
# in main() with `db` open on the page's database.
run_c() {
	local where=$1 file=$2 src=$T/page/example.c
	if grep -q 'int main' "$file"; then
		cp "$file" "$src"
	else
		{
			printf '#include <crm.h>\n#include <inttypes.h>\n#include <stdio.h>\n#include <stdlib.h>\n'
			printf '#include <string.h>\nint main(void)\n{\n\tcrm_db *db = NULL;\n'
			printf '\tif (crm_open(&db, getenv("CRM_DB"), NULL) != CRM_OK)\n\t\treturn 1;\n'
			printf '#line 1 "%s"\n' "$where"
			cat "$file"
			printf '\tcrm_close(db);\n\treturn 0;\n}\n'
		} >"$src"
	fi
	if ! cc -std=c11 -Wall -Wextra -Werror -Wno-unused "${cflags[@]}" -I"$root/include" -o "$T/page/example" "$src" \
		-L"$libdir" -Wl,-rpath,"$libdir" -lcrm >"$T/log" 2>&1; then
		fail "$where" "does not compile"
	elif (cd "$T/page" && ./example) >"$T/log" 2>&1; then
		ok "$where"
	else
		fail "$where" "exited non-zero"
	fi
}

run_page() {
	local page=$1 rel=${1#"$root"/} n=0 lang attrs line start body=$T/block inside=0
	rm -rf "$T/page"
	mkdir -p "$T/page"
	ln -s "$root/examples" "$T/page/examples"
	export CRM_DB=$T/page/app.db
	while IFS= read -r line || [[ -n $line ]]; do
		n=$((n + 1))
		if ((!inside)) && [[ $line == '<!-- docs-test: new database -->' ]]; then
			rm -f "$CRM_DB" "$CRM_DB-wal" "$CRM_DB-shm"
		elif ((!inside)) && [[ $line =~ ^\`\`\`([a-z]*)[[:space:]]*(.*)$ ]]; then
			inside=1
			lang=${BASH_REMATCH[1]}
			attrs=${BASH_REMATCH[2]}
			start=$n
			: >"$body"
		elif ((inside)) && [[ $line == '```' ]]; then
			inside=0
			local where="$rel:$start" target=""
			[[ $attrs =~ file=([^[:space:]]+) ]] && target=${BASH_REMATCH[1]}
			if [[ -n $target ]]; then
				mkdir -p "$(dirname "$T/page/$target")"
				cp "$body" "$T/page/$target"
			fi
			case $lang in
			json) run_json "$where" "$attrs" "$body" ;;
			console) run_console "$where" "$body" ;;
			c) run_c "$where" "$body" ;;
			ndjson) run_ndjson "$where" "$body" ;;
			lua) [[ -n $target ]] && ok "$where" || fail "$where" "a lua block needs file=PATH" ;;
			python) parses "$where" python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' "$body" ;;
			js) cp "$body" "$T/block.mjs" && parses "$where" node --check "$T/block.mjs" ;;
			sh) parses "$where" bash -n "$body" ;;
			"") ! grep -q '^\$ ' "$body" || fail "$where" "a transcript with \"\$ \" commands must be a console block" ;;
			*) fail "$where" "unknown block language '$lang'" ;;
			esac
		elif ((inside)); then
			printf '%s\n' "$line" >>"$body"
		fi
	done <"$page"
}

for page in "$root/README.md" "$root"/docs/*.md; do
	run_page "$page"
done
echo "$passed passed, $failed failed"
((failed == 0))
