#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/unit/x86/check_vacpi.sh - the ACPI tables Keel writes for its guests,
# built on the host for several configurations (vacpi-dump checks structure
# and checksums) and disassembled with iasl -d (acpica-tools): each table must
# disassemble without complaint and name the devices and fields expected.
#
# usage: check_vacpi.sh VACPI_DUMP WORKDIR
set -eu
dump=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail=0

say_fail() {
    echo "check_vacpi: FAILED: $*"
    fail=1
}

# has FILE PATTERN / lacks FILE PATTERN
has() { grep -Eq "$2" "$1" || say_fail "$(basename "$1") lacks /$2/"; }
lacks() { ! grep -Eq "$2" "$1" || say_fail "$(basename "$1") has /$2/"; }

# check NAME VCPUS DEVICES...
check() {
    name=$1
    vcpus=$2
    shift 2
    "$dump" "$dir" "$name" "$vcpus" "$@" || { say_fail "$name: vacpi-dump"; return; }
    for t in xsdt facp apic dsdt; do
        (cd "$dir" && iasl -d "$name-$t.dat") >"$dir/$name-$t.log" 2>&1 ||
            { say_fail "$name: iasl -d $name-$t.dat"; cat "$dir/$name-$t.log"; continue; }
        lacks "$dir/$name-$t.log" "Error|Warning|[Ii]ncorrect checksum|Invalid"
        lacks "$dir/$name-$t.dsl" "[Ii]ncorrect checksum|\*\*\*\*"
    done
    d=$dir/$name-dsdt.dsl
    f=$dir/$name-facp.dsl
    a=$dir/$name-apic.dsl
    has "$f" "Hardware Reduced \(V5\) : 1"
    has "$f" "VGA Not Present \(V4\) : 1"
    has "$f" "8042 Present on ports 60/64 \(V2\) : 0"
    has "$f" "Hypervisor ID : 000000004C45454B"
    has "$f" "Sleep Control Register"
    has "$f" "Address : 0000000000000600"
    has "$f" "Reset Register Supported \(V2\) : 1"
    has "$f" "Address : 0000000000000602"
    has "$f" "Value to cause reset : 01"
    has "$d" "Name \(\\\\_S5, Package"
    n=$(grep -c "Subtable Type : 00 \[Processor Local APIC\]" "$a" || true)
    [ "$n" = "$vcpus" ] || say_fail "$name: $n LAPIC entries for $vcpus vCPUs"
    has "$a" "Local Apic ID : $(printf '%02X' $((vcpus - 1)))"
    has "$a" "Subtable Type : 01 \[I/O APIC\]"
    has "$a" "Address : FEC00000"
    has "$a" "Subtable Type : 04 \[Local APIC NMI\]"
    has "$a" "Interrupt Input LINT : 01"
    has "$a" "PC-AT Compatibility : 0"
    case " $* " in
    *" uart "*) has "$d" 'Device \(COM1\)'; has "$d" 'EisaId \("PNP0501"\)'; has "$d" '0x03F8'
                has "$d" '\{4\}' ;;
    *) lacks "$d" 'PNP0501' ;;
    esac
    case " $* " in
    *" rtc "*) has "$d" 'EisaId \("PNP0B00"\)'; has "$f" "CMOS RTC Not Present \(V5\) : 0"
               has "$f" "RTC Century Index : 32" ;;
    *) lacks "$d" 'PNP0B00'; has "$f" "CMOS RTC Not Present \(V5\) : 1" ;;
    esac
    case " $* " in
    *" pci "*) has "$d" 'EisaId \("PNP0A08"\)'; has "$d" 'Name \(_CID, EisaId \("PNP0A03"\)'
               has "$d" 'WordBusNumber'; has "$d" '0x0CF8'; has "$d" '0xEFFFFFFF'
               has "$d" 'QWordMemory \(ResourceProducer, PosDecode, MinFixed, MaxFixed, Prefetchable'
               has "$d" '0x00000000F3FFFFFF'; has "$d" '0x0001FFFF'; has "$d" 'Name \(_PRT'
               has "$d" '^ +0x10$' ;;
    *) lacks "$d" 'PNP0A0' ;;
    esac
}

check linux2 2 uart rtc pci
check bare1 1
check uart4 4 uart
check nortc3 3 uart pci
check big64 64 uart rtc pci
[ $fail = 0 ] && echo "check_vacpi: all configurations ok"
exit $fail
