# SPDX-License-Identifier: MIT
# bootproto/sources.cmake - the boot-protocol library's sources and include
# directories, for every build that compiles them: the hypervisor
# (freestanding, hypervisor/CMakeLists.txt), the host library the unit tests
# and keelctl link (bootproto/CMakeLists.txt), the fuzzers (tests/fuzz).
#
# The sources include only the freestanding C headers, <bootproto/...>, the
# public ABI (<keel/...>) and, for decompress.c, zlib's, liblzma's and
# libzstd's headers; they call memcpy, memset, memcmp, strlen and strncmp
# (as compiler builtins) and the bootproto_env a program passes in.
set(BOOTPROTO_DIR ${CMAKE_CURRENT_LIST_DIR})
set(BOOTPROTO_SOURCES
    ${BOOTPROTO_DIR}/elf.c
    ${BOOTPROTO_DIR}/decompress.c
    ${BOOTPROTO_DIR}/linux_cmdline.c
    ${BOOTPROTO_DIR}/x86/layout.c
    ${BOOTPROTO_DIR}/x86/bzimage.c
    ${BOOTPROTO_DIR}/x86/e820.c
    ${BOOTPROTO_DIR}/x86/pvh.c
    ${BOOTPROTO_DIR}/x86/zeropage.c
    ${BOOTPROTO_DIR}/x86/linux_plan.c
    ${BOOTPROTO_DIR}/x86/linux_tables.c)
get_filename_component(BOOTPROTO_PUBLIC_ABI ${BOOTPROTO_DIR}/../hypervisor/include/public ABSOLUTE)
# PUBLIC: what users of the library include (<bootproto/...>); PRIVATE adds
# the public ABI the sources read their constants from.
set(BOOTPROTO_INCLUDE_DIR ${BOOTPROTO_DIR}/include)
set(BOOTPROTO_PRIVATE_INCLUDE_DIRS ${BOOTPROTO_PUBLIC_ABI})
