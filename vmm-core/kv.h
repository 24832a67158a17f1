/* SPDX-License-Identifier: MIT */
/*
 * The one parser for options that take a comma-separated key=value list
 * (--memory, --serial, --disk, --net, --console; later --device, --iommu).
 *
 * An option describes its keys in a const table (struct kv_spec); kv_parse
 * walks the argument once, without copying or modifying it, checks each
 * value against its key's type and writes it into the caller's struct at
 * the key's offset. Rules, the same for every option:
 *   - items are separated by ','; empty items are skipped (a trailing ','
 *     is harmless);
 *   - the first item may be a bare value (no "name=") when the table has a
 *     KV_BARE key: "--memory 2G", "--serial stdio";
 *   - a key given twice: the last value counts ("shared=on,shared=off");
 *   - a KV_TAIL key's value runs to the end of the argument, commas
 *     included, so file paths need no escaping ("--serial file=/a,b");
 *   - anything else (unknown key, empty key, an item without '=', a bad or
 *     overlong value, a missing KV_REQUIRED key) fails with -EINVAL and one
 *     error line naming the option, the argument, the key and what it
 *     expects: "invalid --disk 'path=/a,num_queues=17': num_queues must be
 *     from 1 to 16".
 * Checks that span keys (exactly one of tap= and vhost_user=) are the
 * option's own: kv_parse reports which keys it saw, kv_error prints the line.
 */
#ifndef SLUICE_KV_H
#define SLUICE_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kv_type {
	KV_STR,	 /* char[size]: 1 to size - 1 bytes, NUL-terminated */
	KV_BOOL, /* bool: on or off */
	KV_SIZE, /* uint64_t: a size such as 64M or 2G (parse_size), not 0 */
	KV_UINT, /* unsigned: decimal, from min to max */
	KV_MAC,	 /* uint8_t[6]: a unicast address such as 52:54:00:12:34:56 */
	KV_ENUM, /* unsigned: the index of the value in names[] */
};

#define KV_BARE	     (1u << 0) /* the first item may be this key's value alone */
#define KV_BARE_ONLY (1u << 1) /* ...and only so: "name=" is not accepted (implies KV_BARE) */
#define KV_TAIL	     (1u << 2) /* the value is the rest of the argument, commas included */
#define KV_REQUIRED  (1u << 3) /* "name= is missing" unless given */

#define KV_MAX_KEYS 64 /* bits of kv_parse's *seen */

struct kv_key {
	const char *name;
	enum kv_type type;
	unsigned flags;
	size_t offset;		  /* of the field in the destination struct */
	size_t size;		  /* of the field (KV_FIELD); checked against the type */
	unsigned long min, max;	  /* KV_UINT */
	const char *const *names; /* KV_ENUM: NULL-terminated */
	/*
	 * The whole reason for a bad value ("tap= needs a name of 1 to 15
	 * characters"); NULL: said from the type ("server= is on or off").
	 */
	const char *expect;
};

/* .offset and .size of member m of struct type T. */
#define KV_FIELD(T, m) .offset = offsetof(T, m), .size = sizeof(((T *)0)->m)

struct kv_spec {
	const char *option; /* "--disk": names the option in error lines */
	const struct kv_key *keys;
	size_t nr_keys; /* at most KV_MAX_KEYS */
	/*
	 * The reason given for an item that names no key (unknown, empty, or
	 * without '='), e.g. "expected stdio, file=PATH or none"; NULL: "unknown
	 * key 'K' (want a=, b=on|off)" listed from the table.
	 */
	const char *usage;
};

/*
 * Parse arg by spec into dst (fields not given are left alone, so the
 * caller sets defaults first). On success *seen (if not NULL) has bit i set
 * for each keys[i] given. Returns 0, or -EINVAL after one error line; dst
 * may then be partly written.
 */
int kv_parse(const struct kv_spec *spec, const char *arg, void *dst, uint64_t *seen);

/* Was keys[i] given? */
static inline bool kv_seen(uint64_t seen, unsigned i)
{
	return i < KV_MAX_KEYS && (seen >> i) & 1;
}

/*
 * One error line "invalid OPTION 'ARG': REASON" (a long or unprintable arg
 * is shortened or masked so the line stays one line); returns -EINVAL.
 */
int kv_error(const char *option, const char *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A unicast MAC written as six ':'-separated pairs of hex digits. */
int kv_parse_mac(const char *s, size_t len, uint8_t mac[6]);

#endif
