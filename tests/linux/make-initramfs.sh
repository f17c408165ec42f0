#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/linux/make-initramfs.sh - the Linux guest tests' initramfs: static
# busybox, tests/linux/init, and the device nodes the stock kernel does not
# create itself (CONFIG_DEVTMPFS_MOUNT is off), packed as cpio newc + gzip.
# Also a copy cut short, for the truncated-initrd test.
#
# usage: make-initramfs.sh BUSYBOX INIT OUTDIR
# writes OUTDIR/initrd.img and OUTDIR/initrd-truncated.img
set -eu
busybox=$1
init=$2
out=$3
root=$out/initramfs.d
rm -rf "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
cp "$init" "$root/init"
chmod 755 "$root/init" "$root/bin/busybox"
# cpio takes device nodes from a list; no mknod (and no root) needed.
(cd "$root" && find . -mindepth 1 | sort) > "$out/initramfs.list"
{
	(cd "$root" && cpio -o -H newc --quiet < "$out/initramfs.list")
} > "$out/files.cpio"
# /dev/console and /dev/null: cpio can only copy nodes that exist (mknod needs
# root), so their newc headers are written here, before the trailer.
python3 - "$out/files.cpio" "$out/initramfs.cpio" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
trailer = data.rfind(b'070701')          # the TRAILER!!! entry starts with the last magic
body = data[:trailer]
def entry(name, mode, rmaj, rmin, ino):
    name_b = name.encode() + b'\0'
    hdr = '070701' + ''.join('%08x' % v for v in (
        ino, mode, 0, 0, 1, 0, 0, 0, 0, rmaj, rmin, len(name_b), 0))
    rec = hdr.encode() + name_b
    rec += b'\0' * ((4 - len(rec) % 4) % 4)
    return rec
body += entry('dev/console', 0o020600, 5, 1, 900001)
body += entry('dev/null', 0o020666, 1, 3, 900002)
body += entry('TRAILER!!!', 0, 0, 0, 0)
body += b'\0' * ((512 - len(body) % 512) % 512)
open(sys.argv[2], 'wb').write(body)
PY
gzip -9 -n -c "$out/initramfs.cpio" > "$out/initrd.img"
size=$(wc -c < "$out/initrd.img")
head -c $((size / 2)) "$out/initrd.img" > "$out/initrd-truncated.img"
rm -rf "$root" "$out/files.cpio" "$out/initramfs.cpio" "$out/initramfs.list"
echo "make-initramfs: $out/initrd.img ($size bytes) and initrd-truncated.img"
