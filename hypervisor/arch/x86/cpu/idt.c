/* SPDX-License-Identifier: MIT */
/* cpu/idt.c - the interrupt descriptor table: every vector has a handler. */
#include <x86/layout.h>
#include <x86/percpu.h>
#include <x86/trap.h>

struct idt_entry {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

extern const char trap_stubs[];
static struct idt_entry idt[256] __attribute__((aligned(16)));

static uint8_t ist_for(unsigned int vector)
{
	switch (vector) {
	case VEC_DOUBLE_FAULT:
		return IST_DOUBLE_FAULT;
	case VEC_NMI:
		return IST_NMI;
	case VEC_MACHINE_CHECK:
		return IST_MACHINE_CHECK;
	default:
		return 0;
	}
}

void idt_init(void)
{
	for (unsigned int v = 0; v < 256; v++) {
		uintptr_t stub = (uintptr_t)trap_stubs + v * 16;

		idt[v] = (struct idt_entry){
			.offset_lo = (uint16_t)stub,
			.selector = BOOT_CS64,
			.ist = ist_for(v),
			.type = 0x8e,	/* present, DPL 0, 64-bit interrupt gate */
			.offset_mid = (uint16_t)(stub >> 16),
			.offset_hi = (uint32_t)(stub >> 32),
		};
	}
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr));
}
