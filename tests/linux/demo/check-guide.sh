#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/linux/demo/check-guide.sh GUIDE SRCDIR BUILDDIR ISO - every command of
# docs/admin-guide.md is run by a test (ctest demo-guide):
#   - "```sh install" blocks are run here, in a scratch directory standing in
#     for / (absolute /boot, /etc and /usr paths of the commands redirected
#     there, heredoc contents left alone), from a tree whose build/ and
#     tests/ are BUILDDIR and SRCDIR's; every file the GRUB entry they write
#     names must then exist, and the entry must equal the menu entry of
#     ISO's grub.cfg (the demo's build/keel.iso) line for line;
#   - each line of "```sh ctl" and "```sh guest" blocks must appear verbatim
#     in what the demo's control domain runs at boot (demo-start) or what
#     qemu-demo types (tests/integration/demo.cmake), or be one of the
#     EQUIVALENTS below, each run in the form given by the named test;
#   - the "```dts" and "```cfg" blocks must equal tests/configs/demo-linux.dts
#     and tests/linux/demo/guest.cfg without their comment lines;
#   - the "```sh grub" block must be update-grub, grub-reboot of the
#     entry's title and reboot, which guide-grub.sh carries out (ctest
#     qemu-guide-grub: the commands for real over this scratch root, then a
#     QEMU "reboot" into what they wrote);
#   - "```sh untested" blocks are listed as such; any other block kind fails.
# With KEEL_GUIDE_ROOT=DIR, the scratch root of the install blocks is left
# in DIR (for guide-grub.sh).
set -eu
guide=$1 src=$2 build=$3 iso=$4
fails=0
ok() { echo "check-guide: ok: $*"; }
bad() { echo "check-guide: FAIL: $*"; fails=$((fails + 1)); }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# block KIND: the lines of every block opened by "```KIND", concatenated.
block() {
	awk -v want="$1" '
		/^```/ { if (inside) { inside = 0; next } kind = substr($0, 4); inside = 1; next }
		inside && kind == want { print }' "$guide"
}
awk '/^```/ { if (inside) { inside = 0; next } print substr($0, 4); inside = 1 }' "$guide" |
	sort -u > "$work/kinds"
while IFS= read -r k; do
	case $k in
	"sh install" | "sh ctl" | "sh guest" | "sh grub" | "sh untested" | dts | cfg) ;;
	*) bad "a block of kind '$k': the checker does not know how it is tested" ;;
	esac
done < "$work/kinds"

# --- install blocks, run in a scratch root ----------------------------------
root=$work/root
tree=$work/tree
mkdir -p "$root/boot" "$root/etc/grub.d" "$root/usr/local/sbin" "$tree"
ln -s "$build" "$tree/build"
ln -s "$src/tests" "$tree/tests"
printf '#!/bin/sh\nexec tail -n +3 $0\n' > "$root/etc/grub.d/40_custom"	# as Debian ships it
block "sh install" | awk -v R="$root" '
	heredoc != "" { print; if ($0 == heredoc) heredoc = ""; next }
	{
		out = ""
		n = split($0, w, " ")
		for (i = 1; i <= n; i++) {
			if (w[i] ~ /^\/(boot|etc|usr)(\/|$)/) w[i] = R w[i]
			out = out (i > 1 ? " " : "") w[i]
		}
		print out
		if (match($0, /<<.?EOF.?$/)) heredoc = "EOF"
	}' > "$work/install.sh"
if (cd "$tree" && sh -eu "$work/install.sh") > "$work/install.log" 2>&1; then
	ok "the install blocks ran ($(grep -c . "$work/install.sh") lines, in $root)"
else
	cat "$work/install.log"
	bad "the install blocks failed"
fi
sed -n '/^menuentry/,/^}/p' "$root/etc/grub.d/40_custom" > "$work/guide-entry"
[ -s "$work/guide-entry" ] || bad "the install blocks wrote no menu entry to /etc/grub.d/40_custom"
for f in $(awk '$1 == "multiboot2" || $1 == "module2" { print $2 }' "$work/guide-entry"); do
	[ -s "$root$f" ] && ok "the entry's $f was installed" || bad "the entry names $f, which was not installed"
