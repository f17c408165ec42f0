#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/linux/ctl/make-initramfs.sh - the initramfs of the Linux control
# domain test (tests/integration/ctl-linux.cmake).
#
# Usage: make-initramfs.sh BUSYBOX KEEL_KO KEELCTL PRIVTEST HELLO_ELF SRCDIR OUT
#
# OUT is a gzip'ed cpio (newc) holding busybox, SRCDIR/init as /init,
# keel.ko as /lib/modules/keel.ko (loaded with insmod: nothing else of the
# kernel is needed), the static keelctl and privtest in /bin, and the
# configurations of SRCDIR with hello.elf in /etc/keel.
set -eu

busybox=$1 keel_ko=$2 keelctl=$3 privtest=$4 hello=$5 src=$6 out=$7

for f in "$busybox" "$keel_ko" "$keelctl" "$privtest" "$hello" "$src/init"; do
	[ -f "$f" ] || { echo "make-initramfs (ctl): $f is missing" >&2; exit 1; }
done
# Nothing in the initramfs may need a shared library.
for f in "$keelctl" "$privtest"; do
	if readelf -l "$f" | grep -q INTERP; then
		echo "make-initramfs (ctl): $f is not statically linked" >&2
		exit 1
	fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/bin" "$root/sbin" "$root/etc/keel" "$root/dev" "$root/proc" "$root/sys" \
	"$root/tmp" "$root/lib/modules"
mknod -m 600 "$root/dev/console" c 5 1
cp "$busybox" "$root/bin/busybox"
cp "$keelctl" "$root/bin/keelctl"
cp "$privtest" "$root/bin/privtest"
cp "$src/init" "$root/init"
cp "$keel_ko" "$root/lib/modules/keel.ko"
cp "$hello" "$root/etc/keel/hello.elf"
cp "$src"/*.cfg "$root/etc/keel/"
chmod 755 "$root/bin/busybox" "$root/bin/keelctl" "$root/bin/privtest" "$root/init"
# Users for the test without rights (privtest asuser 65534).
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
echo "make-initramfs (ctl): built $out"
