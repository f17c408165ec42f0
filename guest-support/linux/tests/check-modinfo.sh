#!/bin/sh
# SPDX-License-Identifier: MIT
# check-modinfo.sh KO - the module's metadata: license, the PCI alias udev
# autoloads it by, no module dependencies, the kernel it was built for.
set -eu
ko=$1
fail=0
check() {	# field expected actual
	if [ "$2" = "$3" ]; then
		echo "ok: $1 = '$3'"
	else
		echo "FAIL: $1 is '$3', expected '$2'"
		fail=1
	fi
}
check license "Dual MIT/GPL" "$(modinfo -F license "$ko")"
check alias "pci:v00004B45d00000001sv*sd*bc*sc*i*" "$(modinfo -F alias "$ko")"
check depends "" "$(modinfo -F depends "$ko")"
check version "${VERSION:?}" "$(modinfo -F version "$ko")"
check vermagic-kernel "${KVER:?}" "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)"
# The alias must be what the kernel's modalias for Keel's device matches.
modalias="pci:v00004B45d00000001sv00004B45sd00000001bc08sc80i00"
case "$modalias" in
$(modinfo -F alias "$ko")) echo "ok: matches the platform device's modalias $modalias" ;;
*) echo "FAIL: alias does not match $modalias"; fail=1 ;;
esac
exit $fail
