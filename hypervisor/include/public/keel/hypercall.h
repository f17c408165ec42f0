/* SPDX-License-Identifier: MIT */
/* keel/hypercall.h: hypercall numbers, grouped in ranges; append-only, never reused. */
#ifndef KEEL_PUBLIC_HYPERCALL_H
#define KEEL_PUBLIC_HYPERCALL_H

/*
 * One number per operation. The number goes in the arch's number register
 * (keel/arch-x86_64.h); arguments and results are described next to each
 * call's structs in the group header named below. A number Keel does not
 * implement returns -KEEL_ENOSYS. Retired numbers keep their line with a
 * "retired in X.Y" comment and are never given to another call.
 *
 * Ranges:
 *   0x000-0x00f  discovery               keel/abi.h
 *   0x010-0x01f  hypervisor console      keel/console.h
 *   0x020-0x02f  scheduling and timers   keel/sched.h
 *   0x030-0x04f  event channels          keel/event_channel.h
 *   0x050-0x05f  grant tables            keel/grant_table.h
 *   0x060-0x06f  memory                  keel/memory.h
 *   0x070-0x07f  vCPUs                   keel/vcpu.h
 *   0x080-0x08f  device table            keel/device_table.h
 *   0x090-0x0ff  reserved for new guest groups
 *   0x100-0x17f  control interface       keel/control.h
 *   0x180-0xeff  reserved
 *   0xf00-0xfff  per-architecture block  keel/arch-<isa>.h
 */
#define KEEL_HC_GROUP_DISCOVERY		0x000
#define KEEL_HC_GROUP_CONSOLE		0x010
#define KEEL_HC_GROUP_SCHED		0x020
#define KEEL_HC_GROUP_EVTCHN		0x030
#define KEEL_HC_GROUP_GNTTAB		0x050
#define KEEL_HC_GROUP_MEMORY		0x060
#define KEEL_HC_GROUP_VCPU		0x070
#define KEEL_HC_GROUP_DEVICE_TABLE	0x080
#define KEEL_HC_GROUP_CONTROL		0x100
#define KEEL_HC_GROUP_ARCH		0xf00
#define KEEL_HC_NUMBER_LIMIT		0x1000	/* every number is below this */

/* Discovery (keel/abi.h). */
#define KEEL_HC_VERSION			0x000
#define KEEL_HC_FEATURES		0x001
#define KEEL_HC_IDENTIFY		0x002

/* Hypervisor console (keel/console.h). */
#define KEEL_HC_CONSOLE_WRITE		0x010
#define KEEL_HC_CONSOLE_READ		0x011
#define KEEL_HC_CONSOLE_READ_DOMAIN	0x012
#define KEEL_HC_CONSOLE_WRITE_DOMAIN	0x013

/* Scheduling and timers (keel/sched.h). */
#define KEEL_HC_SCHED_YIELD		0x020
#define KEEL_HC_SCHED_BLOCK		0x021
#define KEEL_HC_SCHED_POLL		0x022
#define KEEL_HC_SCHED_SHUTDOWN		0x023
#define KEEL_HC_SCHED_SET_TIMER		0x024

/* Event channels (keel/event_channel.h). */
#define KEEL_HC_EVTCHN_ALLOC_UNBOUND	0x030
#define KEEL_HC_EVTCHN_BIND_INTERDOMAIN	0x031
#define KEEL_HC_EVTCHN_BIND_VIRQ	0x032
#define KEEL_HC_EVTCHN_BIND_IPI		0x033
#define KEEL_HC_EVTCHN_SEND		0x034
#define KEEL_HC_EVTCHN_CLOSE		0x035
#define KEEL_HC_EVTCHN_STATUS		0x036
#define KEEL_HC_EVTCHN_MASK		0x037
#define KEEL_HC_EVTCHN_UNMASK		0x038
#define KEEL_HC_EVTCHN_BIND_VCPU	0x039
#define KEEL_HC_EVTCHN_SET_UPCALL	0x03a
#define KEEL_HC_EVTCHN_EXPAND		0x03b

/* Grant tables (keel/grant_table.h). */
#define KEEL_HC_GNTTAB_SETUP		0x050
#define KEEL_HC_GNTTAB_QUERY		0x051
#define KEEL_HC_GNTTAB_MAP		0x052
#define KEEL_HC_GNTTAB_UNMAP		0x053
#define KEEL_HC_GNTTAB_COPY		0x054
#define KEEL_HC_GNTTAB_REVOKE		0x055

/* Memory (keel/memory.h). */
#define KEEL_HC_MEMORY_POPULATE		0x060
#define KEEL_HC_MEMORY_RELEASE		0x061
#define KEEL_HC_MEMORY_QUERY		0x062
#define KEEL_HC_MEMORY_MAP_SHARED	0x063
#define KEEL_HC_MEMORY_UNMAP_SHARED	0x064	/* 1.1 */

/* vCPUs (keel/vcpu.h). */
#define KEEL_HC_VCPU_REGISTER_INFO	0x070
#define KEEL_HC_VCPU_UP			0x071
#define KEEL_HC_VCPU_DOWN		0x072
#define KEEL_HC_VCPU_INFO		0x073

/* Device table (keel/device_table.h). */
#define KEEL_HC_DEVICE_TABLE_READ	0x080

/* Control interface (keel/control.h). */
#define KEEL_HC_CTL_HOST_INFO		0x100
#define KEEL_HC_CTL_DOMAIN_CREATE	0x101
#define KEEL_HC_CTL_DOMAIN_DESTROY	0x102
#define KEEL_HC_CTL_DOMAIN_PAUSE	0x103
#define KEEL_HC_CTL_DOMAIN_UNPAUSE	0x104
#define KEEL_HC_CTL_DOMAIN_SHUTDOWN	0x105
#define KEEL_HC_CTL_DOMAIN_INFO		0x106
#define KEEL_HC_CTL_DOMAIN_LIST		0x107
#define KEEL_HC_CTL_DOMAIN_SET_MEMORY	0x108
#define KEEL_HC_CTL_DOMAIN_POPULATE	0x109
#define KEEL_HC_CTL_DOMAIN_LOAD		0x10a
#define KEEL_HC_CTL_DOMAIN_SET_CAPS	0x10b
#define KEEL_HC_CTL_DOMAIN_SET_SCHED	0x10c
#define KEEL_HC_CTL_VCPU_SET_CONTEXT	0x10d
#define KEEL_HC_CTL_VCPU_GET_CONTEXT	0x10e
#define KEEL_HC_CTL_VCPU_SET_AFFINITY	0x10f
#define KEEL_HC_CTL_DEVICE_SETUP	0x110
#define KEEL_HC_CTL_DEVICE_REMOVE	0x111
#define KEEL_HC_CTL_LOG_READ		0x112

/* Per-architecture block: x86_64 defines none in ABI 1.0. */

#endif /* KEEL_PUBLIC_HYPERCALL_H */
