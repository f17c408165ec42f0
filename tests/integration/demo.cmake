# SPDX-License-Identifier: MIT
# tests/integration/demo.cmake - build/keel.iso, what `./keel demo` boots and
# docs/admin-guide.md installs: GRUB loads Keel, the probe guest, Debian's
# stock kernel and the initramfs of the control domain 'ctl'
# (tests/linux/demo, its tools from the keel-tools .deb) and the boot
# configuration tests/configs/demo-linux.dts,
# which gives ctl the serial input from the start. ctl loads keel.ko, makes
# br0, starts keel-backendd, creates the guest of tests/linux/demo/guest.cfg
# (Debian's kernel, a raw disk file, a vif) and leaves a root shell on the
# serial console.
#
# qemu-demo boots exactly that ISO through GRUB and types, as an operator
# would, the control-domain commands of docs/admin-guide.md: keelctl list,
# keelctl console guest (the guest formatted its disk: boot 1), reboot in the
# guest (its monitor builds it again, on_reboot = "restart": boot 2, the
# disk kept), poweroff in the guest (on_poweroff = "destroy"), keelctl
# create and destroy, create again and poweroff of ctl, which ends that
# guest first (demo-stop); Keel then finds every page back.
# tests/linux/demo/check-guide.sh checks that the guide's commands are these.
#
# Included by tests/integration/CMakeLists.txt after ctl-io.cmake (LMOD_KO,
# LMOD_KVER, LMOD_DIR's kernel, LINUX_DIR's busybox, CTLIO_DIR's kernel .deb).
include(${CMAKE_SOURCE_DIR}/tools/packaging/keel-tools.cmake)	# KEEL_TOOLS_DEB
set(DEMO_SRC ${CMAKE_SOURCE_DIR}/tests/linux/demo)
set(DEMO_DIR ${CMAKE_BINARY_DIR}/linux-demo)
set(DEMO_ISO ${CMAKE_BINARY_DIR}/keel.iso)

# The guest: the module tests' kernel and initramfs maker, with the demo's /init.
add_custom_command(OUTPUT ${DEMO_DIR}/guest/vmlinuz ${DEMO_DIR}/guest/initrd.img
    COMMAND ${CMAKE_COMMAND} -E make_directory ${DEMO_DIR}/guest
    COMMAND sh ${LMOD_SRC}/make-initramfs.sh ${LMOD_KVER} ${LINUX_DIR}/busybox ${LMOD_KO}
            ${LMOD_SCRIPT} ${DEMO_SRC}/guest-init ${DEMO_DIR}/guest
    DEPENDS ${LMOD_KO} ${LINUX_DIR}/busybox ${DEMO_SRC}/guest-init ${LMOD_SRC}/make-initramfs.sh
    COMMENT "Building the demo guest's kernel and initramfs")
add_custom_command(OUTPUT ${DEMO_DIR}/initrd.img
    COMMAND sh ${DEMO_SRC}/make-initramfs.sh ${LINUX_DIR}/busybox ${LMOD_KO} ${KEEL_TOOLS_DEB}
            ${DEMO_DIR}/guest/vmlinuz ${DEMO_DIR}/guest/initrd.img ${DEMO_SRC}
            ${DEMO_DIR}/guest/debs ${LMOD_KVER} ${DEMO_DIR}/initrd.img
    DEPENDS ${LMOD_KO} ${LINUX_DIR}/busybox ${KEEL_TOOLS_DEB}
            ${DEMO_DIR}/guest/vmlinuz ${DEMO_DIR}/guest/initrd.img
            ${DEMO_SRC}/make-initramfs.sh ${DEMO_SRC}/inittab ${DEMO_SRC}/profile
            ${DEMO_SRC}/demo-start ${DEMO_SRC}/demo-stop ${DEMO_SRC}/guest.cfg
    COMMENT "Building the demo's control domain initramfs")
add_custom_command(OUTPUT ${DEMO_DIR}/config.dtb
    COMMAND ${CMAKE_COMMAND} -E make_directory ${DEMO_DIR}
    COMMAND ${DTC} -q -I dts -O dtb -o ${DEMO_DIR}/config.dtb
            ${CMAKE_SOURCE_DIR}/tests/configs/demo-linux.dts
    DEPENDS ${CMAKE_SOURCE_DIR}/tests/configs/demo-linux.dts
    COMMENT "Compiling tests/configs/demo-linux.dts")
