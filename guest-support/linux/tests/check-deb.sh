#!/bin/sh
# SPDX-License-Identifier: MIT
# check-deb.sh DEB - the keel-dkms package: its control fields, maintainer
# scripts and file list (dpkg-deb -I / -c), and that the source tree it
# ships builds keel.ko against the installed headers (make -C KDIR M=...).
set -eu
deb=$1
kdir=${KDIR:?} version=${VERSION:?}
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
field() {	# name expected
	v=$(dpkg-deb -f "$deb" "$1")
	if [ "$v" = "$2" ]; then ok "$1: $v"; else bad "$1 is '$v', expected '$2'"; fi
}

field Package keel-dkms
field Version "$version"
field Architecture all
field Section kernel
case "$(dpkg-deb -f "$deb" Depends)" in
*dkms*) ok "Depends: $(dpkg-deb -f "$deb" Depends)" ;;
*) bad "Depends lacks dkms" ;;
esac
info=$(dpkg-deb -I "$deb")
for script in postinst prerm; do
	if echo "$info" | grep -q " $script\$\| $script "; then ok "has $script"; else bad "no $script"; fi
done

src=./usr/src/keel-$version
list=$(dpkg-deb -c "$deb")
for f in dkms.conf Kbuild Makefile pvdrivers.kbuild src/platform.c src/hcall.S src/keel_version.h \
	 src/hvc_keel.c src/keel_blk.c src/keel_net.c compat/stdint.h \
	 pvdrivers/core/start.c pvdrivers/include/keel_pv/shim.h include/keel/abi.h; do
	if echo "$list" | grep -q " $src/$f\$"; then ok "ships $f"; else bad "does not ship $f"; fi
done
if echo "$list" | grep -E '\.(o|ko|cmd|mod)$|build\.log$'; then bad "ships build products (above)"; fi
if echo "$list" | awk '{print $2}' | grep -v '^root/root$'; then bad "files not owned by root/root"; fi

tmp=$(mktemp -d /tmp/keel-lmod-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
grep -q "^PACKAGE_VERSION=\"$version\"" "$tmp/$src/dkms.conf" && ok "dkms.conf version" ||
	bad "dkms.conf has another version"
if make -C "$kdir" M="$tmp/$src" -j2 modules >"$tmp/build.log" 2>&1 && [ -f "$tmp/$src/keel.ko" ]; then
	ok "the shipped tree builds keel.ko against $kdir"
	[ "$(modinfo -F alias "$tmp/$src/keel.ko")" = "pci:v00004B45d00000001sv*sd*bc*sc*i*" ] &&
		ok "built module has the PCI alias" || bad "built module lacks the alias"
else
	tail -30 "$tmp/build.log"
	bad "the shipped tree does not build"
fi
exit $fail
