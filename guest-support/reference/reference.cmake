# SPDX-License-Identifier: MIT
# guest-support/reference/reference.cmake - the pvdrivers reference port, build/tests/reference.elf:
# this directory's shim and program plus the pvdrivers core (pvdrivers/sources.cmake), built
# freestanding with the test kernels' flags, on tests/guest/lib64 as its kernel. Included by
# tests/guest/CMakeLists.txt, where keel_test_guest64() and those flags live.
set(REF_DIR ${CMAKE_CURRENT_LIST_DIR})
include(${REF_DIR}/../../pvdrivers/sources.cmake)
set(REF_SHIM_SOURCES
    ${REF_DIR}/shim_memory.c ${REF_DIR}/shim_cpu.c ${REF_DIR}/upcall.S ${REF_DIR}/shim_lock.c
    ${REF_DIR}/shim_sched.c ${REF_DIR}/shim_log.c)
set(REF_PROGRAM_SOURCES ${REF_DIR}/main.c ${REF_DIR}/selftest.c ${REF_DIR}/echo.c)
list(APPEND REF_PROGRAM_SOURCES ${REF_DIR}/role_console.c)
list(APPEND REF_PROGRAM_SOURCES ${REF_DIR}/role_block.c)
list(APPEND REF_PROGRAM_SOURCES ${REF_DIR}/role_net.c)
list(APPEND REF_PROGRAM_SOURCES ${REF_DIR}/role_bench_block.c ${REF_DIR}/role_bench_net.c)
list(APPEND REF_PROGRAM_SOURCES ${REF_DIR}/role_serve.c)
list(APPEND REF_PROGRAM_SOURCES ${REF_DIR}/role_ping.c)
keel_test_guest64(reference ${REF_SHIM_SOURCES} ${REF_PROGRAM_SOURCES} ${KPV_SOURCES})
target_include_directories(reference.elf PRIVATE ${REF_DIR} ${KPV_INCLUDE_DIRS})
