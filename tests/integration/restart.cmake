# SPDX-License-Identifier: MIT
# tests/integration/restart.cmake - boot-time domains that end and are built again
# (docs/boot-config.md, "When a domain ends"): on-reboot restarts by default, with the same
# devices; a backend that restarts comes back to its frontends; a crash loop stops at its
# restart-limit. Keel appends keel_restart=<n> to a rebuilt domain's command line, which is
# how the reboot kernel (tests/guest/reboot) knows its boot is not the first.
#
# Included by tests/integration/CMakeLists.txt after keel_qemu_test(), keel_config(), ELF and
# CONFIGS are defined (the stock Linux guest's reboot is in linux.cmake).
keel_config(restart)
keel_config(preserve)

keel_qemu_test(guest-restart 240 --smp 2 --kernel ${ELF} --append "qemu_exit=1 probe_guest=none"
    --module ${CMAKE_BINARY_DIR}/tests/reboot.elf --module ${CONFIGS}/restart/config.dtb
    --reject-line "KEEL PANIC"
    --reject-line "unexpected exception"
    --reject-line "domain [0-9]+ '(server|once|watcher)' crashed"
    --reject-line "'(server|once)' restarted \\(2\\)"
    --reject-line "'looper' restarted \\(3\\)"
    --expect-line "keeltest: reboot-once-boot0: SUCCESS domain [0-9]+, 1 device\\(s\\), asking to reboot"
    --expect-line "domain [0-9]+ 'once' asked to reboot"
    --expect-line "domain [0-9]+ 'once': restarting it \\(on-reboot = .restart.. restart 1\\)"
    --expect-line "domain 'once' restarted \\(1\\): now domain [0-9]+"
    --expect-line "keeltest: reboot-once-restarted: SUCCESS domain [0-9]+, restart 1, 1 device\\(s\\)"
    --expect-line "domain [0-9]+ 'once' powered off"
    --expect-line "keeltest: reboot-server-boot0: SUCCESS"
    --expect-line "domain [0-9]+ 'watcher': device 'con0' connected to the new domain [0-9]+ 'server'"
    --expect-line "domain 'server' restarted \\(1\\): now domain [0-9]+"
    --expect-line "keeltest: reboot-server-restarted: SUCCESS domain [0-9]+, restart 1"
    --expect-line "keeltest: reboot-watcher-watch: SUCCESS device 'con0' came back with backend domain [0-9]+ \\(was [0-9]+\\)"
    --expect-line "keeltest: reboot-looper-crash: SUCCESS domain [0-9]+, restart 0, crashing on purpose"
    --expect-line "keeltest: reboot-looper-crash: SUCCESS domain [0-9]+, restart 2, crashing on purpose"
    --expect-line "domain 'looper' restarted \\(2\\): now domain [0-9]+"
    --expect-line "domain [0-9]+ 'looper': restart limit reached \\(2 restarts within 60 s\\). destroyed"
    --expect-line "KEEL-VERDICT: SUCCESS every domain ended and every page came back")

# on-crash = "preserve": the domain stays shut down with its memory and is never counted as
# ended, so no verdict comes (the run ends by its timeout); the other domain runs to its end.
keel_qemu_test(guest-preserve 25 --smp 1 --kernel ${ELF} --append "qemu_exit=1 probe_guest=none"
    --module ${CMAKE_BINARY_DIR}/tests/reboot.elf --module ${CMAKE_BINARY_DIR}/tests/hello.elf
    --module ${CONFIGS}/preserve/config.dtb --expect TIMEOUT
    --reject-line "KEEL PANIC"
    --reject-line "domain [0-9]+ 'kept' destroyed"
    --reject-line "all domains have ended"
    --expect-line "keeltest: reboot-kept-crash: SUCCESS domain [0-9]+, restart 0, crashing on purpose"
    --expect-line "domain [0-9]+ 'kept' is kept shut down, with its memory \\(on-crash = .preserve.\\)"
    --expect-line "keeltest: hello: SUCCESS"
    --expect-line "domain [0-9]+ 'other' destroyed")
