/* SPDX-License-Identifier: MIT */
/*
 * core/decompress.c - binds bootproto's stream decoder (bootproto/
 * decompress.c, shared with keelctl) to Keel: memory from the heap, every
 * call into the prebuilt libraries between arch_fpu_begin() and
 * arch_fpu_end(), since they use SSE and the red zone.
 */
#include <arch/arch.h>
#include <keel/decompress.h>
#include <keel/heap.h>

static const struct bootproto_env keel_env = {
	.alloc = heap_alloc,
	.free = heap_free,
	.fpu_begin = arch_fpu_begin,
	.fpu_end = arch_fpu_end,
};

const char *decompress(const void *in, size_t in_size, size_t max_out, void **out,
		       size_t *out_size)
{
	return decompress_stream(&keel_env, in, in_size, max_out, out, out_size);
}
