/* SPDX-License-Identifier: MIT */
/* keel/device_table.h: the domain's device table, a flattened device tree (FDT) blob: names and versions. */
#ifndef KEEL_PUBLIC_DEVICE_TABLE_H
#define KEEL_PUBLIC_DEVICE_TABLE_H

#include "abi.h"

/*
 * Keel builds one device table per domain from its own records (domain,
 * devices set up with KEEL_HC_CTL_DEVICE_SETUP, map window). It is a
 * standard FDT blob (version 17, big-endian as FDT always is), read with
 * any FDT parser such as libfdt. docs/abi/device-table.md is the schema.
 * Readers MUST ignore nodes and properties they do not know; a minor
 * version only adds.
 *
 * KEEL_HC_DEVICE_TABLE_READ: copy part of the caller's device table.
 *   arg0:   IN GPA of the buffer.
 *   arg1:   IN byte offset into the blob.
 *   arg2:   IN buffer length, 1 .. KEEL_PAGE_SIZE, buffer in one page.
 *   return: bytes copied; 0 when arg1 >= the blob size. The blob size is
 *           the FDT header's totalsize (read the first 40 bytes first).
 *           Each call copies from one consistent blob; when
 *           keel_shared_info.device_table_generation changed between the
 *           first and the last call, the reader starts again.
 *   errors: KEEL_EFAULT, KEEL_E2BIG (arg2 > KEEL_PAGE_SIZE), KEEL_EINVAL
 *           (arg2 == 0), KEEL_ENOTIDENT, KEEL_EPERM (CPL > 0).
 *   capability: none.
 */
#define KEEL_DT_VERSION_MAJOR		1
#define KEEL_DT_VERSION_MINOR		0
#define KEEL_DT_MAX_SIZE		65536

/* Root node. */
#define KEEL_DT_COMPATIBLE		"keel,device-table"
#define KEEL_DT_PROP_VERSION		"keel,version"		/* <major minor> */

/* /domain: who the reader is. */
#define KEEL_DT_NODE_DOMAIN		"domain"
#define KEEL_DT_PROP_DOMID		"keel,domid"		/* <u32> */
#define KEEL_DT_PROP_NAME		"keel,name"		/* string */
#define KEEL_DT_PROP_UUID		"keel,uuid"		/* 16 bytes */
#define KEEL_DT_PROP_CAPS		"keel,capabilities"	/* <u64 as two cells> */
#define KEEL_DT_PROP_VCPUS		"keel,vcpus"		/* <u32> */

/* /map-window: GPA range kept empty for Keel mappings. */
#define KEEL_DT_NODE_MAP_WINDOW		"map-window"
#define KEEL_DT_PROP_REG		"reg"			/* <addr-hi addr-lo size-hi size-lo> */

/* /devices/<class>@<device-id>: one node per PV device the reader serves or uses. */
#define KEEL_DT_NODE_DEVICES		"devices"
#define KEEL_DT_COMPAT_CONSOLE		"keel,console"
#define KEEL_DT_COMPAT_BLOCK		"keel,block"
#define KEEL_DT_COMPAT_NET		"keel,net"
#define KEEL_DT_PROP_ROLE		"keel,role"		/* "frontend" or "backend" */
#define KEEL_DT_ROLE_FRONTEND		"frontend"
#define KEEL_DT_ROLE_BACKEND		"backend"
#define KEEL_DT_PROP_PEER_DOMID		"keel,peer-domid"	/* <u32> */
#define KEEL_DT_PROP_EVENT_PORT		"keel,event-port"	/* <u32> frontend's control port */
#define KEEL_DT_PROP_INDEX		"keel,index"		/* <u32> instance within class */
#define KEEL_DT_PROP_LABEL		"keel,label"		/* string hint, e.g. "xvda" */

#endif /* KEEL_PUBLIC_DEVICE_TABLE_H */
