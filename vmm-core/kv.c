/* SPDX-License-Identifier: MIT */
#include "kv.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest non-string value (a number, on/off, a MAC, an enum name) we look at. */
#define KV_VALUE_MAX 64
/* How much of an argument or key an error line shows. */
#define KV_SHOW_MAX 200
#define KV_KEY_SHOW 32

/* s[0, len) for an error line: unprintable bytes as '?', cut at max with "...". */
static void kv_show(char *out, size_t out_size, const char *s, size_t len, size_t max)
{
	size_t n = len < max ? len : max, o = 0;

	for (size_t i = 0; i < n && o + 1 < out_size; i++)
		out[o++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (n < len)
		for (int i = 0; i < 3 && o + 1 < out_size; i++)
			out[o++] = '.';
	out[o] = '\0';
}

int kv_error(const char *option, const char *arg, const char *fmt, ...)
{
	char shown[KV_SHOW_MAX + 4], why[512];
	va_list ap;

	kv_show(shown, sizeof(shown), arg, strlen(arg), KV_SHOW_MAX);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_err("invalid %s '%s': %s", option, shown, why);
	return -EINVAL;
}

int kv_parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	uint8_t v[6];

	if (len != 17)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		char hex[3] = {p[0], p[1], '\0'};

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != ':'))
			return -EINVAL;
		v[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
	if (v[0] & 1) /* multicast bit: not a station address */
		return -EINVAL;
	memcpy(mac, v, sizeof(v));
	return 0;
}

/* "want a=, b=on|off, c=x|y": the keys that can be named. */
static void kv_want(const struct kv_spec *spec, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < spec->nr_keys && o < size; i++) {
		const struct kv_key *k = &spec->keys[i];

		if (k->flags & KV_BARE_ONLY)
			continue;
		o += (size_t)snprintf(out + o, size - o, "%s%s=", o ? ", " : "want ", k->name);
		if (o < size && k->type == KV_BOOL)
			o += (size_t)snprintf(out + o, size - o, "on|off");
		for (unsigned j = 0; o < size && k->type == KV_ENUM && k->names[j]; j++)
			o += (size_t)snprintf(out + o, size - o, "%s%s", j ? "|" : "", k->names[j]);
	}
}

/* An item that names no key: spec->usage, or what the keys are. */
static int kv_bad_item(const struct kv_spec *spec, const char *arg, const char *what,
		       const char *item, size_t len)
{
	char want[512], shown[KV_KEY_SHOW + 4];

	if (spec->usage)
		return kv_error(spec->option, arg, "%s", spec->usage);
	kv_want(spec, want, sizeof(want));
	kv_show(shown, sizeof(shown), item, len, KV_KEY_SHOW);
	return kv_error(spec->option, arg, what, shown, want);
}

/* "a, b or c" for an enum's values. */
static void kv_enum_list(const struct kv_key *k, char *out, size_t size)
{
	size_t o = 0, n = 0;

	while (k->names[n])
		n++;
	out[0] = '\0';
	for (size_t j = 0; j < n && o < size; j++)
		o += (size_t)snprintf(out + o, size - o, "%s%s",
				      j == 0	   ? ""
				      : j + 1 == n ? " or "
						   : ", ",
				      k->names[j]);
}

/* A value that does not fit its key. */
static int kv_bad_value(const struct kv_spec *spec, const char *arg, const struct kv_key *k,
			bool bare)
{
	char what[256];

	if (k->expect)
		return kv_error(spec->option, arg, "%s", k->expect);
	switch (k->type) {
	case KV_STR:
		snprintf(what, sizeof(what), "1 to %zu bytes", k->size - 1);
		break;
	case KV_BOOL:
		snprintf(what, sizeof(what), "on or off");
		break;
	case KV_SIZE:
		snprintf(what, sizeof(what), "a size such as 64M or 2G");
		break;
	case KV_UINT:
		snprintf(what, sizeof(what), "a number from %lu to %lu", k->min, k->max);
		break;
	case KV_MAC:
		snprintf(what, sizeof(what), "a unicast address such as 52:54:00:12:34:56");
		break;
	case KV_ENUM:
		kv_enum_list(k, what, sizeof(what));
		break;
	}
	if (bare)
		return kv_error(spec->option, arg, "expected %s", what);
	return kv_error(spec->option, arg, "%s= wants %s", k->name, what);
}

