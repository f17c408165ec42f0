# SPDX-License-Identifier: MIT
# tests/integration/guests.cmake - QEMU runs of the Keel-native test kernels (tests/guest/), each
# booted as the domains of a boot configuration in tests/configs/.
#
# Included by tests/integration/CMakeLists.txt after keel_qemu_test(), keel_config(), ELF and
# CONFIGS are defined. Every run boots keel.elf without the probe guest, with qemu_exit=1 so that
# Keel ends QEMU with its verdict once every boot-time domain has ended. Each kernel prints one
# "keeltest: <test>: SUCCESS|FAILURE ..." line per test; the runner fails on any FAILURE or ERROR
# line, and every SUCCESS line a run must produce is named with --expect-line, so a kernel that
# stops early fails as well.
set(GUESTS ${CMAKE_BINARY_DIR}/tests)
foreach(cfg insn hcall pingpong isolation crash share eight bigmem smp reference ref-console hcbench
        ref-block ref-net pcplat vapic ctlbuild wakestress)
    keel_config(${cfg})
endforeach()

set(GUEST_BOOT --kernel ${ELF} --append "qemu_exit=1 probe_guest=none")
# Nothing may panic Keel or crash a domain that is not meant to crash.
set(GUEST_CLEAN
    --reject-line "KEEL PANIC"
    --reject-line "unexpected exception"
    --reject-line "domain [0-9]+ '[^']+' crashed")

# Each intercepted instruction, with prefixes, resumes right after itself (or faults as specified).
keel_qemu_test(guest-insn 240 --smp 1 ${GUEST_BOOT}
    --module ${GUESTS}/insn.elf --module ${CONFIGS}/insn/config.dtb ${GUEST_CLEAN}
    --expect-line "keeltest: insn-cpuid: SUCCESS"
    --expect-line "keeltest: insn-msr: SUCCESS"
    --expect-line "keeltest: insn-hlt: SUCCESS"
    --expect-line "keeltest: insn-io: SUCCESS"
    --expect-line "keeltest: insn-string-io: SUCCESS"
    --expect-line "keeltest: insn-vmmcall: SUCCESS"
    --expect-line "keeltest: insn-svm: SUCCESS"
    --expect-line "keeltest: insn-monitor: SUCCESS"
    --expect-line "keeltest: insn-tsc: SUCCESS"
    --expect-line "keeltest: insn-cr: SUCCESS"
    --expect-line "keeltest: insn-xsetbv: SUCCESS"
    --expect-line "keeltest: insn-cache: SUCCESS"
    --expect-line "keeltest: insn-exceptions: SUCCESS")

# Every guest hypercall with good and bad arguments, and the LONG64 entry state.
keel_qemu_test(guest-hcall 300 --smp 1 ${GUEST_BOOT}
    --module ${GUESTS}/hcall.elf --module ${CONFIGS}/hcall/config.dtb ${GUEST_CLEAN}
    --expect-line "hcall: a console line written by KEEL_HC_CONSOLE_WRITE"
    --expect-line "keeltest: discovery: SUCCESS [0-9]+ checks"
    --expect-line "keeltest: entry-state: SUCCESS [0-9]+ checks"
    --expect-line "keeltest: hcall-console: SUCCESS [0-9]+ checks"
    --expect-line "keeltest: hcall-sched: SUCCESS [0-9]+ checks"
    --expect-line "keeltest: hcall-evtchn: SUCCESS [0-9]+ checks"
    --expect-line "keeltest: hcall-gnttab: SUCCESS [0-9]+ checks"
    --expect-line "keeltest: hcall-memory: SUCCESS [0-9]+ checks"
    --expect-line "keeltest: hcall-vcpu: SUCCESS [0-9]+ checks"
    --expect-line "keeltest: hcall-devtable: SUCCESS [0-9]+ checks"
    --expect-line "keeltest: hcall-control: SUCCESS [0-9]+ checks")

