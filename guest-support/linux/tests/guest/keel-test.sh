#!/bin/sh
# SPDX-License-Identifier: MIT
# keel-test.sh - the in-guest half of the Linux package's runtime tests, run
# by the test initramfs's /init (busybox sh) on a stock Debian kernel booted
# on Keel. Each phase prints one line
#     keeltest: linux-PHASE: SUCCESS|FAILURE [what]
# on stdout (the serial console), as tests/guest/README.md asks.
#
# Usage: keel-test.sh PHASE [ARGS]; phases:
#   load [KO]            insmod KO, or modprobe by the device's modalias; the
#                        PCI device bound, kpv started, no errors
#   console              /dev/hvc0 exists and takes a line (seen on Keel's console)
#   console-shell        a shell on hvc0 (the runner types a command into it)
#   block-write DISK     partition, mkfs.ext4, write patterns, sync (then reboot)
#   block-verify DISK    after the reboot: the patterns read back intact
#   block-lost DISK      a dd whose backend goes away under it (the backend
#                        crashes on purpose) ends with an I/O error in
#                        bounded time, and later I/O fails fast too
#   net-up ADDR PEER..   keth0 up with ADDR/24, carrier, ping every PEER
#   net-send PEER        64 MiB to PEER with its SHA-256 (nc, ports 5001/5002)
#   net-recv             receive them and compare checksums
#   net-offload on|off   after traffic: checksum offload negotiated and used
#                        both ways (on), or neither negotiated nor used (off),
#                        from /sys/class/net/keth0/keel/
#   reload [KO]          rmmod with every device live, load again, devices back
set -u

PATTERN_MIB=8
RANDOM_MIB=16
NET_MIB=64
LOST_MIB=32		# written by block-lost; the backend dies before the end
LOST_WAIT=120		# seconds block-lost waits for dd (the module's backend_timeout is 30)

result() { echo "keeltest: linux-$1: $2${3:+ $3}"; }

# wait_for SECONDS COMMAND...: poll once a second until COMMAND succeeds.
wait_for() {
	t=$1
	shift
	while ! "$@" >/dev/null 2>&1; do
		t=$((t - 1))
		[ "$t" -gt 0 ] || return 1
		sleep 1
	done
}

# Seconds since boot, and MiB moved since START as "N.N s, M.M MiB/s" (figures for the benchmarks).
uptime_s() { cut -d' ' -f1 /proc/uptime; }
rate() { awk -v mib="$1" -v t0="$2" -v t1="$(uptime_s)" \
	'BEGIN { d = t1 - t0; if (d <= 0) d = 0.01; printf "%.1f s, %.1f MiB/s", d, mib / d }'; }

# Our errors in the kernel log; an unsigned module's taint notice is expected.
kernel_errors() {
	dmesg | grep -i 'keel' | grep -E -i 'error|fail|BUG|WARNING|refus' |
		grep -v -e 'keeltest' -e 'module verification failed'
}

# Load the module: from KO with insmod, or (no KO) the way udev would, by the
# platform device's modalias through modprobe and modules.alias.
load_module() {
	if [ -n "${1:-}" ]; then
		insmod "$1"
	else
		modprobe "$(cat /sys/bus/pci/devices/0000:00:01.0/modalias)"
	fi
}

phase_load() {
	ko=${1:-}
	alias=$(cat /sys/bus/pci/devices/0000:00:01.0/modalias 2>/dev/null) ||
		{ result load FAILURE "no PCI device 0000:00:01.0"; return 1; }
	load_module "$ko" || { result load FAILURE "loading ${ko:-by modalias $alias} failed"; return 1; }
	wait_for 10 test -e /sys/bus/pci/drivers/keel/0000:00:01.0 ||
		{ result load FAILURE "the platform device did not bind"; return 1; }
	dmesg | grep -q 'keel.*Keel ABI' || { result load FAILURE "kpv_start did not report"; return 1; }
	if kernel_errors; then result load FAILURE "errors in the kernel log (above)"; return 1; fi
	result load SUCCESS "${ko:-modprobe} bound 0000:00:01.0 ($alias)"
}

phase_console() {
	wait_for 10 test -c /dev/hvc0 || { result console FAILURE "no /dev/hvc0"; return 1; }
	grep -q ' /dev/hvc ' /proc/tty/drivers || { result console FAILURE "no hvc tty driver"; return 1; }
	echo "keel-hvc0-marker $(cut -d' ' -f1 /proc/uptime)" >/dev/hvc0 ||
		{ result console FAILURE "write to /dev/hvc0 failed"; return 1; }
	result console SUCCESS "a marker line went to hvc0"
}

phase_console_shell() {
	setsid sh -c 'exec sh </dev/hvc0 >/dev/hvc0 2>&1' &
	result console-shell SUCCESS "shell on hvc0 (pid $!)"
}

# A pattern anyone can regenerate, and random data whose checksum is kept beside it.
pattern() { yes 'keel linux block pattern 0123456789abcdef' | head -c $((PATTERN_MIB << 20)); }

