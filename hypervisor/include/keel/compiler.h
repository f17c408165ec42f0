/* SPDX-License-Identifier: MIT */
/* keel/compiler.h - compiler attributes and small generic macros. */
#ifndef KEEL_COMPILER_H
#define KEEL_COMPILER_H

#define NORETURN		__attribute__((noreturn))
#define PRINTF_LIKE(f, a)	__attribute__((format(printf, f, a)))
#define UNUSED			__attribute__((unused))
#define ALIGNED(n)		__attribute__((aligned(n)))
#define IN_SECTION(s)		__attribute__((section(s)))
#define NOINLINE		__attribute__((noinline))
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)		(((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a)	((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a)	(((x) & ((__typeof__(x))(a) - 1)) == 0)
#define MIN(a, b)		((a) < (b) ? (a) : (b))
#define MAX(a, b)		((a) > (b) ? (a) : (b))

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

#endif
