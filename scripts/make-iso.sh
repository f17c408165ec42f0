#!/bin/sh
# SPDX-License-Identifier: MIT
# make-iso.sh ISO KEEL_ELF MODULE... - a GRUB-bootable ISO that loads
# KEEL_ELF by Multiboot 2 with the command line $KEEL_CMDLINE (default
# empty) and each MODULE, named by its file name.
set -eu
iso=$1
elf=$2
cmdline=${KEEL_CMDLINE:-}
shift 2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/boot/grub"
cp "$elf" "$root/boot/keel.elf"
{
	echo 'set timeout=1'
	echo 'set default=0'
	echo 'serial --unit=0 --speed=115200'
	echo 'terminal_input serial console'
	echo 'terminal_output serial console'
	echo 'menuentry "Keel" {'
	echo "	multiboot2 /boot/keel.elf $cmdline"
	for m in "$@"; do
		name=$(basename "$m")
		cp "$m" "$root/boot/$name"
		echo "	module2 /boot/$name $name"
	done
	echo '}'
} > "$root/boot/grub/grub.cfg"
grub-mkrescue -o "$iso.tmp" "$root" >/dev/null 2>&1 || {
	grub-mkrescue -o "$iso.tmp" "$root"
	exit 1
}
mv "$iso.tmp" "$iso"
