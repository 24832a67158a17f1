/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_UTIL_H
#define SLUICE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)			(sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define ALIGN_UP(x, a)			(((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a)		((x) & ~((__typeof__(x))(a)-1))

#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

/*
 * Parse a size such as "64M", "2G", "512K", "4096" (bytes). Suffixes K/M/G/T
 * (case-insensitive, optional trailing 'B' or 'iB') are binary. Returns 0 or
 * -EINVAL for anything malformed, zero, or overflowing.
 */
int parse_size(const char *s, uint64_t *out);

/* Parse a decimal unsigned integer in [min, max]; -EINVAL otherwise. */
int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* Read a whole file (at most max_size bytes) into a malloc'd buffer. */
int read_file(const char *path, size_t max_size, uint8_t **data, size_t *size);

/* a + b without wrap; returns 0, or -ERANGE if the sum overflows. */
static inline int add_overflows_u64(uint64_t a, uint64_t b, uint64_t *sum)
{
	return __builtin_add_overflow(a, b, sum) ? -34 /* ERANGE */ : 0;
}

#endif
