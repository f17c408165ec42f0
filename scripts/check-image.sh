#!/bin/sh
# SPDX-License-Identifier: MIT
# check-image.sh STAGE1 FINAL - checks the hypervisor image is bootable:
#  - function addresses did not move between the two links (else the
#    embedded symbol table would name the wrong functions);
#  - every loadable segment keeps the same file-offset-to-address distance,
#    as the Multiboot 1 address fields (the a.out kludge) assume;
#  - the Multiboot headers sit where loaders look for them.
set -eu
stage1=$1
final=$2
fail() { echo "check-image: $*" >&2; exit 1; }

text_syms() { nm -n --defined-only "$1" | awk '$2 ~ /^[tT]$/ { print $1, $3 }'; }
[ "$(text_syms "$stage1")" = "$(text_syms "$final")" ] ||
	fail "function addresses moved between the two links"

deltas=$(readelf -lW "$final" | awk '$1 == "LOAD" { print $2, $3 }' |
	while read -r offset vaddr; do echo $((vaddr - offset)); done | sort -u | wc -l)
[ "$deltas" -eq 1 ] || fail "loadable segments are not contiguous in the file"

mb1=$(od -An -tx4 -N 8192 -v "$final" | tr -s ' ' '\n' | grep -n '^1badb002$' | head -1 | cut -d: -f1)
[ -n "$mb1" ] || fail "no Multiboot 1 header in the first 8 KiB"
mb2=$(od -An -tx4 -N 32768 -v "$final" | tr -s ' ' '\n' | grep -n '^e85250d6$' | head -1 | cut -d: -f1)
[ -n "$mb2" ] || fail "no Multiboot 2 header in the first 32 KiB"
exit 0
