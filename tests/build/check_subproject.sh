#!/usr/bin/env bash
# How libcrm configures for someone else: built as a host's subproject it
# adds no test to the host's `meson test` (and builds none), and a plain
# build of libcrm does not turn warnings into errors. Configure only, no
# compilation. Prints "N passed, N failed".
#   usage: check_subproject.sh SOURCE_ROOT
set -u
src=$(cd "${1:?usage: check_subproject.sh SOURCE_ROOT}" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
result() { if [[ $2 == ok ]]; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1: $2"; fi; }

mkdir -p "$T/host/subprojects"
ln -s "$src" "$T/host/subprojects/libcrm"
printf "project('host', 'c')\nlibcrm_dep = subproject('libcrm').get_variable('libcrm_dep')\n" >"$T/host/meson.build"
if meson setup "$T/build" "$T/host" >"$T/setup.log" 2>&1; then
	tests=$(meson introspect --tests "$T/build")
	[[ $tests == "[]" ]] && result "a subproject adds no tests to the host" ok ||
		result "a subproject adds no tests to the host" "host tests: ${tests:0:200}"
	targets=$(meson introspect --targets "$T/build")
	[[ $targets != *'"test_'* ]] && result "a subproject builds no test programs" ok ||
		result "a subproject builds no test programs" "test targets present"
else
	result "a subproject configures" "$(tail -n 5 "$T/setup.log")"
fi

werror=$(meson introspect --buildoptions "$src/meson.build" 2>/dev/null |
	python3 -c 'import json, sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "werror"][0])')
[[ $werror == False ]] && result "werror is off by default" ok || result "werror is off by default" "werror=$werror"

echo "$passed passed, $failed failed"
((failed == 0))
