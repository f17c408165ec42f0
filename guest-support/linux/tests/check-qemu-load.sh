#!/bin/sh
# SPDX-License-Identifier: MIT
# check-qemu-load.sh KO CACHE - keel.ko on Debian's own kernel, not on Keel:
# boots linux-image-KVER under QEMU (TCG, bounded by timeout) with a busybox
# initramfs that loads the module, forces its PCI driver onto QEMU's e1000
# (new_id) so that probe runs and must refuse quietly (no Keel signature),
# unloads, loads and unloads again, and checks the kernel log for oopses,
# warnings or keel errors. The kernel and busybox packages are fetched once
# with apt-get download into CACHE.
set -eu
ko=$1 cache=$2
kver=${KVER:?}
mkdir -p "$cache"
cd "$cache"
for pkg in "linux-image-$kver" busybox-static; do
	ls "${pkg}"_*.deb >/dev/null 2>&1 || apt-get download "$pkg" >/dev/null 2>&1 ||
		{ echo "FAIL: cannot download $pkg"; exit 1; }
done
tmp=$(mktemp -d /tmp/keel-lmod-qemu.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "linux-image-${kver}"_*.deb | tar -x -C "$tmp" "./boot/vmlinuz-$kver"
dpkg-deb -x busybox-static_*.deb "$tmp/bb"
root=$tmp/initramfs
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
cp "$tmp/bb/bin/busybox" "$root/bin/"
cp "$ko" "$root/keel.ko"
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
r() { echo "keeltest: linux-$1: $2${3:+ $3}"; }
if insmod /keel.ko && [ -d /sys/bus/pci/drivers/keel ]; then r load SUCCESS; else r load FAILURE; fi
echo "8086 100e" >/sys/bus/pci/drivers/keel/new_id 2>/dev/null
sleep 1
if ls /sys/bus/pci/drivers/keel | grep -q '^0000:'; then r refuse FAILURE "bound outside Keel"
else r refuse SUCCESS "probe refused the non-Keel device"; fi
if rmmod keel && [ ! -e /sys/module/keel ]; then r unload SUCCESS; else r unload FAILURE; fi
if insmod /keel.ko && rmmod keel; then r reload SUCCESS; else r reload FAILURE; fi
# Expected: the unsigned-module taint line. Anything else of ours, or an oops or WARN, fails.
if dmesg | grep -E 'BUG:|Oops|WARNING: CPU|Call Trace|keel.*(error|fail|refus)' |
	grep -v 'module verification failed'; then r kernel-log FAILURE
else r kernel-log SUCCESS; fi
echo "@@KEEL-LOAD-DONE@@"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$tmp/initrd.img"
timeout -k 5 150 qemu-system-x86_64 -accel tcg -cpu EPYC,+svm,+npt -m 512 -smp 2 -nographic \
	-no-reboot -kernel "$tmp/boot/vmlinuz-$kver" -initrd "$tmp/initrd.img" \
	-append "console=ttyS0 quiet panic=-1" </dev/null >"$tmp/serial.log" 2>&1 || true
grep -a 'keeltest:' "$tmp/serial.log" || true
fail=0
grep -aq '@@KEEL-LOAD-DONE@@' "$tmp/serial.log" || { echo "FAIL: the guest did not finish"; fail=1; }
grep -aq 'keeltest: .*: FAILURE' "$tmp/serial.log" && fail=1
[ "$(grep -ac 'keeltest: .*: SUCCESS' "$tmp/serial.log")" -eq 5 ] || fail=1
[ $fail -eq 0 ] || tail -40 "$tmp/serial.log"
exit $fail