phase_block_write() {
	disk=$1
	wait_for 20 test -b "/dev/$disk" || { result block-write FAILURE "no /dev/$disk"; return 1; }
	# One primary partition over the whole disk (busybox fdisk reads its answers).
	printf 'o\nn\np\n1\n\n\nw\n' | fdisk "/dev/$disk" >/dev/null 2>&1
	wait_for 10 test -b "/dev/${disk}1" || { result block-write FAILURE "no partition"; return 1; }
	mkfs.ext4 -q -F "/dev/${disk}1" || { result block-write FAILURE "mkfs.ext4 failed"; return 1; }
	mkdir -p /mnt/kv && mount -t ext4 "/dev/${disk}1" /mnt/kv ||
		{ result block-write FAILURE "mount failed"; return 1; }
	dd if=/dev/urandom of=/tmp/random bs=1M count=$RANDOM_MIB 2>/dev/null
	t0=$(uptime_s)
	pattern >/mnt/kv/pattern
	cp /tmp/random /mnt/kv/random
	sync
	took=$(rate $((PATTERN_MIB + RANDOM_MIB)) "$t0")
	sha256sum /tmp/random | cut -d' ' -f1 >/mnt/kv/random.sha256
	rm -f /tmp/random
	sync
	umount /mnt/kv || { result block-write FAILURE "umount failed"; return 1; }
	result block-write SUCCESS "ext4 on ${disk}1, $PATTERN_MIB MiB pattern + $RANDOM_MIB MiB random written and synced in $took, $(grant_mode "$disk")"
}

# How the disk's data went: the features the module logged when it made it (block.md F_PERSISTENT is 0x40).
grant_mode() {
	features=$(dmesg | sed -n "s/.* $1: .* features \(0x[0-9a-f]*\).*/\1/p" | tail -n 1)
	if [ -z "$features" ]; then
		echo "features unknown"
	elif [ $((features & 0x40)) -ne 0 ]; then
		echo "persistent grants (features $features)"
	else
		echo "per-request grants (features $features)"
	fi
}

phase_block_verify() {
	disk=$1
	wait_for 20 test -b "/dev/${disk}1" || { result block-verify FAILURE "no /dev/${disk}1"; return 1; }
	mkdir -p /mnt/kv && mount -t ext4 -o ro "/dev/${disk}1" /mnt/kv ||
		{ result block-verify FAILURE "mount failed"; return 1; }
	want=$(pattern | sha256sum | cut -d' ' -f1)
	got=$(sha256sum /mnt/kv/pattern | cut -d' ' -f1)
	rwant=$(cat /mnt/kv/random.sha256)
	rgot=$(sha256sum /mnt/kv/random | cut -d' ' -f1)
	umount /mnt/kv
	[ "$want" = "$got" ] || { result block-verify FAILURE "pattern differs"; return 1; }
	[ "$rwant" = "$rgot" ] || { result block-verify FAILURE "random data differs"; return 1; }
	result block-verify SUCCESS "pattern and random data intact"
}

phase_block_lost() {
	disk=$1
	wait_for 20 test -b "/dev/$disk" || { result block-lost FAILURE "no /dev/$disk"; return 1; }
	rm -f /tmp/dd.rc
	start=$(cut -d' ' -f1 /proc/uptime)
	(dd if=/dev/urandom of="/dev/$disk" bs=1M count=$LOST_MIB oflag=direct 2>/tmp/dd.err
	 echo $? >/tmp/dd.rc) &
	wait_for $LOST_WAIT test -s /tmp/dd.rc ||
		{ result block-lost FAILURE "dd still blocked after $LOST_WAIT s (a hang)"; return 1; }
	took=$(awk "BEGIN { print $(cut -d' ' -f1 /proc/uptime) - $start }")
	rc=$(cat /tmp/dd.rc)
	# The backend is gone for good: a dd that "succeeded" would have lost data silently.
	[ "$rc" -ne 0 ] || { result block-lost FAILURE "dd reported success without a backend"; return 1; }
	grep -q -i 'error' /tmp/dd.err ||
		{ result block-lost FAILURE "dd failed without an I/O error: $(cat /tmp/dd.err)"; return 1; }
	# Later I/O fails at once instead of waiting.
	if timeout 10 dd if="/dev/$disk" of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null; then
		result block-lost FAILURE "a read after the loss succeeded"; return 1
	fi
	result block-lost SUCCESS "dd failed after ${took} s: $(grep -i -m1 error /tmp/dd.err)"
}

phase_net_up() {
	addr=$1
	shift
	wait_for 20 test -e /sys/class/net/keth0 || { result net-up FAILURE "no keth0"; return 1; }
	ip addr add "$addr/24" dev keth0 && ip link set keth0 up ||
		{ result net-up FAILURE "ip failed"; return 1; }
	wait_for 20 grep -qx 1 /sys/class/net/keth0/carrier || { result net-up FAILURE "no carrier"; return 1; }
	[ "$(cat /sys/class/net/keth0/mtu)" = 1500 ] || { result net-up FAILURE "MTU is not 1500"; return 1; }
	for peer in "$@"; do
		wait_for 60 ping -c 1 -W 1 "$peer" || { result net-up FAILURE "$peer does not answer"; return 1; }
		ping -c 5 -W 2 "$peer" >/dev/null || { result net-up FAILURE "lost pings to $peer"; return 1; }
	done
	result net-up SUCCESS "keth0 $addr, $* answer(s)"
}

