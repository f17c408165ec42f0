#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/unit/make-payloads.sh - compressed streams for core/test_decompress.c,
# made with the real gzip, xz and zstd tools the way Linux's build makes a
# bzImage payload (xz: CRC32, x86 BCJ + LZMA2; size trailer on xz and zstd).
#
# usage: make-payloads.sh OUTDIR
# OUTDIR/plain: the input; for each of gz, xz, zst:
#   good.EXT        the stream alone
#   sized.EXT       the stream plus Linux's 4-byte little-endian size
#   truncated.EXT   the stream cut 40 bytes short
#   corrupt.EXT     one byte in the middle flipped
#   junk.EXT        the stream plus 64 bytes of garbage
set -eu
out=$1
mkdir -p "$out"
cd "$out"

# 256 KiB of compressible, not trivial text.
seq 1 40000 | awk '{ printf "%d %x %o line\n", $1, $1 * 7, $1 * 13 }' | head -c 262144 > plain
size=$(wc -c < plain)

gzip -9 -n -c plain > good.gz
xz --check=crc32 --x86 --lzma2=preset=6,dict=1MiB -c plain > good.xz
zstd -q -19 -c plain > good.zst

for ext in gz xz zst; do
	len=$(wc -c < good.$ext)
	cp good.$ext sized.$ext
	# Linux's size_append: the uncompressed size, 32-bit little-endian.
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((size & 255)) $((size >> 8 & 255)) \
		$((size >> 16 & 255)) $((size >> 24 & 255)))" >> sized.$ext
	head -c $((len - 40)) good.$ext > truncated.$ext
	cp good.$ext corrupt.$ext
	mid=$((len / 2))
	byte=$(od -An -tu1 -j $mid -N1 good.$ext | tr -d ' ')
	printf "$(printf '\\%03o' $((byte ^ 0x55)))" | dd of=corrupt.$ext bs=1 seek=$mid conv=notrunc 2>/dev/null
	cp good.$ext junk.$ext
	head -c 64 plain >> junk.$ext
done
touch stamp
