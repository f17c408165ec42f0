/* SPDX-License-Identifier: MIT */
/*
 * x86/aml.h - a small writer of ACPI Machine Language (ACPI 6.x, section
 * 20), for the DSDT Keel gives its guests: names, integers, strings,
 * EisaIds, scopes, devices, packages, buffers, and the resource template
 * descriptors the platform needs. Lengths (PkgLength, buffer sizes) are
 * filled in when an object is closed. Builds on the host too (the tables
 * are checked with iasl there).
 *
 * Errors are sticky: a write past the end of the buffer or unbalanced
 * begin/end marks the writer failed and aml_finish() returns 0.
 */
#ifndef KEEL_X86_AML_H
#define KEEL_X86_AML_H

#include <keel/types.h>

#define AML_DEPTH_MAX	8

struct aml {
	uint8_t *buf;
	size_t len, cap;
	bool failed;
	unsigned int depth;
	struct {
		size_t start;		/* where the object's length goes */
		bool buffer;		/* a Buffer: its size goes there too */
	} open[AML_DEPTH_MAX];
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
/* The bytes written, or 0 after any error or with an object still open. */
size_t aml_finish(struct aml *a);

/* Terms. @path: "\\_SB_.PCI0", "COM1", "_HID"; segments of up to 4 characters. */
void aml_name(struct aml *a, const char *path);	/* Name(path, <the next object>) */
void aml_integer(struct aml *a, uint64_t v);	/* the shortest encoding */
void aml_string(struct aml *a, const char *s);
void aml_eisaid(struct aml *a, const char *id);	/* "PNP0501" */

/* Objects with contents, closed by aml_end(). */
void aml_scope(struct aml *a, const char *path);
void aml_device(struct aml *a, const char *path);
void aml_package(struct aml *a, uint8_t elements);
void aml_buffer(struct aml *a);			/* ResourceTemplate(): a Buffer of descriptors */
void aml_end(struct aml *a);

/* Resource descriptors (inside aml_buffer(); aml_end_tag() last). */
void aml_io(struct aml *a, uint16_t base, uint8_t length);		/* IO(Decode16, fixed) */
void aml_irq_noflags(struct aml *a, unsigned int irq);		/* ISA IRQ: edge, active high */
void aml_interrupt(struct aml *a, uint32_t gsi, bool level, bool active_low);
void aml_memory32_fixed(struct aml *a, uint32_t base, uint32_t length, bool writable);
void aml_word_bus_number(struct aml *a, uint16_t min, uint16_t max);
void aml_dword_memory(struct aml *a, uint32_t min, uint32_t max, bool prefetchable);
void aml_qword_memory(struct aml *a, uint64_t min, uint64_t max, bool prefetchable);
void aml_end_tag(struct aml *a);

#endif
