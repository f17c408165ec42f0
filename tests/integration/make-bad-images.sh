#!/bin/sh
# SPDX-License-Identifier: MIT
# make-bad-images.sh PROBE OUTDIR - the good and broken boot modules the boot
# tests load, made from the probe guest:
#   truncated/probe-guest.elf     cut off in the middle of its code
#   truncated/config.dtb          the same bytes under the config's name
#   gzip/probe-guest.elf.gz       gzip -9 of the probe guest
#   gzip-corrupt/probe-guest.elf.gz   a byte in the deflate data flipped
#   gzip-truncated/probe-guest.elf.gz the gzip file cut in half
set -eu
probe=$1
out=$2
mkdir -p "$out/truncated" "$out/gzip" "$out/gzip-corrupt" "$out/gzip-truncated"
dd if="$probe" of="$out/truncated/probe-guest.elf" bs=4200 count=1 status=none
cp "$out/truncated/probe-guest.elf" "$out/truncated/config.dtb"
gzip -9 -n -c "$probe" >"$out/gzip/probe-guest.elf.gz"
size=$(wc -c <"$out/gzip/probe-guest.elf.gz")
cp "$out/gzip/probe-guest.elf.gz" "$out/gzip-corrupt/probe-guest.elf.gz"
printf '\377\377\377\377' | dd of="$out/gzip-corrupt/probe-guest.elf.gz" bs=1 seek=$((size / 2)) conv=notrunc status=none
dd if="$out/gzip/probe-guest.elf.gz" of="$out/gzip-truncated/probe-guest.elf.gz" bs=$((size / 2)) count=1 status=none
