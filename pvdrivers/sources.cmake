# SPDX-License-Identifier: MIT
# pvdrivers/sources.cmake - the porting kit's sources and include directories,
# for any build that compiles them: the host library here, a port's
# freestanding kernel build (include() this file, then compile KPV_SOURCES
# with KPV_INCLUDE_DIRS and the kernel's own flags).
#
# The sources need only <stdarg.h>, <stdbool.h>, <stddef.h>, <stdint.h>, and
# link against kpv_shim_* (keel_pv/shim.h), memcpy, memset and memcmp.
set(KPV_DIR ${CMAKE_CURRENT_LIST_DIR})
set(KPV_SOURCES
    ${KPV_DIR}/core/start.c
    ${KPV_DIR}/core/hcall.c
    ${KPV_DIR}/core/evtchn.c
    ${KPV_DIR}/core/grants.c
    ${KPV_DIR}/core/map_window.c
    ${KPV_DIR}/core/mapping.c
    ${KPV_DIR}/core/fdt.c
    ${KPV_DIR}/core/devtable.c
    ${KPV_DIR}/core/format.c
    ${KPV_DIR}/core/ring.c
    ${KPV_DIR}/core/device.c
    ${KPV_DIR}/core/device_fe.c
    ${KPV_DIR}/core/device_be.c)
# The console class (console/): both sides.
list(APPEND KPV_SOURCES
    ${KPV_DIR}/console/common.c ${KPV_DIR}/console/console_fe.c ${KPV_DIR}/console/console_be.c)
# The net class (net/): netfront, netback, packet buffers, the learning switch.
list(APPEND KPV_SOURCES
    ${KPV_DIR}/net/pkt.c ${KPV_DIR}/net/meta.c ${KPV_DIR}/net/netfront.c
    ${KPV_DIR}/net/netfront_io.c ${KPV_DIR}/net/netback.c ${KPV_DIR}/net/netback_io.c
    ${KPV_DIR}/net/switch.c)
# The block class (block/): blkfront, blkback.
list(APPEND KPV_SOURCES
    ${KPV_DIR}/block/blkfront.c ${KPV_DIR}/block/blkfront_conn.c ${KPV_DIR}/block/blkfront_io.c
    ${KPV_DIR}/block/blkfront_pool.c
    ${KPV_DIR}/block/blkback.c ${KPV_DIR}/block/blkback_io.c ${KPV_DIR}/block/blkback_batch.c
    ${KPV_DIR}/block/blkback_persist.c)
get_filename_component(KPV_PUBLIC_ABI ${KPV_DIR}/../hypervisor/include/public ABSOLUTE)
set(KPV_INCLUDE_DIRS ${KPV_DIR}/include ${KPV_PUBLIC_ABI})