phase_net_send() {
	peer=$1
	dd if=/dev/urandom of=/tmp/net.bin bs=1M count=$NET_MIB 2>/dev/null
	sha256sum /tmp/net.bin | cut -d' ' -f1 >/tmp/net.sha256
	wait_for 30 nc "$peer" 5001 </tmp/net.sha256 || { result net-send FAILURE "no receiver"; return 1; }
	t0=$(uptime_s)
	wait_for 30 nc "$peer" 5002 </tmp/net.bin || { result net-send FAILURE "transfer failed"; return 1; }
	result net-send SUCCESS "$NET_MIB MiB sent to $peer in $(rate $NET_MIB "$t0"), sha256 $(cat /tmp/net.sha256)"
}

phase_net_recv() {
	nc -l -p 5001 >/tmp/net.sha256 || { result net-recv FAILURE "no checksum"; return 1; }
	nc -l -p 5002 >/tmp/net.bin || { result net-recv FAILURE "no data"; return 1; }
	size=$(wc -c </tmp/net.bin)
	got=$(sha256sum /tmp/net.bin | cut -d' ' -f1)
	[ "$size" -eq $((NET_MIB << 20)) ] || { result net-recv FAILURE "got $size bytes"; return 1; }
	[ "$got" = "$(cat /tmp/net.sha256)" ] || { result net-recv FAILURE "checksum differs"; return 1; }
	result net-recv SUCCESS "$NET_MIB MiB, sha256 $got"
}

# KEEL_IO_NET_F_CSUM_TX | _CSUM_RX (keel/io/net.h)
NET_F_CSUM=3

phase_net_offload() {
	want=$1 k=/sys/class/net/keth0/keel
	[ -r $k/features ] || { result net-offload FAILURE "no $k"; return 1; }
	f=$(cat $k/features) tx=$(cat $k/tx_csum_partial) rx=$(cat $k/rx_csum_partial)
	valid=$(cat $k/rx_csum_valid)
	param=$(cat /sys/module/keel/parameters/net_csum)
	got="features $f, sent $tx and received $rx CSUM_PARTIAL, $valid DATA_VALID, net_csum=$param"
	case $want in
	on)
		[ $((f & NET_F_CSUM)) -eq $NET_F_CSUM ] ||
			{ result net-offload FAILURE "checksum offload not negotiated: $got"; return 1; }
		[ "$tx" -gt 0 ] && [ "$rx" -gt 0 ] ||
			{ result net-offload FAILURE "offload negotiated but not used both ways: $got"; return 1; } ;;
	off)
		[ $((f & NET_F_CSUM)) -eq 0 ] && [ "$param" = N ] ||
			{ result net-offload FAILURE "checksum offload negotiated: $got"; return 1; }
		[ "$tx" -eq 0 ] && [ "$rx" -eq 0 ] && [ "$valid" -eq 0 ] ||
			{ result net-offload FAILURE "offloads used without being negotiated: $got"; return 1; } ;;
	*) result net-offload FAILURE "usage: net-offload on|off"; return 1 ;;
	esac
	result net-offload SUCCESS "$want: $got"
}

# What the module made, as one line (to compare before and after a reload).
devices() { ls /sys/block | grep '^kvd'; ls /sys/class/net | grep '^keth'; ls /dev | grep '^hvc'; }

phase_reload() {
	ko=${1:-}
	before=$(devices | tr '\n' ' ')
	rmmod keel || { result reload FAILURE "rmmod failed"; return 1; }
	[ ! -e /sys/module/keel ] || { result reload FAILURE "module still present"; return 1; }
	load_module "$ko" || { result reload FAILURE "loading again failed"; return 1; }
	wait_for 20 sh -c "[ \"\$(ls /sys/block | grep -c '^kvd')\" -ge 1 ] || ! echo '$before' | grep -q kvd"
	sleep 2
	after=$(devices | tr '\n' ' ')
	[ "$before" = "$after" ] || { result reload FAILURE "devices were '$before', now '$after'"; return 1; }
	if kernel_errors; then result reload FAILURE "errors in the kernel log (above)"; return 1; fi
	result reload SUCCESS "devices back: $after"
}

phase=${1:-}
[ $# -gt 0 ] && shift
case "$phase" in
load) phase_load "$@" ;;
console) phase_console ;;
console-shell) phase_console_shell ;;
block-write) phase_block_write "$@" ;;
block-verify) phase_block_verify "$@" ;;
block-lost) phase_block_lost "$@" ;;
net-up) phase_net_up "$@" ;;
net-send) phase_net_send "$@" ;;
net-recv) phase_net_recv ;;
net-offload) phase_net_offload "$@" ;;
reload) phase_reload "$@" ;;
*) echo "usage: keel-test.sh load|console|console-shell|block-write|block-verify|block-lost|net-up|net-send|net-recv|net-offload|reload ..." >&2
   exit 2 ;;
esac
