#!/bin/sh
# SPDX-License-Identifier: MIT
# make-iso.sh ISO KEEL_ELF MODULE... - a GRUB-bootable ISO that loads
# KEEL_ELF by Multiboot 2 with the command line $KEEL_CMDLINE (default
# empty) and each MODULE, named by its file name. The files go to
# $KEEL_ISO_DIR (default /boot) in the image and the menu entry is titled
# $KEEL_ISO_TITLE (default "Keel"): the demo's ISO uses the directory and
# title of docs/admin-guide.md, so that its menu entry is the guide's.
set -eu
iso=$1
elf=$2
cmdline=${KEEL_CMDLINE:-}
dir=${KEEL_ISO_DIR:-/boot}
title=${KEEL_ISO_TITLE:-Keel}
shift 2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/boot/grub" "$root$dir"
cp "$elf" "$root$dir/keel.elf"
{
	echo 'set timeout=1'
	echo 'set default=0'
	echo 'serial --unit=0 --speed=115200'
	echo 'terminal_input serial console'
	echo 'terminal_output serial console'
	echo "menuentry \"$title\" {"
	echo "	multiboot2 $dir/keel.elf${cmdline:+ $cmdline}"
	for m in "$@"; do
		name=$(basename "$m")
		cp "$m" "$root$dir/$name"
		echo "	module2 $dir/$name $name"
	done
	echo '}'
} > "$root/boot/grub/grub.cfg"
grub-mkrescue -o "$iso.tmp" "$root" >/dev/null 2>&1 || {
	grub-mkrescue -o "$iso.tmp" "$root"
	exit 1
}
mv "$iso.tmp" "$iso"
