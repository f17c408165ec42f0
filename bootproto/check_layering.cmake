# SPDX-License-Identifier: MIT
# bootproto/check_layering.cmake - the boot-protocol library stays portable.
#
# Its sources and headers may include only the freestanding C headers
# <std*.h>, <bootproto/...>, the public ABI <keel/...>, the decompression
# libraries' headers (decompress.c), and "internal.h": no C library, no OS,
# no hypervisor internals (<arch/...>, <x86/...>, <public/...>), no toolstack.
# Headers under include/ may not include the public ABI either, so that the
# hypervisor (whose <keel/...> are its internal headers) can include them.
#   cmake -DBOOTPROTO_DIR=<repository>/bootproto -P bootproto/check_layering.cmake
if(NOT BOOTPROTO_DIR)
    message(FATAL_ERROR "check_layering: pass -DBOOTPROTO_DIR=<repository>/bootproto")
endif()
file(GLOB sources ${BOOTPROTO_DIR}/*.c ${BOOTPROTO_DIR}/*.h ${BOOTPROTO_DIR}/x86/*.c)
file(GLOB headers ${BOOTPROTO_DIR}/include/bootproto/*.h)
if(NOT sources OR NOT headers)
    message(FATAL_ERROR "check_layering: no sources under ${BOOTPROTO_DIR}")
endif()

set(violations 0)
foreach(file IN LISTS sources headers)
    file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include")
    list(FIND headers ${file} is_header)
    foreach(line IN LISTS lines)
        if(line MATCHES "<std(bool|def|int)\\.h>" OR line MATCHES "<bootproto/[a-z_0-9]+\\.h>" OR
           line MATCHES "\"(\\.\\./)?internal\\.h\"")
            continue()
        endif()
        if(is_header EQUAL -1 AND (line MATCHES "<keel/[a-z_0-9-]+\\.h>" OR
           line MATCHES "<(zlib|lzma|zstd|zstd_errors)\\.h>"))
            continue()
        endif()
        file(RELATIVE_PATH rel ${BOOTPROTO_DIR} ${file})
        message(SEND_ERROR "layering: bootproto/${rel}: ${line}")
        math(EXPR violations "${violations} + 1")
    endforeach()
endforeach()
if(violations GREATER 0)
    message(FATAL_ERROR "layering: ${violations} forbidden include(s) in bootproto")
endif()
