/* SPDX-License-Identifier: MIT */
/* keel/io/console.h: the PV console device protocol (class KEEL_IO_CLASS_CONSOLE). */
#ifndef KEEL_PUBLIC_IO_CONSOLE_H
#define KEEL_PUBLIC_IO_CONSOLE_H

#include "../abi.h"

/*
 * Two rings (fe_nr_rings == 2), both with KEEL_IO_CONSOLE_SLOT_SIZE slots:
 *   ring 0 (output): the frontend's requests carry bytes to print; each
 *                    response returns the slot (len = bytes consumed).
 *   ring 1 (input):  the frontend posts empty requests (len 0); the backend
 *                    answers each with 0 .. 56 input bytes.
 * The same struct is used for requests and responses.
 * docs/abi/devices/console.md is the protocol.
 */
#define KEEL_IO_CONSOLE_RING_OUTPUT	0
#define KEEL_IO_CONSOLE_RING_INPUT	1
#define KEEL_IO_CONSOLE_NR_RINGS	2
#define KEEL_IO_CONSOLE_SLOT_SIZE	64
#define KEEL_IO_CONSOLE_DATA_MAX	56

/* Features (be_features / fe_features). */
#define KEEL_IO_CONSOLE_F_SIZE		0x00000001u	/* config cols/rows valid; changes signalled */

struct keel_io_console_slot {
	uint16_t id;			/* request: chosen by the frontend; response: echoed */
	uint16_t len;			/* bytes in data[], 0 .. KEEL_IO_CONSOLE_DATA_MAX */
	uint32_t flags;			/* MBZ */
	uint8_t data[56];		/* writer of the slot: the bytes */
};

/* be_config for the console class. */
struct keel_io_console_config {
	uint16_t cols;			/* be: 0 if unknown */
	uint16_t rows;			/* be: 0 if unknown */
	uint32_t pad0;			/* MBZ */
};

#endif /* KEEL_PUBLIC_IO_CONSOLE_H */