/* Store value[0, len) into k's field of dst. */
static int kv_set(const struct kv_spec *spec, const char *arg, const struct kv_key *k,
		  const char *value, size_t len, bool bare, void *dst)
{
	char *field = (char *)dst + k->offset;
	char buf[KV_VALUE_MAX];
	unsigned long n;
	uint64_t size;

	if (k->type == KV_STR) {
		if (len == 0) {
			if (bare || k->expect)
				return kv_bad_value(spec, arg, k, bare);
			return kv_error(spec->option, arg, "%s= is empty", k->name);
		}
		if (len >= k->size) {
			if (k->expect)
				return kv_error(spec->option, arg, "%s", k->expect);
			return kv_error(spec->option, arg, "%s= is longer than %zu bytes", k->name,
					k->size - 1);
		}
		memcpy(field, value, len);
		field[len] = '\0';
		return 0;
	}
	if (len >= sizeof(buf))
		return kv_bad_value(spec, arg, k, bare);
	memcpy(buf, value, len);
	buf[len] = '\0';
	switch (k->type) {
	case KV_STR:
		break;
	case KV_BOOL:
		if (strcmp(buf, "on") && strcmp(buf, "off"))
			return kv_bad_value(spec, arg, k, bare);
		*(bool *)field = !strcmp(buf, "on");
		return 0;
	case KV_SIZE:
		if (parse_size(buf, &size))
			return kv_bad_value(spec, arg, k, bare);
		memcpy(field, &size, sizeof(size));
		return 0;
	case KV_UINT:
		if (parse_uint(buf, k->min, k->max, &n))
			return kv_bad_value(spec, arg, k, bare);
		*(unsigned *)field = (unsigned)n;
		return 0;
	case KV_MAC:
		if (kv_parse_mac(buf, len, (uint8_t *)field))
			return kv_bad_value(spec, arg, k, bare);
		return 0;
	case KV_ENUM:
		for (unsigned j = 0; k->names[j]; j++) {
			if (!strcmp(buf, k->names[j])) {
				*(unsigned *)field = j;
				return 0;
			}
		}
		return kv_bad_value(spec, arg, k, bare);
	}
	return kv_bad_value(spec, arg, k, bare);
}

/* The table is the program's, not the user's: a wrong one is a bug, said once. */
static int kv_check_spec(const struct kv_spec *spec, int *bare)
{
	static const size_t want[] = {
	    [KV_BOOL] = sizeof(bool),	  [KV_SIZE] = sizeof(uint64_t),
	    [KV_UINT] = sizeof(unsigned), [KV_MAC] = 6 * sizeof(uint8_t),
	    [KV_ENUM] = sizeof(unsigned),
	};

	*bare = -1;
	if (!spec->option || !spec->keys || spec->nr_keys > KV_MAX_KEYS)
		goto bad;
	for (size_t i = 0; i < spec->nr_keys; i++) {
		const struct kv_key *k = &spec->keys[i];

		if (!k->name || !k->name[0] || k->type > KV_ENUM ||
		    (k->type == KV_STR ? k->size < 2 : k->size != want[k->type]) ||
		    (k->type == KV_ENUM && (!k->names || !k->names[0])) ||
		    (k->type == KV_UINT && k->min > k->max))
			goto bad;
		if (k->flags & (KV_BARE | KV_BARE_ONLY)) {
			if (*bare >= 0)
				goto bad;
			*bare = (int)i;
		}
	}
	return 0;
bad:
	log_err("kv: the key table of %s is malformed", spec->option ? spec->option : "(null)");
	return -EINVAL;
}

static const struct kv_key *kv_find(const struct kv_spec *spec, const char *name, size_t len,
				    unsigned *index)
{
	for (size_t i = 0; i < spec->nr_keys; i++) {
		const struct kv_key *k = &spec->keys[i];

		if (!(k->flags & KV_BARE_ONLY) && strlen(k->name) == len &&
		    !memcmp(k->name, name, len)) {
			*index = (unsigned)i;
			return k;
		}
	}
	return NULL;
}

int kv_parse(const struct kv_spec *spec, const char *arg, void *dst, uint64_t *seen)
{
	const char *end, *item;
	uint64_t got = 0;
	int bare, ret;

	if (!spec || !arg || !dst) {
		log_err("kv: invalid arguments");
		return -EINVAL;
	}
	if ((ret = kv_check_spec(spec, &bare)))
		return ret;
	end = arg + strlen(arg);
	for (item = arg;; item++) {
		const char *comma = memchr(item, ',', (size_t)(end - item));
		const char *item_end = comma ? comma : end;
		const char *eq = memchr(item, '=', (size_t)(item_end - item));
		const struct kv_key *k;
		const char *value;
		unsigned index;
		bool is_bare = false;

		if (!eq) {
			if (item == arg && bare >= 0) {
				index = (unsigned)bare;
				k = &spec->keys[index];
				value = item;
				is_bare = true;
			} else if (item == item_end) {
				goto next; /* empty item */
			} else {
				return kv_bad_item(spec, arg, "'%s' is not key=value (%s)", item,
						   (size_t)(item_end - item));
			}
		} else if (eq == item) {
			return kv_bad_item(spec, arg, "an empty key%s (%s)", "", 0);
		} else {
			k = kv_find(spec, item, (size_t)(eq - item), &index);
			if (!k)
				return kv_bad_item(spec, arg, "unknown key '%s' (%s)", item,
						   (size_t)(eq - item));
			value = eq + 1;
		}
		if (k->flags & KV_TAIL)
			item_end = end;
		if ((ret = kv_set(spec, arg, k, value, (size_t)(item_end - value), is_bare, dst)))
			return ret;
		got |= 1ULL << index;
	next:
		item = item_end;
		if (item == end)
			break;
	}
	for (size_t i = 0; i < spec->nr_keys; i++)
		if ((spec->keys[i].flags & KV_REQUIRED) && !kv_seen(got, (unsigned)i))
			return kv_error(spec->option, arg, "%s= is missing", spec->keys[i].name);
	if (seen)
		*seen = got;
	return 0;
}
