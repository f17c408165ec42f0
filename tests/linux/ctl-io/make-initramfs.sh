#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/linux/ctl-io/make-initramfs.sh - the control domain's initramfs of
# the backend test (tests/integration/ctl-io.cmake).
#
# Usage: make-initramfs.sh BUSYBOX KEEL_KO KEELCTL BACKENDD GUEST_VMLINUZ GUEST_INITRD SRCDIR
#                          DEB_DIR KVER OUT REFERENCE_ELF
#
# OUT is a gzip'ed cpio (newc) holding busybox, SRCDIR/init as /init,
# keel.ko as /lib/modules/keel.ko, the static keelctl and keel-backendd in
# /bin, the guest's kernel, initramfs and guest.cfg, and the reference
# port's kernel and ref.cfg in /etc/keel, and the
# TAP, bridge and loop modules (tun, llc, stp, bridge, loop) of DEB_DIR's
# linux-image-KVER in /lib/modules.
set -eu

busybox=$1 keel_ko=$2 keelctl=$3 backendd=$4 gvmlinuz=$5 ginitrd=$6 src=$7 debs=$8 kver=$9
out=${10} ref_elf=${11}

for f in "$busybox" "$keel_ko" "$keelctl" "$backendd" "$gvmlinuz" "$ginitrd" "$src/init" \
	"$ref_elf"; do
	[ -f "$f" ] || { echo "make-initramfs (ctl-io): $f is missing" >&2; exit 1; }
done
for f in "$keelctl" "$backendd"; do
	if readelf -l "$f" | grep -q INTERP; then
		echo "make-initramfs (ctl-io): $f is not statically linked" >&2
		exit 1
	fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/bin" "$root/sbin" "$root/etc/keel" "$root/dev" "$root/proc" "$root/sys" \
	"$root/tmp" "$root/run" "$root/lib/modules"
mknod -m 600 "$root/dev/console" c 5 1
cp "$busybox" "$root/bin/busybox"
cp "$keelctl" "$root/bin/keelctl"
cp "$backendd" "$root/bin/keel-backendd"
cp "$src/init" "$root/init"
cp "$keel_ko" "$root/lib/modules/keel.ko"
cp "$gvmlinuz" "$root/etc/keel/guest-vmlinuz"
cp "$ginitrd" "$root/etc/keel/guest-initrd.img"
cp "$src/guest.cfg" "$src/guest64.cfg" "$root/etc/keel/"
cp "$ref_elf" "$root/etc/keel/reference.elf"
cp "$src/ref.cfg" "$root/etc/keel/ref.cfg"
chmod 755 "$root/bin/busybox" "$root/bin/keelctl" "$root/bin/keel-backendd" "$root/init"
deb=$(ls "$debs"/linux-image-"$kver"_*.deb | head -1)
dpkg-deb -x "$deb" "$work/kimg"
for m in drivers/net/tun.ko net/llc/llc.ko net/802/stp.ko net/bridge/bridge.ko \
	drivers/block/loop.ko; do
	src_ko=$work/kimg/lib/modules/$kver/kernel/$m
	[ -f "$src_ko" ] || src_ko=$src_ko.xz
	[ -f "$src_ko" ] || { echo "make-initramfs (ctl-io): the kernel package has no $m" >&2; exit 1; }
	case $src_ko in
	*.xz) xz -dc "$src_ko" > "$root/lib/modules/$(basename "$m")" ;;
	*) cp "$src_ko" "$root/lib/modules/$(basename "$m")" ;;
	esac
done

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
echo "make-initramfs (ctl-io): built $out"
