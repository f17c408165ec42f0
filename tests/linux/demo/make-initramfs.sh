#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/linux/demo/make-initramfs.sh - the initramfs of the demo's control
# domain 'ctl' (tests/integration/demo.cmake; what build/keel.iso boots).
#
# Usage: make-initramfs.sh BUSYBOX KEEL_KO TOOLS_DEB GUEST_VMLINUZ GUEST_INITRD
#                          SRCDIR DEB_DIR KVER OUT
#
# OUT is a gzip'ed cpio (newc): busybox as /init (busybox init, with
# SRCDIR's inittab and profile), SRCDIR's demo-start and demo-stop and
# guest.cfg in /etc/keel with the guest's kernel and initramfs, keel.ko and
# the TAP and bridge modules (tun, llc, stp, bridge) of DEB_DIR's
# linux-image-KVER in /lib/modules, and TOOLS_DEB (keel-tools: keelctl and
# keel-backendd in /usr/sbin) unpacked as dpkg would.
set -eu

busybox=$1 keel_ko=$2 tools_deb=$3 gvmlinuz=$4 ginitrd=$5 src=$6 debs=$7 kver=$8 out=$9
say() { printf 'make-initramfs (demo): %s\n' "$*"; }

for f in "$busybox" "$keel_ko" "$tools_deb" "$gvmlinuz" "$ginitrd" "$src/inittab" \
	"$src/profile" "$src/demo-start" "$src/demo-stop" "$src/guest.cfg"; do
	[ -f "$f" ] || { say "$f is missing" >&2; exit 1; }
done
deb=$(ls "$debs"/linux-image-"$kver"_*.deb 2>/dev/null | head -1 || true)
[ -n "$deb" ] || { say "no linux-image-${kver}_*.deb in $debs" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/bin" "$root/sbin" "$root/etc/keel" "$root/dev" "$root/proc" "$root/sys" \
	"$root/tmp" "$root/run" "$root/root" "$root/var/lib/keel" "$root/lib/modules"
# /dev/console before devtmpfs is mounted: the kernel opens it for init's stdio.
mknod -m 600 "$root/dev/console" c 5 1
cp "$busybox" "$root/bin/busybox"
ln -s bin/busybox "$root/init"
ln -s busybox "$root/bin/sh"
dpkg-deb -x "$tools_deb" "$root"
cp "$src/inittab" "$root/etc/inittab"
cp "$src/profile" "$root/etc/profile"
# root's home, for the prompt's ~ and whoami.
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
cp "$src/demo-start" "$src/demo-stop" "$src/guest.cfg" "$root/etc/keel/"
cp "$gvmlinuz" "$root/etc/keel/guest-vmlinuz"
cp "$ginitrd" "$root/etc/keel/guest-initrd.img"
cp "$keel_ko" "$root/lib/modules/keel.ko"
chmod 755 "$root/bin/busybox" "$root/etc/keel/demo-start" "$root/etc/keel/demo-stop"
dpkg-deb -x "$deb" "$work/kimg"
for m in drivers/net/tun.ko net/llc/llc.ko net/802/stp.ko net/bridge/bridge.ko; do
	ko=$work/kimg/lib/modules/$kver/kernel/$m
	[ -f "$ko" ] || ko=$ko.xz
	[ -f "$ko" ] || { say "the kernel package has no $m" >&2; exit 1; }
	case $ko in
	*.xz) xz -dc "$ko" > "$root/lib/modules/$(basename "$m")" ;;
	*) cp "$ko" "$root/lib/modules/$(basename "$m")" ;;
	esac
done

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
say "built $out"
