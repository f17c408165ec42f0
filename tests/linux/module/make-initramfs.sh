#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/linux/module/make-initramfs.sh - the kernel and initramfs of the Linux
# guest package's runtime tests (tests/integration/linux-module.cmake).
#
# Usage: make-initramfs.sh KVER BUSYBOX KEEL_KO TEST_SCRIPT INIT OUTDIR
#
# OUTDIR/vmlinuz is Debian's kernel KVER (linux-image-KVER, fetched with
# `apt-get download`, never installed). OUTDIR/initrd.img holds busybox,
# keel.ko under /lib/modules/KVER/extra with modules.dep and modules.alias
# (so `modprobe` finds it by the platform device's modalias), the ext4
# modules of that kernel, mke2fs with the libraries it links (from this
# machine's e2fsprogs, Debian 12 like the guest), the test script as
# /bin/keel-test.sh and INIT as /init.
set -eu

kver=$1 busybox=$2 keel_ko=$3 test_script=$4 init=$5 out=$6
say() { printf 'make-initramfs (module tests): %s\n' "$*"; }

mkdir -p "$out/debs"
deb=$(ls "$out/debs"/linux-image-"$kver"_*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
	say "downloading linux-image-$kver with apt-get download"
	(cd "$out/debs" && apt-get download -q "linux-image-$kver") ||
		{ say "apt-get download linux-image-$kver failed (apt-get update as root?)"; exit 1; }
	deb=$(ls "$out/debs"/linux-image-"$kver"_*.deb | head -1)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/kimg"
cp "$work/kimg/boot/vmlinuz-$kver" "$out/vmlinuz"

root=$work/root
mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/dev" "$root/proc" "$root/sys" \
	"$root/tmp" "$root/mnt" "$root/lib64" "$root/lib/x86_64-linux-gnu"
# /dev/console before devtmpfs is mounted: the kernel opens it for /init's stdio.
mknod -m 600 "$root/dev/console" c 5 1
cp "$busybox" "$root/bin/busybox"
cp "$test_script" "$root/bin/keel-test.sh"
cp "$init" "$root/init"
chmod 755 "$root/bin/busybox" "$root/bin/keel-test.sh" "$root/init"

# Modules: keel.ko and what ext4 needs, with the dependency and alias files.
mods=$root/lib/modules/$kver
mkdir -p "$mods/extra"
cp "$keel_ko" "$mods/extra/keel.ko"
for m in fs/ext4/ext4.ko fs/jbd2/jbd2.ko fs/mbcache.ko lib/crc16.ko lib/libcrc32c.ko \
	 crypto/crc32c_generic.ko; do
	src=$work/kimg/lib/modules/$kver/kernel/$m
	[ -f "$src" ] || src=$src.xz
	[ -f "$src" ] || { say "the kernel package has no $m"; exit 1; }
	mkdir -p "$mods/kernel/$(dirname "$m")"
	case $src in
	*.xz) xz -dc "$src" > "$mods/kernel/$m" ;;
	*) cp "$src" "$mods/kernel/$m" ;;
	esac
done
cp "$work/kimg/lib/modules/$kver"/modules.builtin* "$mods/" 2>/dev/null || true
cp "$work/kimg/lib/modules/$kver"/modules.order "$mods/" 2>/dev/null || true
depmod -b "$root" "$kver"

# mke2fs (mkfs.ext4) and its libraries, from this machine's Debian 12 e2fsprogs.
mke2fs=$(command -v mke2fs || echo /sbin/mke2fs)
cp "$mke2fs" "$root/sbin/mke2fs"
ln -sf mke2fs "$root/sbin/mkfs.ext4"
cp /etc/mke2fs.conf "$root/etc/mke2fs.conf"
ldd "$mke2fs" | awk '/=>/ { print $3 } /^\t\/lib64/ { print $1 }' | while read -r lib; do
	case $lib in
	*ld-linux-x86-64.so.2) cp -L "$lib" "$root/lib64/ld-linux-x86-64.so.2" ;;
	/*) cp -L "$lib" "$root/lib/x86_64-linux-gnu/$(basename "$lib")" ;;
	esac
done

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initrd.img.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
say "built $out/initrd.img and $out/vmlinuz ($kver)"
