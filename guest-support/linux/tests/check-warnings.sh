#!/bin/sh
# SPDX-License-Identifier: MIT
# check-warnings.sh TREE - rebuild the staged module tree from scratch (in a
# copy, so the build's objects stay) and fail on any compiler, objtool or
# modpost warning: the shim, the frontends and pvdrivers must all be clean
# under the kernel's own flags.
set -eu
tree=$1
kdir=${KDIR:?KDIR is the kernel build directory}
tmp=$(mktemp -d /tmp/keel-lmod-warn.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp -a "$tree/." "$tmp/"
make -C "$kdir" M="$tmp" clean >/dev/null 2>&1
if ! make -C "$kdir" M="$tmp" -j2 modules >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log"
	echo "FAIL: the module does not build"
	exit 1
fi
if grep -E -i 'warning|error' "$tmp/build.log" | grep -v 'Skipping BTF generation'; then
	echo "FAIL: the build above printed warnings"
	exit 1
fi
objs=$(grep -c '^  CC \[M\]' "$tmp/build.log")
echo "PASS: $objs objects built against $kdir without a warning"