# A console device between two domains: device pages, a grant, 1000 event round trips, a revoke.
# With exit_stats=1: each vCPU's exits are logged by reason when it goes,
# the 1000 round trips' notifications among its hypercalls.
keel_qemu_test(guest-pingpong 240 --smp 2 --kernel ${ELF}
    --append "qemu_exit=1 probe_guest=none exit_stats=1"
    --module ${GUESTS}/pingpong.elf --module ${CONFIGS}/pingpong/config.dtb ${GUEST_CLEAN}
    --expect-line "keeltest: evtchn-roundtrip: SUCCESS 1000 round trips, avg [0-9]+ us"
    --expect-line "keeltest: pingpong-back: SUCCESS"
    --expect-line "keeltest: pingpong-front: SUCCESS"
    --expect-line "domain [0-9]+ 'front' vCPU 0: [0-9]+ exits, [0-9]+ us handling them: hypercall [1-9][0-9]{3,} \\([0-9]+ us\\)"
    --expect-line "domain [0-9]+ 'back' vCPU 0: [0-9]+ exits, [0-9]+ us handling them: hypercall [1-9][0-9]{3,} \\([0-9]+ us\\)")

# Two domains without capabilities, each probing the other: grants, ports, control calls.
keel_qemu_test(guest-isolation 240 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/isolation.elf --module ${CONFIGS}/isolation/config.dtb ${GUEST_CLEAN}
    --expect-line "keeltest: isolation-iso-a: SUCCESS [0-9]+ checks"
    --expect-line "keeltest: isolation-iso-b: SUCCESS [0-9]+ checks")

# Four domains crash in four ways; Keel reports each and the survivor finishes its 5 s sleep.
keel_qemu_test(guest-crash 240 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/crash.elf --module ${GUESTS}/hello.elf
    --module ${CONFIGS}/crash/config.dtb
    --reject-line "KEEL PANIC"
    --reject-line "domain [0-9]+ 'survivor' crashed"
    --expect-line "keeltest: crash-triple-fault: SUCCESS about to crash"
    --expect-line "keeltest: crash-bad-access: SUCCESS about to crash"
    --expect-line "keeltest: crash-crash-call: SUCCESS about to crash"
    --expect-line "keeltest: crash-wild-write: SUCCESS about to crash"
    --expect-line "domain [0-9]+ 'crash-tf' crashed"
    --expect-line "domain [0-9]+ 'crash-bad' crashed"
    --expect-line "domain [0-9]+ 'crash-call' crashed"
    --expect-line "domain [0-9]+ 'crash-wild' crashed"
    --expect-line "keeltest: hello: SUCCESS domain [0-9]+ 'survivor', 1 vCPU\\(s\\), slept [0-9]+ ms")

# Weights 1 and 2 on one CPU: a 1:2 split (tests/configs/share.dts says why 8 points of tolerance).
keel_qemu_test(guest-share 240 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/spin.elf --module ${CONFIGS}/share/config.dtb ${GUEST_CLEAN}
    --expect-line "keeltest: spin-light: SUCCESS share [0-9.]+% \\(expected 33 \\+- 8\\)"
    --expect-line "keeltest: spin-heavy: SUCCESS share [0-9.]+% \\(expected 67 \\+- 8\\)")

# Two domains each start their vCPU 1 and drive it: 'spread' on both CPUs, 'pinned' on CPU 0.
# One TCG thread for both CPUs: with a thread per CPU, QEMU 7.2 now and then faults on mapped
# code right after a #VMEXIT under this load (docs/testing.md, "Emulator limits").
set(SMP)
foreach(dom spread pinned)
    foreach(grp errors start concurrent ipi updown)
        list(APPEND SMP --expect-line "keeltest: smp-${grp}-${dom}: SUCCESS [0-9]+ checks")
    endforeach()
endforeach()
keel_qemu_test(guest-smp 240 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/smp.elf --module ${CONFIGS}/smp/config.dtb ${GUEST_CLEAN} ${SMP})

# Blocking calls, HLT and upcalls while another domain floods the port, for 15 s: the guest
# checks RSP, callee-saved registers, its stack, results and every upcall's frame and RIP.
keel_qemu_test(guest-wakestress 180 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/wakestress.elf --module ${CONFIGS}/wakestress/config.dtb ${GUEST_CLEAN}
    --reject-line "triple fault"
    --expect-line "keeltest: wakestress-waiter: SUCCESS [0-9]+ checks"
    --expect-line "keeltest: wakestress-sender: SUCCESS [0-9]+ checks")

