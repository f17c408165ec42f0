# SPDX-License-Identifier: MIT
# tests/integration/ctl-linux.cmake - the first end-to-end use of keelctl
# from a Linux control domain: Debian's stock kernel boots on Keel as 'ctl'
# (capabilities control, create, console, log) beside the reference port's
# backend domain; its initramfs (tests/linux/ctl) holds keel.ko, the static
# keelctl, privtest and xl-style configurations. Inside it: the privileged
# driver's API (privcmd, evtchn, grant-map refusals), keelctl info, list
# --json, config errors and a Keel refusal that leave no domain, create of a
# Keel-native guest, pause/unpause, its console, destroy with every page
# back, dmesg, and a caller without the right refused. The result lines are
# matched as the backend domain prints them from ctl's hvc0 (whole lines;
# ctl's serial lines may be cut, tests/linux/ctl/init says why).
#
# Included by tests/integration/CMakeLists.txt after linux-module.cmake
# (LMOD_DIR's kernel, the one keel.ko is built for; LINUX_DIR's busybox).
set(CTL_SRC ${CMAKE_SOURCE_DIR}/tests/linux/ctl)
set(CTL_DIR ${CMAKE_BINARY_DIR}/linux-ctl)

# privtest: static, no sanitizers (it runs in the initramfs as it is).
add_executable(keel-privtest ${CTL_SRC}/privtest.c)
target_include_directories(keel-privtest PRIVATE ${CMAKE_SOURCE_DIR}/tools/include
                           ${CMAKE_SOURCE_DIR}/hypervisor/include/public)
target_compile_options(keel-privtest PRIVATE -std=c11 -Wall -Wextra -Werror -O1 -g)
target_link_options(keel-privtest PRIVATE -static)

file(GLOB CTL_CONFIGS ${CTL_SRC}/*.cfg)
add_custom_command(OUTPUT ${CTL_DIR}/initrd.img
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CTL_DIR}
    COMMAND sh ${CTL_SRC}/make-initramfs.sh ${LINUX_DIR}/busybox ${LMOD_KO}
            $<TARGET_FILE:keelctl-static> $<TARGET_FILE:keel-privtest>
            ${CMAKE_BINARY_DIR}/tests/hello.elf ${CTL_SRC} ${CTL_DIR}/initrd.img
    DEPENDS ${LMOD_KO} ${LINUX_DIR}/busybox keelctl-static keel-privtest test_guests
            ${CTL_SRC}/init ${CTL_SRC}/make-initramfs.sh ${CTL_CONFIGS}
    COMMENT "Building the Linux control domain test's initramfs")
add_custom_command(OUTPUT ${CTL_DIR}/config.dtb
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CTL_DIR}
    COMMAND ${DTC} -q -I dts -O dtb -o ${CTL_DIR}/config.dtb ${CTL_SRC}/ctl.dts
    DEPENDS ${CTL_SRC}/ctl.dts
    COMMENT "Compiling tests/linux/ctl/ctl.dts")
add_custom_target(linux_ctl_assets ALL DEPENDS ${CTL_DIR}/initrd.img ${CTL_DIR}/config.dtb)
add_dependencies(linux_ctl_assets linux_module_assets keel-linux-module)

keel_qemu_test(ctl-linux 600 --smp 2 --kernel ${ELF} --append "qemu_exit=1 probe_guest=none"
    --module ${CMAKE_BINARY_DIR}/tests/reference.elf
    --module ${LMOD_DIR}/vmlinuz --module ${CTL_DIR}/initrd.img --module ${CTL_DIR}/config.dtb
    --reject-line "KEEL PANIC"
    --reject-line "Kernel panic"
    --reject-line "BUG:|Oops|WARNING: CPU|Call Trace"
    --reject-line "keel-ctl: still running"
    --reject-line "domain [0-9]+ '[^']+' crashed"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-load: SUCCESS"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-privcmd: SUCCESS version 1\\.[0-9]+"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-evtchn: SUCCESS"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-gntmap: SUCCESS"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-info: SUCCESS free_pages [0-9]+"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-list: SUCCESS"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-bad-config: SUCCESS"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-refused: SUCCESS too much memory"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-keel-eperm: SUCCESS"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-create: SUCCESS created domain hello"
    --expect-line "\\[d[0-9]+ hello\\] keeltest: hello: SUCCESS domain [0-9]+ 'hello'"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-pause: SUCCESS paused"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-top: SUCCESS 2 frames"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-console: SUCCESS keeltest: hello: SUCCESS"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-destroy: SUCCESS free_pages back"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-dmesg-follow: SUCCESS"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-dmesg: SUCCESS"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-noright-asuser: SUCCESS keelctl exit 5"
    --expect-line "\\[d[0-9]+ con0\\] keeltest: ctl-noright-nocap: SUCCESS keelctl exit 5"
    --expect-line "domain [0-9]+ 'ctl' powered off"
    --expect-line "KEEL-VERDICT: SUCCESS")
