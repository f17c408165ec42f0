#!/bin/sh
# SPDX-License-Identifier: MIT
# check-guest-scripts.sh DIR - the in-guest test scripts parse (sh -n, which
# is stricter than busybox sh about nothing they use) and every phase the
# usage names has a handler.
set -eu
dir=$1
fail=0
for s in "$dir"/*.sh; do
	if sh -n "$s"; then echo "ok: $s parses"; else echo "FAIL: $s"; fail=1; fi
done
s=$dir/keel-test.sh
for p in load console console-shell block-write block-verify net-up net-send net-recv net-offload \
	 reload; do
	grep -q "^$p) phase_" "$s" && echo "ok: phase $p" || { echo "FAIL: no phase $p"; fail=1; }
done
out=$(sh "$s" 2>&1 || true)
case "$out" in usage:*) echo "ok: no phase gives the usage" ;; *) echo "FAIL: $out"; fail=1 ;; esac
exit $fail