# The emulated local APIC and IOAPIC (docs/platform.md) from inside an ACPI-platform domain:
# registers, timer modes, priorities, INIT/SIPI start of vCPU 1, IPIs, IOAPIC, bad input.
set(VAPIC)
foreach(grp regs timer priority ioapic bad sipi ipi)
    list(APPEND VAPIC --expect-line "keeltest: vapic-${grp}: SUCCESS [0-9]+ checks")
endforeach()
keel_qemu_test(guest-vapic 240 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/vapic.elf --module ${CONFIGS}/vapic/config.dtb ${GUEST_CLEAN} ${VAPIC})

# Keel's emulated PC platform (docs/platform.md) from inside a domain that has all of it
# (UART, RTC, PCI with MSI-X/MSI/INTx upcalls, ACPI tables) and one that has none of it; the
# runner then switches Keel's serial input to 'pc' and types a line that its UART receives.
set(PCPLAT)
foreach(grp acpi uart uart-irq rtc pci msix intx typed)
    list(APPEND PCPLAT --expect-line "keeltest: pcplat-${grp}: SUCCESS [0-9]+ checks")
endforeach()
keel_qemu_test(guest-pcplat 240 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/pcplat.elf --module ${CONFIGS}/pcplat/config.dtb ${GUEST_CLEAN} ${PCPLAT}
    --send-after "pcplat: waiting for typed input" "\\x01\\x01\\x01"
    --send-after "console input: domain [0-9]+ 'pc'" "ping\\r"
    --expect-line "keeltest: pcplat-absent: SUCCESS [0-9]+ checks"
    --expect-line "\\[d[0-9]+ pc\\] pcplat: hello through the 16550"
    --expect-line "wall clock: 2[0-9]{3}-[0-9]{2}-[0-9]{2} [0-9:]{8} from the CMOS clock"
    --expect-line "KEEL-VERDICT: SUCCESS every domain ended and every page came back")

# Eight domains at once on two CPUs.
set(EIGHT)
foreach(i RANGE 1 8)
    list(APPEND EIGHT --expect-line
        "keeltest: hello: SUCCESS domain [0-9]+ 'hello${i}', 1 vCPU\\(s\\), slept [0-9]+ ms")
endforeach()
keel_qemu_test(guest-eight 240 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/hello.elf --module ${CONFIGS}/eight/config.dtb ${GUEST_CLEAN} ${EIGHT})

# A domain over 2 GiB gets [1 GiB, 2 GiB) as one 1 GiB nested leaf (Keel logs the leaf counts);
# inside, the guest releases 4 KiB and 2 MiB out of that GiB (two splits) and finds the rest intact.
keel_qemu_test(guest-bigmem 300 --smp 1 --mem 3G ${GUEST_BOOT}
    --module ${GUESTS}/bigmem.elf --module ${CONFIGS}/bigmem/config.dtb ${GUEST_CLEAN}
    --expect-line "domain [0-9]+ 'bigmem': 2052 MiB of RAM in 1 x 1 GiB, [0-9]+ x 2 MiB, [0-9]+ x 4 KiB pages"
    --expect-line "keeltest: bigmem-1g: SUCCESS [0-9]+ checks")

# The pvdrivers reference port (guest-support/reference) on both ends of a device: each domain
# starts pvdrivers, checks its shim, opens the device with the echo test class, exchanges 1000
# checked requests, closes, stops pvdrivers with nothing leaked; then all of it again (round 2,
# groups ending in -2), and powers off.
set(REFERENCE)
foreach(role front back)
    list(APPEND REFERENCE --expect-line "keeltest: reference-shim-${role}: SUCCESS [0-9]+ checks")
    foreach(grp start io stop)
        foreach(round "" "-2")
            list(APPEND REFERENCE
                --expect-line "keeltest: reference-${grp}-${role}${round}: SUCCESS [0-9]+ checks")
        endforeach()
    endforeach()
endforeach()
keel_qemu_test(reference-smoke 240 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/reference.elf --module ${CONFIGS}/reference/config.dtb ${GUEST_CLEAN}
    --reject-line "(error|warning): kpv: " ${REFERENCE}
    --expect-line "KEEL-VERDICT: SUCCESS every domain ended and every page came back")

