# SPDX-License-Identifier: MIT
# tests/linux/deb/deb.cmake - linux-deb-apt-install (label linux): the
# keel-dkms .deb installed with `apt install ./keel-dkms_VERSION_all.deb` in
# a minimal Debian 12 chroot (check-apt-install.sh), DKMS building keel.ko
# for the Linux tests' kernel, its alias resolving the Keel platform
# device, and `apt remove` cleaning up. The prepared chroot is cached in
# build/linux-deb-chroot (first run: debootstrap from the Debian mirror).
#
# Included by guest-support/linux/CMakeLists.txt (DEB_FILE, KEEL_LINUX_KVER).
add_test(NAME linux-deb-apt-install
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/check-apt-install.sh ${DEB_FILE} ${KEEL_LINUX_KVER}
                 ${CMAKE_BINARY_DIR}/linux-deb-chroot)
# First run: debootstrap and apt-get (about 6 minutes here), then DKMS; later runs about 2.
set_tests_properties(linux-deb-apt-install PROPERTIES
    LABELS linux TIMEOUT 1200 RESOURCE_LOCK linux-deb-chroot)
