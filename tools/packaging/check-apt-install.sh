#!/bin/sh
# SPDX-License-Identifier: MIT
# tools/packaging/check-apt-install.sh DEB CACHE - the keel-tools .deb
# installed the way docs/admin-guide.md installs it, in a minimal Debian 12
# chroot: exactly `apt install ./keel-tools_<ver>_amd64.deb`, after which
# keelctl and keel-backendd are on the PATH and run (without Keel's driver
# keelctl exits 5 naming /dev/keel/privcmd, keel-backendd's usage works),
# and `apt remove` takes them away. The chroot comes from the keel-dkms
# test's cache (tests/linux/deb: CACHE/bookworm-*.tar.zst) when it exists;
# otherwise a minbase debootstrap is made once and cached as
# CACHE/bookworm-minbase.tar.zst. Needs root, unshare -m and, the first time,
# the Debian mirror $KEEL_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -eu
deb=$(readlink -f "$1") cache=$2
mirror=${KEEL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot)"
unshare -m true 2>/dev/null || fail "needs a private mount namespace (unshare -m)"
[ -f "$deb" ] || fail "no package $deb"
name=$(basename "$deb")
work=$(mktemp -d /tmp/keel-tools-apt.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root

# in_chroot SECONDS COMMAND: COMMAND (sh -c) in the chroot, /proc mounted privately.
in_chroot() {
	timeout -k 10 "$1" unshare -m --propagation private sh -c '
		mount -t proc proc "$1/proc"
		exec chroot "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			DEBIAN_FRONTEND=noninteractive LC_ALL=C sh -c "$2"' sh "$root" "$2"
}

mkdir -p "$cache"
tarball=$(ls "$cache"/bookworm-*.tar.zst 2>/dev/null | head -1 || true)
if [ -z "$tarball" ]; then
	command -v debootstrap > /dev/null || fail "debootstrap is not installed (./keel installs it)"
	echo "check-apt-install (keel-tools): no cached chroot: debootstrap --variant=minbase bookworm (once)"
	timeout -k 10 600 debootstrap --variant=minbase bookworm "$root" "$mirror" \
		> "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; fail "debootstrap failed"; }
	tarball=$cache/bookworm-minbase.tar.zst
	(cd "$root" && tar -cf - .) | zstd -q -T2 -3 -o "$tarball.tmp"
	mv "$tarball.tmp" "$tarball"
	rm -rf "$root"
fi
mkdir -p "$root"
zstd -q -dc "$tarball" | tar -xf - -C "$root" || fail "cannot unpack $tarball"
ok "chroot from ${tarball##*/}: Debian $(cat "$root/etc/debian_version")"

cp "$deb" "$root/tmp/"
in_chroot 300 "cd /tmp && apt install -y ./$name" > "$work/install.log" 2>&1 ||
	{ tail -30 "$work/install.log"; fail "apt install ./$name failed"; }
ok "apt install ./$name"
in_chroot 30 "dpkg -s keel-tools" | grep -q "^Status: install ok installed" ||
	fail "dpkg does not list keel-tools as installed"
rc=0
out=$(in_chroot 30 "keelctl list" 2>&1) || rc=$?
[ $rc -eq 5 ] && echo "$out" | grep -q "/dev/keel/privcmd" ||
	fail "keelctl list without Keel: exit $rc, '$out' (expected 5 naming /dev/keel/privcmd)"
ok "keelctl list without Keel's driver: exit 5: $out"
out=$(in_chroot 30 "keel-backendd --no-such-option" 2>&1) || true
echo "$out" | grep -q "usage: keel-backendd" || fail "keel-backendd does not run: $out"
ok "keel-backendd runs: $(echo "$out" | head -1)"

in_chroot 120 "apt remove -y keel-tools" > "$work/remove.log" 2>&1 ||
	{ tail -20 "$work/remove.log"; fail "apt remove keel-tools failed"; }
left=$(ls "$root/usr/sbin/keelctl" "$root/usr/sbin/keel-backendd" 2>/dev/null || true)
[ -z "$left" ] || fail "left behind: $left"
ok "apt remove keel-tools: no keelctl, no keel-backendd left"
echo "PASS"
