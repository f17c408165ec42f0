# SPDX-License-Identifier: MIT
# pvdrivers/check_layering.cmake - the porting kit stays OS- and arch-independent.
#
# pvdrivers/core/*, the class directories (console/, net/, block/) and
# pvdrivers/include/keel_pv/*.h may include only the freestanding C headers
# <std*.h>, <keel_pv/...>, the public ABI <keel/...>, and headers of their own
# directory ("name.h"): no C library, no OS, no hypervisor internals, no "../"
# escapes.
#   cmake -DKPV_DIR=<repository>/pvdrivers -P pvdrivers/check_layering.cmake
if(NOT KPV_DIR)
    message(FATAL_ERROR "check_layering: pass -DKPV_DIR=<repository>/pvdrivers")
endif()
file(GLOB files ${KPV_DIR}/core/*.c ${KPV_DIR}/core/*.h ${KPV_DIR}/include/keel_pv/*.h
     ${KPV_DIR}/console/*.c ${KPV_DIR}/console/*.h ${KPV_DIR}/net/*.c ${KPV_DIR}/net/*.h
     ${KPV_DIR}/block/*.c ${KPV_DIR}/block/*.h)
list(LENGTH files file_count)
if(file_count EQUAL 0)
    message(FATAL_ERROR "check_layering: no sources under ${KPV_DIR}")
endif()

set(violations 0)
set(include_count 0)
foreach(file IN LISTS files)
    file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS lines)
        math(EXPR include_count "${include_count} + 1")
        if(line MATCHES "<(std(arg|bool|def|int)\\.h)>" OR
           line MATCHES "<keel_pv/[a-z_]+\\.h>" OR
           line MATCHES "<keel/(io/)?[a-z_0-9-]+\\.h>" OR
           line MATCHES "\"[a-z_]+\\.h\"")
            continue()
        endif()
        file(RELATIVE_PATH rel ${KPV_DIR} ${file})
        message(SEND_ERROR "layering: pvdrivers/${rel}: ${line}")
        math(EXPR violations "${violations} + 1")
    endforeach()
endforeach()
if(violations GREATER 0)
    message(FATAL_ERROR "layering: ${violations} forbidden include(s) in pvdrivers")
endif()
message(STATUS "layering: ${file_count} pvdrivers files, ${include_count} includes, all allowed")
