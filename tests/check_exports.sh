#!/usr/bin/env bash
# The shared library's dynamic symbol table holds crm_* functions only:
# internals (crm__*) and the bundled helpers stay hidden.
set -u
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep -v -E '^crm_[a-z]' | grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$')
internal=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -E '^crm__' )
count=$(nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | grep -c -E '^crm_[a-z]')
if [ -n "$bad$internal" ]; then
	echo "unexpected exports:"; echo "$bad$internal"
	echo "0 passed, 1 failed"; exit 1
fi
echo "exports: $count crm_* functions"
echo "1 passed, 0 failed"
