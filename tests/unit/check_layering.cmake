# SPDX-License-Identifier: MIT
# tests/unit/check_layering.cmake - the core stays architecture-independent.
#
# hypervisor/core/*.c, hypervisor/lib/*.c and hypervisor/include/keel/*.h may
# include nothing architecture-specific but <arch/arch.h>: no <x86/...>, no
# other path under arch/, and no "../" escape around the include path
# (docs/architecture.md, "Layers").
#   cmake -DKEEL_SOURCE_DIR=<repository> -P tests/unit/check_layering.cmake
if(NOT KEEL_SOURCE_DIR)
    message(FATAL_ERROR "check_layering: pass -DKEEL_SOURCE_DIR=<repository>")
endif()
set(hv ${KEEL_SOURCE_DIR}/hypervisor)
file(GLOB files ${hv}/core/*.c ${hv}/lib/*.c ${hv}/include/keel/*.h)
list(LENGTH files file_count)
if(file_count EQUAL 0)
    message(FATAL_ERROR "check_layering: no core sources under ${hv}")
endif()

set(violations 0)
set(include_count 0)
foreach(file IN LISTS files)
    file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS lines)
        math(EXPR include_count "${include_count} + 1")
        if(NOT line MATCHES "[<\"]([^>\"]+)[>\"]")
            continue()
        endif()
        set(path ${CMAKE_MATCH_1})
        if(path MATCHES "^x86/" OR path MATCHES "\\.\\./" OR
           (path MATCHES "(^|/)arch/" AND NOT path STREQUAL "arch/arch.h"))
            file(RELATIVE_PATH rel ${KEEL_SOURCE_DIR} ${file})
            message(SEND_ERROR "layering: ${rel}: ${line}")
            math(EXPR violations "${violations} + 1")
        endif()
    endforeach()
endforeach()
if(violations GREATER 0)
    message(FATAL_ERROR "layering: ${violations} forbidden include(s): core code "
        "may use only <arch/arch.h> of the architecture layer")
endif()
message(STATUS "layering: ${file_count} files, ${include_count} includes, all allowed")
