#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/linux/demo/guide-grub.sh GUIDE SRCDIR BUILDDIR RUNNER LOGDIR - the
# "```sh grub" block of docs/admin-guide.md carried out (ctest
# qemu-guide-grub): the guide's install blocks run into a scratch root
# (check-guide.sh), then Debian's own `update-grub` runs for real in a mount
# namespace of its own in which /boot and /etc/grub.d are that root's (this
# machine's GRUB scripts, with the guide's 40_custom), so it writes the
# scratch /boot/grub/grub.cfg and nothing of the machine's. Its menu must
# start with the guide's entry, unchanged. "reboot" is then QEMU booting,
# from an ISO of the scratch /boot, the menu update-grub wrote: Keel, the
# control domain's shell, its guest in `keelctl list`, and `poweroff`
# ending every domain. Needs root (unshare, mount).
set -eu
guide=$1 src=$2 build=$3 runner=$4 logs=$5
say() { echo "guide-grub: $*"; }
die() { echo "guide-grub: FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root: update-grub runs in a private mount namespace"
command -v update-grub > /dev/null || die "no update-grub (Debian package grub2-common)"
work=$(mktemp -d /tmp/keel-guide-grub.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root

KEEL_GUIDE_ROOT=$root sh "$src/tests/linux/demo/check-guide.sh" "$guide" "$src" "$build" \
	"$build/keel.iso" > "$work/check.log" 2>&1 || { cat "$work/check.log"; die "check-guide.sh failed"; }
say "the guide's install blocks ran into $root"

# The machine's GRUB scripts, with the 40_custom the install blocks appended to.
mkdir -p "$work/grub.d" "$root/boot/grub"
cp -a /etc/grub.d/. "$work/grub.d/"
cp "$root/etc/grub.d/40_custom" "$work/grub.d/40_custom"
say "running update-grub with /boot and /etc/grub.d bound to the scratch root's"
if ! unshare --mount --propagation private sh -eu -c \
	'mount --bind "$1" /boot && mount --bind "$2" /etc/grub.d && update-grub' \
	sh "$root/boot" "$work/grub.d" > "$work/update-grub.log" 2>&1; then
	cat "$work/update-grub.log"
	die "update-grub failed"
fi
sed 's/^/  | /' "$work/update-grub.log"
cfg=$root/boot/grub/grub.cfg
[ -s "$cfg" ] || die "update-grub wrote no $cfg"
sed -n '/^menuentry/,/^}/p' "$root/etc/grub.d/40_custom" > "$work/guide-entry"
sed -n '/^menuentry/,/^}/p' "$cfg" | head -n "$(wc -l < "$work/guide-entry")" > "$work/first-entry"
if cmp -s "$work/guide-entry" "$work/first-entry"; then
	say "the menu update-grub wrote starts with the guide's entry: $(head -1 "$work/guide-entry")"
else
	diff "$work/guide-entry" "$work/first-entry" || true
	die "the first entry of the menu update-grub wrote is not the guide's"
fi

# "reboot": boot that menu. GRUB starts its default (first) entry after its timeout.
grub-mkrescue -o "$work/guide.iso" "$root" > "$work/mkrescue.log" 2>&1 ||
	{ cat "$work/mkrescue.log"; die "grub-mkrescue failed"; }
say "booting the menu update-grub wrote ($(du -m "$work/guide.iso" | cut -f1) MiB ISO)"
prompt='root@ctl:[^ ]*# '
"$runner" --name guide-grub --log-dir "$logs" --timeout 400 --smp 2 --iso "$work/guide.iso" \
	--send-after "$prompt" 'keelctl list\r' \
	--send-after 'guest +[0-9]+ +192 +1 ' 'poweroff\r' \
	--reject-line "KEEL PANIC" \
	--reject-line "Kernel panic" \
	--reject-line "BUG:|Oops|WARNING: CPU|Call Trace" \
	--reject-line "domain [0-9]+ '[^']+' crashed" \
	--expect-line "loaded by GRUB" \
	--expect-line "keel-demo: keel\\.ko loaded: " \
	--expect-line "keel-demo: You are root on 'ctl'" \
	--expect-line "ctl +[0-9]+ +512 +2 r" \
	--expect-line "guest +[0-9]+ +192 +1 " \
	--expect-line "domain [0-9]+ 'ctl' powered off" \
	--expect-line "all domains have ended"