done
if xorriso -osirrox on -indev "$iso" -extract /boot/grub/grub.cfg "$work/iso-grub.cfg" \
	> "$work/xorriso.log" 2>&1; then
	sed -n '/^menuentry/,/^}/p' "$work/iso-grub.cfg" > "$work/iso-entry"
	if cmp -s "$work/guide-entry" "$work/iso-entry"; then
		ok "the guide's GRUB entry is build/keel.iso's"
	else
		diff "$work/guide-entry" "$work/iso-entry" || true
		bad "the guide's GRUB entry differs from $iso's grub.cfg"
	fi
else
	cat "$work/xorriso.log"
	bad "cannot read grub.cfg from $iso"
fi

if [ -n "${KEEL_GUIDE_ROOT:-}" ]; then
	rm -rf "$KEEL_GUIDE_ROOT"
	cp -a "$root" "$KEEL_GUIDE_ROOT"
fi

# --- the GRUB update and the reboot ----------------------------------------------
# guide-grub.sh runs the block's lines before its last, which must be reboot.
title=$(sed -n 's/^menuentry "\(.*\)" {$/\1/p' "$work/guide-entry")
if [ "$(block "sh grub" | tr '\n' '|')" = "update-grub|grub-reboot \"$title\"|reboot|" ]; then
	ok "the grub block (update-grub, grub-reboot of the entry, reboot) is what ctest qemu-guide-grub runs"
else
	bad "the grub block is not update-grub, grub-reboot \"$title\", reboot (tests/linux/demo/guide-grub.sh)"
fi

# --- configurations shown ------------------------------------------------------
same_as() {	# KIND FILE COMMENT-RE
	block "$1" > "$work/shown"
	grep -v -E "$3" "$2" > "$work/file"
	if cmp -s "$work/shown" "$work/file"; then
		ok "the guide's $1 block is ${2#$src/}"
	else
		diff "$work/shown" "$work/file" || true
		bad "the guide's $1 block differs from ${2#$src/}"
	fi
}
same_as dts "$src/tests/configs/demo-linux.dts" '^//'
same_as cfg "$src/tests/linux/demo/guest.cfg" '^#'

# --- control-domain and guest commands ----------------------------------------------
# Commands run by a test in another form: guide command|file|the form there.
EQUIVALENTS='apt install ./keel-dkms_*.deb|tests/linux/deb/check-apt-install.sh|apt install -y ./$name
apt install ./keel-tools_*.deb|tools/packaging/check-apt-install.sh|apt install -y ./$name'
# What runs: demo-start's commands (not its banner or messages), and what
# qemu-demo types (the --send-after texts).
grep -E -- '--send-after' "$src/tests/integration/demo.cmake" > "$work/typed-by-qemu-demo"
grep -v -E '^(keel-demo:|#|[[:space:]]*say )' "$src/tests/linux/demo/demo-start" > "$work/run-by-demo-start"
ran_by="$work/typed-by-qemu-demo $work/run-by-demo-start"
{ block "sh ctl"; block "sh guest"; } | grep -v -e '^$' -e '^#' > "$work/commands"
while IFS= read -r cmd; do
	if grep -qF -- "$cmd" $ran_by; then
		ok "'$cmd' is $(grep -lF -- "$cmd" $ran_by | sed "s|$work/||" | head -1 | tr - ' ')"
		continue
	fi
	eq=$(echo "$EQUIVALENTS" | awk -F'|' -v c="$cmd" '$1 == c')
	if [ -n "$eq" ] && grep -qF -- "$(echo "$eq" | cut -d'|' -f3)" "$src/$(echo "$eq" | cut -d'|' -f2)"; then
		ok "'$cmd' is run by $(echo "$eq" | cut -d'|' -f2) as '$(echo "$eq" | cut -d'|' -f3)'"
	else
		bad "'$cmd' is run by no test"
	fi
done < "$work/commands"
block "sh untested" | while IFS= read -r cmd; do echo "check-guide: not tested (the guide says so): $cmd"; done

[ $fails -eq 0 ] || { echo "check-guide: $fails problem(s)"; exit 1; }
echo "check-guide: every command of the guide is run by a test"