# Files under /boot/keel and the menu entry's title as docs/admin-guide.md has them.
add_custom_command(OUTPUT ${DEMO_ISO}
    COMMAND ${CMAKE_COMMAND} -E env KEEL_ISO_DIR=/boot/keel
            "KEEL_ISO_TITLE=Keel with its Linux control domain"
            sh ${CMAKE_SOURCE_DIR}/scripts/make-iso.sh ${DEMO_ISO} ${ELF} ${PROBE}
            ${LMOD_DIR}/vmlinuz ${DEMO_DIR}/initrd.img ${DEMO_DIR}/config.dtb
    DEPENDS hypervisor test_guests ${ELF} ${PROBE} ${LMOD_DIR}/vmlinuz ${DEMO_DIR}/initrd.img
            ${DEMO_DIR}/config.dtb ${CMAKE_SOURCE_DIR}/scripts/make-iso.sh
    COMMENT "Building build/keel.iso (the demo: Keel and its Linux control domain)")
add_custom_target(demo_iso ALL DEPENDS ${DEMO_ISO})
# keel-tools-deb owns the .deb rule: depend on the target, or make -j runs the rule twice at once.
add_dependencies(demo_iso linux_module_assets keel-linux-module keel-tools-deb)

# What the operator types, each once the line before it has appeared (the
# guide's commands; Ctrl-] is sent on its own, as keelctl console discards
# the rest of the read that detached it; the loop only waits for the new guest's console socket:
# no ';' here, CMake would split the argument there).
set(CTL_PROMPT "root@ctl:[^ ]*# ")	# /etc/profile: PS1
keel_qemu_test(demo 600 --smp 2 --iso ${DEMO_ISO}
    --send-after "${CTL_PROMPT}" "keelctl list\\r"
    --send-after "guest +[0-9]+ +192 +1 " "keelctl console guest\\r"
    --send-after "keel-demo-guest: ready: .*\\(boot 1\\)" "\\x1d"
    --send-after "${CTL_PROMPT}" "keelctl reboot guest\\r"
    --send-after "domain [0-9]+ 'guest' created" "while ! [ -S /run/keel/guest/console.sock ]\\rdo sleep 1\\rdone\\rkeelctl console guest\\r"
    --send-after "keel-demo-guest: ready: .*\\(boot 2\\)" "\\x1d"
    --send-after "${CTL_PROMPT}" "keelctl shutdown -w guest\\r"
    --send-after "domain [0-9]+ 'guest' destroyed" "keelctl list\\r"
    --send-after "${CTL_PROMPT}" "keelctl create /etc/keel/guest.cfg\\r"
    --send-after "domain [0-9]+ 'guest' created" "keelctl destroy guest\\r"
    --send-after "domain [0-9]+ 'guest' destroyed" "keelctl list\\rkeelctl info\\r"
    --send-after "free_pages +: [0-9]+" "keelctl create /etc/keel/guest.cfg\\r"
    --send-after "domain [0-9]+ 'guest' created" "poweroff\\r"
    --reject-line "KEEL PANIC"
    --reject-line "Kernel panic"
    --reject-line "BUG:|Oops|WARNING: CPU|Call Trace"
    --reject-line "domain [0-9]+ '[^']+' crashed"
    --reject-line "keel-demo: (insmod|no /dev/keel)"
    --expect-line "loaded by GRUB"
    --expect-line "^\\[keel\\] console input: domain [0-9]+ 'ctl' \\(press Ctrl-A three times to switch\\)$"
    --expect-line "keel-demo: keel\\.ko loaded: "
    --expect-line "keel-demo: bridge br0 is up"
    --expect-line "created domain guest"
    --expect-line "ctl +[0-9]+ +512 +2 r"
    --expect-line "keel-demo: You are root on 'ctl'"
    --expect-line "keel-demo-guest: ready: disk /dev/kvda on /mnt \\(boot 1\\), keth0 10\\.0\\.0\\.2 pings ctl"
    --expect-line "keel-demo-guest: ready: disk /dev/kvda on /mnt \\(boot 2\\), keth0 10\\.0\\.0\\.2 pings ctl"
    --expect-line "domain [0-9]+ 'guest' asked to reboot"
    --expect-line "domain [0-9]+ 'guest' powered off"
    --expect-line "keel-demo: stopping guest guest"
    --expect-line "domain [0-9]+ 'ctl' powered off"
    --expect-line "all domains have ended")

# Every command of docs/admin-guide.md is run by a test, its GRUB entry is
# build/keel.iso's, its configurations are the demo's.
add_test(NAME demo-guide COMMAND sh ${DEMO_SRC}/check-guide.sh
    ${CMAKE_SOURCE_DIR}/docs/admin-guide.md ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR} ${DEMO_ISO})

# The guide's "sh grub" block for real: update-grub over the guide's install
# (in a private mount namespace, so the machine's /boot is untouched), then a
# boot of the menu it wrote. Needs root, as ./keel test runs.
add_test(NAME qemu-guide-grub COMMAND sh ${DEMO_SRC}/guide-grub.sh
    ${CMAKE_SOURCE_DIR}/docs/admin-guide.md ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}
    ${RUNNER} ${LOGS})
set_tests_properties(qemu-guide-grub PROPERTIES LABELS qemu TIMEOUT 480)
