# SPDX-License-Identifier: MIT
# pvdrivers/check_symbols.cmake - the porting kit, built freestanding, needs
# from its OS only the shim (kpv_shim_*) and memcpy, memset, memcmp: no other
# C library function and no compiler runtime helper (64-bit division on
# 32-bit targets, stack protector), which some kernels do not provide.
#   cmake -DNM=nm -DLIB64=a.a -DLIB32=b.a -P pvdrivers/check_symbols.cmake
cmake_minimum_required(VERSION 3.20)
if(NOT NM OR NOT LIB64 OR NOT LIB32)
    message(FATAL_ERROR "check_symbols: pass -DNM=<nm> -DLIB64=<archive> -DLIB32=<archive>")
endif()

# The symbols @lib's objects define or need, as lists.
function(symbols lib kind out)
    execute_process(COMMAND ${NM} --${kind}-only --format=posix ${lib}
                    OUTPUT_VARIABLE text RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "check_symbols: ${NM} failed on ${lib}")
    endif()
    string(REPLACE "\n" ";" lines "${text}")
    set(syms "")
    foreach(line IN LISTS lines)
        if(line MATCHES "^([A-Za-z0-9_.$]+) [A-Za-z] ")
            list(APPEND syms ${CMAKE_MATCH_1})
        endif()
    endforeach()
    set(${out} ${syms} PARENT_SCOPE)
endfunction()

set(bad 0)
foreach(lib ${LIB64} ${LIB32})
    symbols(${lib} defined defined)
    symbols(${lib} undefined needed)
    list(REMOVE_DUPLICATES needed)
    set(external 0)
    foreach(sym IN LISTS needed)
        if(sym IN_LIST defined)
            continue()
        endif()
        math(EXPR external "${external} + 1")
        if(NOT sym MATCHES "^kpv_shim_[a-z_]+$" AND NOT sym MATCHES "^(memcpy|memset|memcmp)$")
            message(SEND_ERROR "symbols: ${lib} needs ${sym}")
            math(EXPR bad "${bad} + 1")
        endif()
    endforeach()
    if(external EQUAL 0)
        message(FATAL_ERROR "check_symbols: ${lib} needs nothing at all: wrong file?")
    endif()
endforeach()
if(bad GREATER 0)
    message(FATAL_ERROR "symbols: pvdrivers needs ${bad} symbol(s) beyond the shim and mem*")
endif()
message(STATUS "symbols: pvdrivers needs only kpv_shim_* and memcpy/memset/memcmp")
