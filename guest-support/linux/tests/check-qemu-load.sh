#!/bin/sh
# SPDX-License-Identifier: MIT
# check-qemu-load.sh KO CACHE - keel.ko on Debian's own kernel, not on Keel:
# boots linux-image-KVER under QEMU (TCG, bounded by timeout) with a busybox
# initramfs holding the module in /lib/modules/KVER/extra, indexed by depmod.
# What udev does at boot (modprobe each PCI device's modalias) must not load
# it, while Keel's modalias does (so the index works); insmod binds nothing;
# a forced bind to QEMU's e1000 (new_id) runs probe, which must refuse
# quietly (no Keel signature); unload, load and unload again; and the kernel
# log must hold no oops or warning and no line of ours but the kernel's
# out-of-tree taint notices: elsewhere the module does nothing and says
# nothing. The kernel and busybox packages are fetched once with apt-get
# download into CACHE.
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
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/lib/modules/$kver/extra"
cp "$tmp/bb/bin/busybox" "$root/bin/"
cp "$ko" "$root/keel.ko"
cp "$ko" "$root/lib/modules/$kver/extra/keel.ko"
depmod -b "$root" "$kver" 2>/dev/null
grep -q ' keel$' "$root/lib/modules/$kver/modules.alias" || { echo "FAIL: depmod made no alias"; exit 1; }
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
r() { echo "keeltest: linux-$1: $2${3:+ $3}"; }
# Coldplug as udev does it: every PCI device's modalias through modprobe and modules.alias.
for a in /sys/bus/pci/devices/*/modalias; do modprobe "$(cat "$a")" 2>/dev/null; done
if [ -e /sys/module/keel ]; then r coldplug FAILURE "a non-Keel device's modalias loaded keel"
else r coldplug SUCCESS "$(ls /sys/bus/pci/devices | wc -l) PCI devices, keel not loaded"; fi
# The same index does load it for Keel's device (else the check above proves nothing).
if modprobe pci:v00004B45d00000001sv00004B45sd00000001bc08sc80i00 && [ -e /sys/module/keel ] &&
	! ls /sys/bus/pci/drivers/keel | grep -q '^0000:' && rmmod keel; then
	r alias SUCCESS "Keel's modalias loads keel, which binds nothing here"
else r alias FAILURE; fi
if insmod /keel.ko && [ -d /sys/bus/pci/drivers/keel ] &&
	! ls /sys/bus/pci/drivers/keel | grep -q '^0000:'; then r load SUCCESS; else r load FAILURE; fi
echo "8086 100e" >/sys/bus/pci/drivers/keel/new_id 2>/dev/null
sleep 1
if ls /sys/bus/pci/drivers/keel | grep -q '^0000:'; then r refuse FAILURE "bound outside Keel"
else r refuse SUCCESS "probe refused the non-Keel device"; fi
if rmmod keel && [ ! -e /sys/module/keel ]; then r unload SUCCESS; else r unload FAILURE; fi
if insmod /keel.ko && rmmod keel; then r reload SUCCESS; else r reload FAILURE; fi
# Expected: the kernel's taint notices for an unsigned out-of-tree module. Any other line
# of ours, or an oops or WARN, fails.
if dmesg | grep -E 'BUG:|Oops|WARNING: CPU|Call Trace|[Kk][Ee][Ee][Ll]' |
	grep -v -e 'module verification failed' -e 'out-of-tree module taints'; then
	r kernel-log FAILURE
else r kernel-log SUCCESS "nothing logged by keel"; fi
echo "@@KEEL-LOAD-DONE@@"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$tmp/initrd.img"
timeout -k 5 150 qemu-system-x86_64 -accel tcg,thread=single -cpu EPYC,+svm,+npt -m 512 -smp 2 -nographic \
	-no-reboot -kernel "$tmp/boot/vmlinuz-$kver" -initrd "$tmp/initrd.img" \
	-append "console=ttyS0 quiet panic=-1" </dev/null >"$tmp/serial.log" 2>&1 || true
grep -a 'keeltest:' "$tmp/serial.log" || true
fail=0
grep -aq '@@KEEL-LOAD-DONE@@' "$tmp/serial.log" || { echo "FAIL: the guest did not finish"; fail=1; }
grep -aq 'keeltest: .*: FAILURE' "$tmp/serial.log" && fail=1
[ "$(grep -ac 'keeltest: .*: SUCCESS' "$tmp/serial.log")" -eq 7 ] || fail=1
[ $fail -eq 0 ] || tail -40 "$tmp/serial.log"
exit $fail
