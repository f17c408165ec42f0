#!/bin/sh
# SPDX-License-Identifier: MIT
# check-dkms.sh DEB - DKMS itself adds, builds and removes the package's
# module for KVER, as the package's postinst would on a guest, without
# touching the host's DKMS state: its trees are temporary (--dkmstree,
# --sourcetree) and /var/lib/dkms, where DKMS creates its signing key, is a
# temporary directory in a private mount namespace.
set -eu
deb=$1
kver=${KVER:?} kdir=${KDIR:?} version=${VERSION:?}
command -v dkms >/dev/null || { echo "FAIL: dkms is not installed (apt-get install dkms)"; exit 1; }
if ! unshare -m true 2>/dev/null; then
	echo "SKIP: needs a private mount namespace (unshare -m; run as root)"
	exit 77
fi
tmp=$(mktemp -d /tmp/keel-lmod-dkms.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp/root"
mkdir -p "$tmp/dkms" "$tmp/var-lib-dkms"
export TMP_TREE="$tmp" KVER="$kver" KDIR="$kdir" VERSION="$version"
unshare -m --propagation private sh -eu -c '
	mount --bind "$TMP_TREE/var-lib-dkms" /var/lib/dkms
	trees="--sourcetree $TMP_TREE/root/usr/src --dkmstree $TMP_TREE/dkms"
	dkms add -m keel -v "$VERSION" $trees
	dkms build -m keel -v "$VERSION" -k "$KVER" --kernelsourcedir "$KDIR" $trees
	ko=$(find "$TMP_TREE/dkms/keel/$VERSION/$KVER" -name "keel.ko*" | head -1)
	[ -n "$ko" ] || { echo "FAIL: dkms build left no keel.ko"; exit 1; }
	echo "ok: dkms built $ko"
	modinfo -F alias "$ko" | grep -qx "pci:v00004B45d00000001sv\*sd\*bc\*sc\*i\*"
	echo "ok: its alias is the platform device'"'"'s"
	dkms status -m keel $trees
	dkms remove -m keel -v "$VERSION" --all $trees
	[ ! -e "$TMP_TREE/dkms/keel/$VERSION" ] || { echo "FAIL: dkms remove left the module"; exit 1; }
	echo "ok: dkms removed it"
'
echo "PASS"