# The PV console on the reference port (tests/configs/ref-console.dts): two frontends write lines
# and a 4320-byte burst (more than the frontend's 4 KiB FIFO) through their PV consoles; the
# backend prints each line on its hypervisor console behind "[d<frontend> <label>] ", so they
# reach Keel's serial console; it sends each frontend a line, which comes back (an echo).
set(REF_CONSOLE)
foreach(role conback confront)
    list(APPEND REF_CONSOLE
        --expect-line "keeltest: reference-console-${role}: SUCCESS [0-9]+ checks")
endforeach()
foreach(fe 1 2)
    set(via "^\\[d[0-9]+ con-back\\] \\[d[0-9]+ con${fe}\\] ")
    list(APPEND REF_CONSOLE
        --expect-line "${via}hello from domain [0-9]+ over the PV console$"
        --expect-line "${via}terminal 100x40$"
        --expect-line "${via}burst 60/60 [a-z]+$"
        --expect-line "${via}burst done: 60 lines, 4320 bytes, [0-9]+ waits for room$"
        --expect-line "${via}ping d[0-9]+$"
        --expect-line "${via}bye$"
        --expect-line "\\[d[0-9]+ con-front${fe}\\] keeltest: reference-console-confront: SUCCESS")
endforeach()
keel_qemu_test(reference-console 240 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/reference.elf --module ${CONFIGS}/ref-console/config.dtb ${GUEST_CLEAN}
    --reject-line "(error|warning): kpv: " --reject-line "bytes suppressed" ${REF_CONSOLE}
    --expect-line "KEEL-VERDICT: SUCCESS every domain ended and every page came back")

# The PV block device on the reference port (tests/configs/ref-block.dts): a RAM disk served to a
# frontend that zeroes it, writes patterns at several sizes (direct, indirect, FUA, 32 at once on
# two queues), flushes, reads all back and checks it, and tries discard, write-zeroes and a request
# beyond the end; two rounds in each domain.
set(REF_BLOCK)
foreach(role blkback blkfront)
    foreach(round "" "-2")
        list(APPEND REF_BLOCK
            --expect-line "keeltest: reference-block-${role}${round}: SUCCESS [0-9]+ checks"
            --expect-line "keeltest: reference-stop-${role}${round}: SUCCESS [0-9]+ checks")
    endforeach()
endforeach()
keel_qemu_test(reference-block 240 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/reference.elf --module ${CONFIGS}/ref-block/config.dtb ${GUEST_CLEAN}
    --reject-line "(error|warning): kpv: " ${REF_BLOCK}
    --expect-line "KEEL-VERDICT: SUCCESS every domain ended and every page came back")

# The PV network on the reference port (tests/configs/ref-net.dts): a switch domain serves a net
# device to each of two frontends, a netback each joined by the learning switch; ping finds pong by
# broadcast, then 300 frames of 60..1514 bytes in 1..4 fragments go each way, every one checked.
set(REF_NET)
foreach(role netsw netping netpong)
    list(APPEND REF_NET
        --expect-line "keeltest: reference-net-${role}: SUCCESS [0-9]+ checks"
        --expect-line "keeltest: reference-stop-${role}: SUCCESS [0-9]+ checks")
endforeach()
keel_qemu_test(reference-net 240 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/reference.elf --module ${CONFIGS}/ref-net/config.dtb ${GUEST_CLEAN}
    --reject-line "(error|warning): kpv" ${REF_NET}
    --expect-line "KEEL-VERDICT: SUCCESS every domain ended and every page came back")

# A control domain builds a domain with the control calls (create, populate, load, set the
# context), sees it run, pauses it and reads its live registers, lets it power off, destroys it
# and finds every page back; then the errors of those calls.
keel_qemu_test(guest-ctlbuild 240 --smp 2 ${GUEST_BOOT}
    --module ${GUESTS}/ctlbuild.elf --module ${CONFIGS}/ctlbuild/config.dtb ${GUEST_CLEAN}
    --expect-line "\\[d[0-9]+ ctl-child\\] keeltest-child: hello from a domain built by a control domain"
    --expect-line "keeltest: ctl-build: SUCCESS [0-9]+ checks"
    --expect-line "keeltest: ctl-errors: SUCCESS [0-9]+ checks"
    --expect-line "KEEL-VERDICT: SUCCESS every domain ended and every page came back")
