# SPDX-License-Identifier: MIT
# tests/integration/linux.cmake - Debian's stock Linux kernel (linux-image-amd64)
# as a Keel guest: through PVH (Keel extracts the vmlinux) and through the
# 64-bit boot protocol, with 1 and 2 vCPUs, an interactive console, ACPI power
# off; and the inputs Keel must refuse or survive (tests/linux/bad.dts).
#
# Included by tests/integration/CMakeLists.txt after keel_qemu_test() and ELF
# are defined. The kernel and busybox-static are downloaded (apt-get
# download, never installed) by tests/linux/fetch-assets.sh; the initramfs is
# built by tests/linux/make-initramfs.sh. Each boot under TCG takes a while:
# the timeouts are generous, the runs few.
set(LINUX_SRC ${CMAKE_SOURCE_DIR}/tests/linux)
set(LINUX_DIR ${CMAKE_BINARY_DIR}/linux)
set(VMLINUZ ${LINUX_DIR}/vmlinuz)
set(INITRD ${LINUX_DIR}/initrd.img)

add_custom_command(OUTPUT ${VMLINUZ} ${LINUX_DIR}/busybox
    COMMAND sh ${LINUX_SRC}/fetch-assets.sh ${LINUX_DIR}
    DEPENDS ${LINUX_SRC}/fetch-assets.sh
    COMMENT "Fetching Debian's stock kernel and busybox-static (tests/linux)")
add_custom_command(OUTPUT ${INITRD} ${LINUX_DIR}/initrd-truncated.img
    COMMAND sh ${LINUX_SRC}/make-initramfs.sh ${LINUX_DIR}/busybox ${LINUX_SRC}/init ${LINUX_DIR}
    DEPENDS ${LINUX_DIR}/busybox ${LINUX_SRC}/init ${LINUX_SRC}/make-initramfs.sh
    COMMENT "Building the Linux tests' initramfs")
foreach(cfg pvh bzimage bad reboot)
    set(out ${LINUX_DIR}/${cfg}/config.dtb)
    add_custom_command(OUTPUT ${out}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${LINUX_DIR}/${cfg}
        COMMAND ${DTC} -q -I dts -O dtb -o ${out} ${LINUX_SRC}/${cfg}.dts
        DEPENDS ${LINUX_SRC}/${cfg}.dts
        COMMENT "Compiling tests/linux/${cfg}.dts")
    list(APPEND LINUX_CONFIGS ${out})
endforeach()
add_custom_target(linux_assets ALL DEPENDS ${VMLINUZ} ${INITRD} ${LINUX_CONFIGS})

set(LINUX_BOOT --kernel ${ELF} --append "qemu_exit=1 probe_guest=none"
    --module ${VMLINUZ} --module ${INITRD})
set(LINUX_CLEAN
    --reject-line "KEEL PANIC"
    --reject-line "Kernel panic"
    --reject-line "domain [0-9]+ '[^']+' crashed"
    --reject-line "keel-linux: still running")
set(LINUX_RAN
    --expect-line "keel-linux: initramfs up"
    --expect-line "keel-linux: sleep ok"
    --expect-line "keel-linux: powering off"
    --expect-line "domain [0-9]+ 'linux' powered off"
    --expect-line "KEEL-VERDICT: SUCCESS every domain ended and every page came back")

# PVH, 1 vCPU: a line typed on the serial console (after Ctrl-A three times
# gives the domain the input) is run by the guest's shell.
keel_qemu_test(linux-pvh 400 --smp 1 ${LINUX_BOOT} --module ${LINUX_DIR}/pvh/config.dtb
    ${LINUX_CLEAN} ${LINUX_RAN}
    --expect-line "domain 'linux': kernel 'vmlinuz': vmlinux extracted \\(xz, [0-9]+ KiB\\)"
    --expect-line "Linux kernel 'vmlinuz' \\(PVH entry\\)"
    --expect-line "keel-linux: cpus 1$"
    --send-after "boot complete" "\\x01\\x01\\x01"
    --send-after "keel-linux: type a command" "echo CONSOLE-$((6*7))-OK\\r"
    --expect-line "CONSOLE-42-OK")

# The 64-bit boot protocol on the bzImage, 2 vCPUs (the second started by
# INIT/SIPI through the emulated local APIC).
keel_qemu_test(linux-bzimage-smp2 500 --smp 2 ${LINUX_BOOT}
    --module ${LINUX_DIR}/bzimage/config.dtb
    ${LINUX_CLEAN} ${LINUX_RAN}
    --expect-line "Linux kernel 'vmlinuz' \\(64-bit boot protocol\\)"
    --expect-line "keel-linux: cpus 2$")

# `reboot -f` writes the FADT's reset register: the domain asks to reboot, and
# Keel (on-reboot "restart", the default) destroys it and builds it again in
# its restart worker, extracting the vmlinux anew; the new domain's command
# line carries keel_restart=1, so its init powers off (tests/linux/reboot.dts).
keel_qemu_test(linux-reboot 500 --smp 2 ${LINUX_BOOT} --module ${LINUX_DIR}/reboot/config.dtb
    ${LINUX_CLEAN} ${LINUX_RAN}
    --reject-line "triple fault"
    --reject-line "restart limit reached"
    --expect-line "keel-linux: rebooting"
    --expect-line "reboot: Restarting system"
    --expect-line "domain [0-9]+ 'linux' asked to reboot \\(reset register\\)"
    --expect-line "domain [0-9]+ 'linux': restarting it \\(on-reboot = .restart.. restart 1\\)"
    --expect-line "domain [0-9]+ 'linux': last reference gone, memory released"
    --expect-line "domain [0-9]+ 'linux': command line: .*keeltest=reboot keel_restart=1 tsc_early_khz="
    --expect-line "domain 'linux' restarted \\(1\\): now domain [0-9]+"
    --expect-line "keel-linux: restarted 1$")

# Refused and broken inputs; Keel and the other domain carry on.
set(HELLO_ELF ${CMAKE_BINARY_DIR}/tests/hello.elf)
keel_qemu_test(linux-bad 400 --smp 1 --kernel ${ELF} --append "qemu_exit=1 probe_guest=none"
    --module ${VMLINUZ} --module ${INITRD} --module ${LINUX_DIR}/initrd-truncated.img
    --module ${HELLO_ELF} --module ${LINUX_DIR}/bad/config.dtb
    --reject-line "KEEL PANIC"
    --expect-line "domain 'notkernel': kernel 'initrd.img': not a Keel, PVH or Linux bzImage kernel \\(neither ELF magic nor a Linux boot header\\). not started"
    --expect-line "domain 'small': kernel 'vmlinuz': too little memory: .*the domain has 48 MiB\\). not started"
    --expect-line "Initramfs unpacking failed"
    --expect-line "domain [0-9]+ 'truncated' (crashed|asked to reboot)"
    --expect-line "keeltest: hello: SUCCESS"
    --expect-line "KEEL-VERDICT: SUCCESS every domain ended and every page came back")
