#!/bin/sh
# SPDX-License-Identifier: MIT
# kbuild.sh KDIR TREE - build keel.ko in TREE with the kernel build system of
# KDIR; the output goes to TREE/build.log and is shown only if it fails.
set -eu
kdir=$1 tree=$2
if ! make -C "$kdir" M="$tree" -j2 modules >"$tree/build.log" 2>&1; then
	cat "$tree/build.log" >&2
	echo "kbuild.sh: building keel.ko against $kdir failed" >&2
	exit 1
fi
