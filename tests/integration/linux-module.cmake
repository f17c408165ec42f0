# SPDX-License-Identifier: MIT
# tests/integration/linux-module.cmake - the Linux guest package (keel.ko from
# guest-support/linux) running on Keel: Debian's stock kernel with an
# initramfs holding the module, beside the reference port's backends
# (role=serve). reboot: the module binds by modalias, hvc0 carries output and
# a typed command, a PV disk is partitioned, formatted ext4, written and
# synced, the guest (2 vCPUs) reboots and Keel restarts it, the data is
# verified, and the module unloaded and reloaded with the disk live. net: three guests ping each other
# and move 64 MiB with checksums through the switch, which offers checksum
# offload: two accept it (used both ways), one declines it (keel.net_csum=0)
# and gets its checksums completed by the backend. lost: the backend crashes
# mid-write; the guest gets I/O errors, never a hang.
#
# Included by tests/integration/CMakeLists.txt after linux.cmake (LINUX_DIR,
# its busybox and kernel fetch) and keel_qemu_test().
set(LMOD_SRC ${CMAKE_SOURCE_DIR}/tests/linux/module)
set(LMOD_DIR ${CMAKE_BINARY_DIR}/linux-module)
set(LMOD_KO ${CMAKE_BINARY_DIR}/guest-support/linux/module/keel.ko)
set(LMOD_SCRIPT ${CMAKE_SOURCE_DIR}/guest-support/linux/tests/guest/keel-test.sh)
# The guest kernel is the one whose headers keel.ko is built against.
if(NOT KEEL_LINUX_KVER)
    file(GLOB lmod_kdirs LIST_DIRECTORIES true /lib/modules/*-amd64/build)
    list(SORT lmod_kdirs COMPARE NATURAL ORDER DESCENDING)
    list(GET lmod_kdirs 0 lmod_kdir)
    get_filename_component(lmod_kdir ${lmod_kdir} DIRECTORY)
    get_filename_component(LMOD_KVER ${lmod_kdir} NAME)
else()
    set(LMOD_KVER ${KEEL_LINUX_KVER})
endif()

add_custom_command(OUTPUT ${LMOD_DIR}/vmlinuz ${LMOD_DIR}/initrd.img
    COMMAND sh ${LMOD_SRC}/make-initramfs.sh ${LMOD_KVER} ${LINUX_DIR}/busybox ${LMOD_KO}
            ${LMOD_SCRIPT} ${LMOD_SRC}/init ${LMOD_DIR}
    DEPENDS ${LMOD_KO} ${LINUX_DIR}/busybox ${LMOD_SCRIPT} ${LMOD_SRC}/init
            ${LMOD_SRC}/make-initramfs.sh
    COMMENT "Building the Linux module tests' kernel and initramfs")
foreach(cfg reboot net lost)
    set(out ${LMOD_DIR}/${cfg}/config.dtb)
    add_custom_command(OUTPUT ${out}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${LMOD_DIR}/${cfg}
        COMMAND ${DTC} -q -I dts -O dtb -o ${out} ${LMOD_SRC}/${cfg}.dts
        DEPENDS ${LMOD_SRC}/${cfg}.dts
        COMMENT "Compiling tests/linux/module/${cfg}.dts")
    list(APPEND LMOD_CONFIGS ${out})
endforeach()
add_custom_target(linux_module_assets ALL
    DEPENDS ${LMOD_DIR}/vmlinuz ${LMOD_DIR}/initrd.img ${LMOD_CONFIGS})
add_dependencies(linux_module_assets keel-linux-module linux_assets)

set(LMOD_BOOT --kernel ${ELF} --append "qemu_exit=1 probe_guest=none"
    --module ${CMAKE_BINARY_DIR}/tests/reference.elf
    --module ${LMOD_DIR}/vmlinuz --module ${LMOD_DIR}/initrd.img)

# Console, disk write, a real reboot (Keel restarts the domain: on-reboot
# "restart"), verify, unload/reload; 2 vCPUs (tests/linux/module/reboot.dts).
keel_qemu_test(linux-module-reboot 600 --smp 2 ${LMOD_BOOT}
    --module ${LMOD_DIR}/reboot/config.dtb
    --reject-line "KEEL PANIC"
    --reject-line "Kernel panic"
    --reject-line "BUG:|Oops|WARNING: CPU|Call Trace"
    --reject-line "keel-linux: still running"
    --reject-line "domain [0-9]+ '[^']+' crashed"
    --expect-line "\\[d[0-9]+ linux\\] keel-linux: initramfs up .* cpus 2"
    --expect-line "\\[d[0-9]+ linux\\] keeltest: linux-load: SUCCESS modprobe bound 0000:00:01.0 \\(pci:v00004B45d00000001"
    --expect-line "\\[d[0-9]+ serve\\] \\[d[0-9]+ con0\\] keel-hvc0-marker"
    --expect-line "keeltest: linux-console: SUCCESS"
    --send-after "serve: .*serving" "\\x01\\x01\\x01"
    --send-after "keeltest: linux-console-shell: SUCCESS" "echo SHELL-\$((6*7))-OK\\r"
    --expect-line "\\[d[0-9]+ serve\\] \\[d[0-9]+ con0\\] SHELL-42-OK"
    --expect-line "\\[d[0-9]+ linux\\] keeltest: linux-block-write: SUCCESS .*, persistent grants"
    --expect-line "domain 'linux' restarted \\(1\\): now domain [0-9]+"
    --expect-line "\\[d[0-9]+ linux\\] keel-linux: restarted by Keel \\(1\\)"
    --expect-line "\\[d[0-9]+ linux\\] keeltest: linux-block-verify: SUCCESS"
    --expect-line "\\[d[0-9]+ linux\\] keeltest: linux-reload: SUCCESS devices back: kvda"
    --expect-line "domain [0-9]+ 'linux' powered off")

# Three guests over PV net through the switch (checksum offload offered):
# ping, 64 MiB with checksums from right to left (both accept the offload:
# CHECKSUM_PARTIAL sent and received, counted in sysfs) and from right to
# plain (declines it: the backend completes the checksums, counted in its
# report at power-off).
keel_qemu_test(linux-module-net 900 --smp 2 ${LMOD_BOOT} --module ${LMOD_DIR}/net/config.dtb
    --reject-line "KEEL PANIC"
    --reject-line "Kernel panic"
    --reject-line "BUG:|Oops|WARNING: CPU|Call Trace"
    --reject-line "keel-linux: still running"
    --reject-line "domain [0-9]+ '[^']+' crashed"
    --reject-line "serve: net .* malformed [1-9]"
    --expect-line "\\[d[0-9]+ left\\] keeltest: linux-load: SUCCESS"
    --expect-line "\\[d[0-9]+ right\\] keeltest: linux-load: SUCCESS"
    --expect-line "\\[d[0-9]+ plain\\] keeltest: linux-load: SUCCESS"
    --expect-line "\\[d[0-9]+ left\\] keeltest: linux-net-up: SUCCESS"
    --expect-line "\\[d[0-9]+ right\\] keeltest: linux-net-up: SUCCESS"
    --expect-line "\\[d[0-9]+ plain\\] keeltest: linux-net-up: SUCCESS"
    --expect-line "\\[d[0-9]+ right\\] keeltest: linux-net-send: SUCCESS 64 MiB sent to 10.0.0.1"
    --expect-line "\\[d[0-9]+ left\\] keeltest: linux-net-recv: SUCCESS 64 MiB"
    --expect-line "\\[d[0-9]+ left\\] keeltest: linux-net-offload: SUCCESS on"
    --expect-line "\\[d[0-9]+ right\\] keeltest: linux-net-send: SUCCESS 64 MiB sent to 10.0.0.3"
    --expect-line "\\[d[0-9]+ plain\\] keeltest: linux-net-recv: SUCCESS 64 MiB"
    --expect-line "\\[d[0-9]+ plain\\] keeltest: linux-net-offload: SUCCESS off"
    --expect-line "\\[d[0-9]+ right\\] keeltest: linux-net-offload: SUCCESS on"
    --expect-line "domain [0-9]+ 'left' powered off"
    --expect-line "domain [0-9]+ 'right' powered off"
    --expect-line "domain [0-9]+ 'plain' powered off"
    --expect-line "serve: net eth0 of d[0-9]+: tx [0-9]+ rx [0-9]+ dropped [0-9]+/[0-9]+ csum-completed [1-9][0-9]* malformed 0")

# The backend crashes mid-write: I/O errors, no hang.
keel_qemu_test(linux-module-lost 400 --smp 2 ${LMOD_BOOT} --module ${LMOD_DIR}/lost/config.dtb
    --reject-line "KEEL PANIC"
    --reject-line "Kernel panic"
    --reject-line "BUG:|Oops|WARNING: CPU|Call Trace"
    --reject-line "keel-linux: still running"
    --expect-line "\\[d[0-9]+ serve\\] serve: [0-9]+ MiB written: crashing on purpose"
    --expect-line "domain [0-9]+ 'serve' crashed"
    --expect-line "keel: kvda: backend gone for more than 10 s: failing I/O"
    --expect-line "\\[d[0-9]+ victim\\] keeltest: linux-block-lost: SUCCESS dd failed"
    --expect-line "domain [0-9]+ 'victim' powered off")
