# SPDX-License-Identifier: MIT
# tools/packaging/keel-tools.cmake - build/keel-tools_VERSION_amd64.deb:
# keelctl and keel-backendd (their static builds) for a Debian control
# domain, made with dpkg-deb by make-deb.sh; the demo's control domain
# unpacks its tools from it. Test linux-tools-apt-install installs it with
# apt in a Debian 12 chroot (check-apt-install.sh).
#
# Included by tests/integration/demo.cmake, whose control domain uses it
# (keelctl-static and keel-backendd-static are tools/ targets).
set(KEEL_TOOLS_VERSION 0.1.0)
set(KEEL_TOOLS_DEB ${CMAKE_BINARY_DIR}/keel-tools_${KEEL_TOOLS_VERSION}_amd64.deb)
set(tools_pkg ${CMAKE_CURRENT_LIST_DIR})
add_custom_command(OUTPUT ${KEEL_TOOLS_DEB}
    COMMAND sh ${tools_pkg}/make-deb.sh $<TARGET_FILE:keelctl-static>
            $<TARGET_FILE:keel-backendd-static> ${KEEL_TOOLS_VERSION} ${KEEL_TOOLS_DEB}
    DEPENDS keelctl-static keel-backendd-static ${tools_pkg}/make-deb.sh
            ${tools_pkg}/control.in ${CMAKE_SOURCE_DIR}/docs/keelctl.md
            ${CMAKE_SOURCE_DIR}/docs/admin-guide.md
    COMMENT "Packaging keel-tools_${KEEL_TOOLS_VERSION}_amd64.deb")
add_custom_target(keel-tools-deb ALL DEPENDS ${KEEL_TOOLS_DEB})
# The executables come from another directory: order the builds explicitly
# (a file dependency alone let make -j run the packaging while they linked).
add_dependencies(keel-tools-deb keelctl-static keel-backendd-static)

add_test(NAME linux-tools-apt-install
         COMMAND sh ${tools_pkg}/check-apt-install.sh ${KEEL_TOOLS_DEB}
                 ${CMAKE_BINARY_DIR}/linux-deb-chroot)
# After the keel-dkms test when both run: it makes the cached chroot this one reuses.
set_tests_properties(linux-tools-apt-install PROPERTIES
    LABELS linux TIMEOUT 900 RESOURCE_LOCK linux-deb-chroot DEPENDS linux-deb-apt-install)
