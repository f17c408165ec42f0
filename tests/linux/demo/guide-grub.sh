#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/linux/demo/guide-grub.sh GUIDE SRCDIR BUILDDIR RUNNER LOGDIR - the
# "```sh grub" block of docs/admin-guide.md carried out (ctest
# qemu-guide-grub). The guide's install blocks run into a scratch root
# (check-guide.sh), which also gets a Debian kernel's file names, so that
# Debian's entry comes first in the menu as on a real machine. The block's
# commands before "reboot" (update-grub, grub-reboot) then run for real in
# a mount namespace of their own, in which /boot, /etc/grub.d and
# /etc/default are the scratch root's (this machine's GRUB scripts with the
# guide's 40_custom; Debian's default settings), so they write the scratch
# /boot/grub and nothing of the machine's. The menu must hold the guide's
# entry unchanged and grubenv the next boot's choice. "reboot" is QEMU
# booting, from an ISO of the scratch /boot, the menu they wrote: Keel (not
# the default entry, whose kernel is a dummy) to the control domain's shell,
# its guest in `keelctl list`, and `poweroff` ending every domain.
# Needs root (unshare, mount) and a build directory on a disk file system
# grub-probe understands (not tmpfs or overlayfs).
set -eu
guide=$1 src=$2 build=$3 runner=$4 logs=$5
say() { echo "guide-grub: $*"; }
die() { echo "guide-grub: FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root: the GRUB commands run in a private mount namespace"
for c in update-grub grub-reboot grub-editenv grub-mkrescue unshare; do
	command -v "$c" > /dev/null || die "no $c (./keel test installs grub2-common and grub-common)"
done
# In the build directory, not /tmp: update-grub runs grub-probe on /boot,
# which must be on a real disk file system.
work=$(mktemp -d "$build/guide-grub.XXXXXX")
trap 'rm -rf "$work"' EXIT
grub-probe --target=device "$work" > /dev/null 2>&1 ||
	die "grub-probe cannot place $build on a device (tmpfs or overlayfs?): update-grub would fail there"
root=$work/root

# The block: commands for the running system, then "reboot".
awk '/^```/ { if (inside) { inside = 0; next } inside = ($0 == "```sh grub"); next }
	inside' "$guide" > "$work/block"
[ "$(tail -1 "$work/block")" = reboot ] || die "the guide's grub block does not end with reboot"
sed '$d' "$work/block" > "$work/commands"

KEEL_GUIDE_ROOT=$root sh "$src/tests/linux/demo/check-guide.sh" "$guide" "$src" "$build" \
	"$build/keel.iso" > "$work/check.log" 2>&1 || { cat "$work/check.log"; die "check-guide.sh failed"; }
say "the guide's install blocks ran into $root"

# A Debian kernel's files (their contents do not matter to update-grub): its
# entry is the menu's default, which would not boot.
mkdir -p "$root/boot/grub" "$work/grub.d" "$work/default"
printf 'not a kernel\n' > "$root/boot/vmlinuz-6.1.0-0-amd64"
printf 'not an initrd\n' > "$root/boot/initrd.img-6.1.0-0-amd64"
# The machine's GRUB scripts, with the 40_custom the install blocks appended to.
cp -a /etc/grub.d/. "$work/grub.d/"
install -m 755 "$root/etc/grub.d/40_custom" "$work/grub.d/40_custom"
# Debian 12's /etc/default/grub as installed (not this machine's).
cat > "$work/default/grub" <<'EOF'
GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""
EOF
say "running, with /boot, /etc/grub.d and /etc/default bound to the scratch root's: $(tr '\n' ';' < "$work/commands")"
if ! unshare --mount --propagation private sh -eu -c \
	'mount --bind "$1" /boot && mount --bind "$2" /etc/grub.d && mount --bind "$3" /etc/default &&
	 . "$4"' sh "$root/boot" "$work/grub.d" "$work/default" "$work/commands" \
	> "$work/grub.log" 2>&1; then
	cat "$work/grub.log"
	die "the guide's GRUB commands failed"
fi
sed 's/^/  | /' "$work/grub.log"
cfg=$root/boot/grub/grub.cfg
[ -s "$cfg" ] || die "update-grub wrote no $cfg"
first=$(sed -n 's/^menuentry \([^{]*\){.*/\1/p' "$cfg" | head -1)
say "the menu's first entry (its default): $first"
case $first in
*Debian*) ;;
*) die "the dummy Debian kernel's entry is not first, as it would be on a real machine" ;;
esac
sed -n '/^menuentry/,/^}/p' "$root/etc/grub.d/40_custom" > "$work/guide-entry"
title=$(sed -n 's/^menuentry "\(.*\)" {$/\1/p' "$work/guide-entry")
sed -n "/^menuentry \"$title\" {\$/,/^}/p" "$cfg" > "$work/menu-entry"
if [ -s "$work/menu-entry" ] && cmp -s "$work/guide-entry" "$work/menu-entry"; then
	say "the menu holds the guide's entry unchanged: $title"
else
	diff "$work/guide-entry" "$work/menu-entry" || true
	die "the menu update-grub wrote does not hold the guide's entry as written"
fi
next=$(grub-editenv "$root/boot/grub/grubenv" list | sed -n 's/^next_entry=//p')
[ "$next" = "$title" ] || die "grubenv's next_entry is '$next', not '$title'"
say "grubenv: the next boot starts '$next'"

# "reboot": boot that menu.
grub-mkrescue -o "$work/guide.iso" "$root" > "$work/mkrescue.log" 2>&1 ||
	{ cat "$work/mkrescue.log"; die "grub-mkrescue failed"; }
say "booting the menu they wrote ($(du -m "$work/guide.iso" | cut -f1) MiB ISO)"
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
