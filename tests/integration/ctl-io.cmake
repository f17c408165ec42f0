# SPDX-License-Identifier: MIT
# tests/integration/ctl-io.cmake - the userspace backends end to end: Debian's
# stock kernel as control domain 'ctl', which is also the backend domain of
# what it creates, runs keel-backendd (tools/backends) and creates with
# keelctl a Debian Linux guest and a reference-port guest (role=ping), each
# watched by a keelctl monitor (tests/linux/ctl-io): the guest's disk is a
# raw file in ctl and survives the guest's own reboot (its monitor builds it
# again, on_reboot = "restart"), keel-backendd is restarted while the guest
# runs, the guest, ctl and the reference guest ping each other over the
# bridge, `keelctl console` shows both guests' consoles, the guest's
# poweroff makes its monitor destroy it, `keelctl destroy` stops the
# reference guest's monitor and destroys it, and no backend state, monitor
# or memory is left. The result lines are matched
# as 'serve' prints them from ctl's hvc0 (whole lines); the guest's own lines
# come through keel-backendd --echo-consoles, prefixed by its PV console's
# domain and label.
#
# Included by tests/integration/CMakeLists.txt after ctl-linux.cmake (LMOD_KO,
# LMOD_KVER, LINUX_DIR's busybox, the module tests' make-initramfs.sh).
set(CTLIO_SRC ${CMAKE_SOURCE_DIR}/tests/linux/ctl-io)
set(CTLIO_DIR ${CMAKE_BINARY_DIR}/linux-ctl-io)

# The guest: the module tests' kernel and initramfs maker, with our /init.
add_custom_command(OUTPUT ${CTLIO_DIR}/guest/vmlinuz ${CTLIO_DIR}/guest/initrd.img
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CTLIO_DIR}/guest
    COMMAND sh ${LMOD_SRC}/make-initramfs.sh ${LMOD_KVER} ${LINUX_DIR}/busybox ${LMOD_KO}
            ${LMOD_SCRIPT} ${CTLIO_SRC}/guest-init ${CTLIO_DIR}/guest
    DEPENDS ${LMOD_KO} ${LINUX_DIR}/busybox ${CTLIO_SRC}/guest-init ${LMOD_SRC}/make-initramfs.sh
    COMMENT "Building the backend test's guest kernel and initramfs")
add_custom_command(OUTPUT ${CTLIO_DIR}/initrd.img
    COMMAND sh ${CTLIO_SRC}/make-initramfs.sh ${LINUX_DIR}/busybox ${LMOD_KO}
            $<TARGET_FILE:keelctl-static> $<TARGET_FILE:keel-backendd-static>
            ${CTLIO_DIR}/guest/vmlinuz ${CTLIO_DIR}/guest/initrd.img ${CTLIO_SRC}
            ${CTLIO_DIR}/guest/debs ${LMOD_KVER} ${CTLIO_DIR}/initrd.img
            ${CMAKE_BINARY_DIR}/tests/reference.elf
    DEPENDS ${LMOD_KO} ${LINUX_DIR}/busybox keelctl-static keel-backendd-static test_guests
            ${CMAKE_BINARY_DIR}/tests/reference.elf
            ${CTLIO_DIR}/guest/vmlinuz ${CTLIO_DIR}/guest/initrd.img
            ${CTLIO_SRC}/init ${CTLIO_SRC}/guest.cfg ${CTLIO_SRC}/guest64.cfg ${CTLIO_SRC}/ref.cfg
            ${CTLIO_SRC}/make-initramfs.sh
    COMMENT "Building the backend test's control domain initramfs")
add_custom_command(OUTPUT ${CTLIO_DIR}/config.dtb
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CTLIO_DIR}
    COMMAND ${DTC} -q -I dts -O dtb -o ${CTLIO_DIR}/config.dtb ${CTLIO_SRC}/ctl-io.dts
    DEPENDS ${CTLIO_SRC}/ctl-io.dts
    COMMENT "Compiling tests/linux/ctl-io/ctl-io.dts")
add_custom_target(linux_ctl_io_assets ALL DEPENDS ${CTLIO_DIR}/initrd.img ${CTLIO_DIR}/config.dtb)
add_dependencies(linux_ctl_io_assets linux_module_assets keel-linux-module)

set(CTLIO_LINE "\\[d[0-9]+ con0\\] keeltest: ctl-io")
set(CTLIO_GUEST "\\[d[0-9]+ con0\\] \\[d[0-9]+ console\\] keeltest: io")
keel_qemu_test(ctl-io 600 --smp 2 --kernel ${ELF} --append "qemu_exit=1 probe_guest=none"
    --module ${CMAKE_BINARY_DIR}/tests/reference.elf
    --module ${LMOD_DIR}/vmlinuz --module ${CTLIO_DIR}/initrd.img --module ${CTLIO_DIR}/config.dtb
    --reject-line "KEEL PANIC"
    --reject-line "Kernel panic"
    --reject-line "BUG:|Oops|WARNING: CPU|Call Trace"
    --reject-line "keel-ctl-io: still running|keel-io-guest: still running"
    --reject-line "domain [0-9]+ '[^']+' crashed"
    --reject-line "keeltest: (ctl-)?io-[a-z-]+: FAILURE"
    --expect-line "${CTLIO_LINE}-load: SUCCESS"
    --expect-line "${CTLIO_LINE}-bridge: SUCCESS"
    --reject-line "keelctl monitor [a-z]+: .*(failed|cannot)"
    --expect-line "${CTLIO_LINE}-create: SUCCESS created domain guest"
    --expect-line "${CTLIO_LINE}-ref-create: SUCCESS created domain ref"
    --expect-line "\\[d[0-9]+ ref\\] keel-ref-ping: up: MAC 02:16:3e:00:00:03, IPv4 10.0.0.3"
    --expect-line "${CTLIO_GUEST}-write: SUCCESS"
    --expect-line "${CTLIO_LINE}-reboot: SUCCESS"
    --expect-line "${CTLIO_LINE}-daemon-restart: SUCCESS"
    --expect-line "${CTLIO_GUEST}-console-input: SUCCESS"
    --expect-line "${CTLIO_GUEST}-verify: SUCCESS"
    --expect-line "${CTLIO_GUEST}-ping: SUCCESS"
    --expect-line "${CTLIO_GUEST}-ping-ref: SUCCESS"
    --expect-line "${CTLIO_LINE}-ping: SUCCESS"
    --expect-line "${CTLIO_LINE}-console: SUCCESS"
    --expect-line "${CTLIO_LINE}-poweroff: SUCCESS"
    --expect-line "${CTLIO_LINE}-destroy: SUCCESS"
    --expect-line "${CTLIO_LINE}-daemon-survives: SUCCESS"
    --expect-line "${CTLIO_LINE}-memory: SUCCESS"
    --expect-line "${CTLIO_LINE}-linux64: SUCCESS"
    --expect-line "${CTLIO_LINE}-daemon-kill: SUCCESS"
    --expect-line "${CTLIO_LINE}-blockdev: SUCCESS"
    --expect-line "domain [0-9]+ 'ctl' powered off"
    --expect-line "KEEL-VERDICT: SUCCESS")
