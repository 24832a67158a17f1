/* SPDX-License-Identifier: MIT */
/* The key=value option parser (vmm-core/kv.c), including hostile arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv.h"
#include "util.h"

struct opts {
	char path[16];
	bool ro;
	uint64_t size;
	unsigned queues;
	uint8_t mac[6];
	unsigned mode;
	char file[32];
};

static const char *const modes[] = {"stdio", "none", NULL};

enum { K_PATH, K_RO, K_SIZE, K_QUEUES, K_MAC, K_FILE };
static const struct kv_key keys[] = {
    [K_PATH] = {.name = "path", .type = KV_STR, KV_FIELD(struct opts, path)},
    [K_RO] = {.name = "readonly", .type = KV_BOOL, KV_FIELD(struct opts, ro)},
    [K_SIZE] = {.name = "size", .type = KV_SIZE, .flags = KV_BARE, KV_FIELD(struct opts, size)},
    [K_QUEUES] =
	{.name = "num_queues", .type = KV_UINT, KV_FIELD(struct opts, queues), .min = 1, .max = 16},
    [K_MAC] = {.name = "mac", .type = KV_MAC, KV_FIELD(struct opts, mac)},
    [K_FILE] = {.name = "file", .type = KV_STR, .flags = KV_TAIL, KV_FIELD(struct opts, file)},
};
static const struct kv_spec spec = {"--test", keys, ARRAY_SIZE(keys), NULL};

/* The same option without a bare key, and with a required one. */
static const struct kv_key strict_keys[] = {
    {.name = "path", .type = KV_STR, .flags = KV_REQUIRED, KV_FIELD(struct opts, path)},
    {.name = "readonly", .type = KV_BOOL, KV_FIELD(struct opts, ro)},
};
static const struct kv_spec strict = {"--strict", strict_keys, ARRAY_SIZE(strict_keys), NULL};

/* A mode that is only ever given bare (--serial stdio). */
static const struct kv_key mode_keys[] = {
    {.name = "mode",
     .type = KV_ENUM,
     .flags = KV_BARE_ONLY,
     KV_FIELD(struct opts, mode),
     .names = modes},
    {.name = "file", .type = KV_STR, .flags = KV_TAIL, KV_FIELD(struct opts, file)},
};
static const struct kv_spec mode_spec = {"--serial", mode_keys, ARRAY_SIZE(mode_keys), NULL};

/*
 * Run kv_parse with stderr captured: returns its result, *err holds what it
 * printed (the error line, if any).
 */
static int parse_capture(const struct kv_spec *s, const char *arg, struct opts *o, uint64_t *seen,
			 char *err, size_t err_size)
{
	FILE *tmp = tmpfile();
	int saved, ret;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	ret = kv_parse(s, arg, o, seen);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(err, 1, err_size - 1, tmp);
	err[n] = '\0';
	fclose(tmp);
	return ret;
}

/* arg must fail with exactly one error line containing each of the strings. */
static void expect_error(const struct kv_spec *s, const char *arg, ...)
{
	char err[2048];
	struct opts o = {0};
	const char *want;
	va_list ap;
	char *nl;

	if (parse_capture(s, arg, &o, NULL, err, sizeof(err)) != -EINVAL)
		fail_msg("%s '%s' was accepted", s->option, arg);
	nl = strchr(err, '\n');
	if (!nl || nl[1] != '\0')
		fail_msg("%s '%.60s': not one error line: %s", s->option, arg, err);
	if (strncmp(err, "sluice: error: invalid ", 23) || !strstr(err, s->option))
		fail_msg("error line does not name the option: %s", err);
	va_start(ap, arg);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(err, want))
			fail_msg("error line lacks '%s': %s", want, err);
	va_end(ap);
}

static void test_types(void **state)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
	struct opts o = {.queues = 1};
	uint64_t seen = 0;

	(void)state;
	assert_int_equal(kv_parse(&spec,
				  "path=/a.img,readonly=on,size=2G,num_queues=16,"
				  "mac=52:54:00:AB:cd:ef",
				  &o, &seen),
			 0);
	assert_string_equal(o.path, "/a.img");
	assert_true(o.ro);
	assert_int_equal(o.size, 2 * GiB);
	assert_int_equal(o.queues, 16);
	assert_memory_equal(o.mac, mac, 6);
	assert_true(kv_seen(seen, K_PATH) && kv_seen(seen, K_RO) && kv_seen(seen, K_SIZE) &&
		    kv_seen(seen, K_QUEUES) && kv_seen(seen, K_MAC));
	assert_false(kv_seen(seen, K_FILE));
	assert_false(kv_seen(seen, 64));

	/* Keys not given keep the caller's defaults; off is false. */
	o = (struct opts){.queues = 3, .ro = true};
	assert_int_equal(kv_parse(&spec, "readonly=off", &o, &seen), 0);
	assert_false(o.ro);
	assert_int_equal(o.queues, 3);
	assert_int_equal(seen, 1ULL << K_RO);
	assert_int_equal(kv_parse(&spec, "readonly=off", &o, NULL), 0); /* seen is optional */
}

static void test_bare_and_tail(void **state)
{
	struct opts o = {0};
	uint64_t seen;

	(void)state;
	/* The bare first item is the KV_BARE key's value, alone or followed by keys. */
	assert_int_equal(kv_parse(&spec, "64M", &o, &seen), 0);
	assert_int_equal(o.size, 64 * MiB);
	assert_int_equal(seen, 1ULL << K_SIZE);
	assert_int_equal(kv_parse(&spec, "1G,readonly=on", &o, NULL), 0);
	assert_int_equal(o.size, GiB);
	assert_true(o.ro);
	/* Only the first item can be bare. */
	expect_error(&spec, "readonly=on,1G", "'1G' is not key=value", "want ", "size=", NULL);
	expect_error(&spec, "12Q", "12Q", "expected a size such as 64M or 2G", NULL);

	/* A tail key takes the rest, commas and '=' included. */
	assert_int_equal(kv_parse(&spec, "path=/p,file=/x,y=z,,", &o, &seen), 0);
	assert_string_equal(o.path, "/p");
	assert_string_equal(o.file, "/x,y=z,,");

	/* Bare-only: the value alone, never "mode=". */
	assert_int_equal(kv_parse(&mode_spec, "none", &o, &seen), 0);
	assert_int_equal(o.mode, 1);
	assert_int_equal(seen, 1);
	assert_int_equal(kv_parse(&mode_spec, "file=/var/log/a,b", &o, &seen), 0);
	assert_string_equal(o.file, "/var/log/a,b");
	assert_int_equal(seen, 2);
	expect_error(&mode_spec, "mode=stdio", "unknown key 'mode'", "want file=", NULL);
	expect_error(&mode_spec, "tcp", "expected stdio or none", NULL);
	expect_error(&mode_spec, "", "expected stdio or none", NULL);
}

static void test_duplicates_and_empty_items(void **state)
{
	struct opts o = {0};
	uint64_t seen;

	(void)state;
	/* The last value counts, as for --memory shared=on,shared=off. */
	assert_int_equal(kv_parse(&spec, "readonly=on,readonly=off,path=/a,path=/b", &o, &seen), 0);
	assert_false(o.ro);
	assert_string_equal(o.path, "/b");
	/* Empty items are nothing: a leading, doubled or trailing comma. */
	assert_int_equal(kv_parse(&strict, ",path=/c,,readonly=on,", &o, &seen), 0);
	assert_string_equal(o.path, "/c");
	assert_true(o.ro);
	assert_int_equal(kv_parse(&spec, "", &o, &seen), -EINVAL); /* the bare size, empty */
	assert_int_equal(kv_parse(&spec, ",,,", &o, &seen), -EINVAL);
	o = (struct opts){0};
	seen = 99;
	assert_int_equal(kv_parse(&strict, ",readonly=on", &o, &seen), -EINVAL); /* path missing */
	assert_int_equal(kv_parse(&mode_spec, "none,", &o, &seen), 0);
}

static void test_hostile(void **state)
{
	char *big;
	struct opts o = {0};

	(void)state;
	expect_error(&strict, "=x", "empty key", "want path=, readonly=on|off", NULL);
	expect_error(&strict, "path=/a,=", "empty key", NULL);
	expect_error(&strict, "path", "'path' is not key=value", NULL);
	expect_error(&strict, "path=/a,readonly", "'readonly' is not key=value", NULL);
	expect_error(&strict, "path=/a,color=red", "unknown key 'color'",
		     "(want path=, readonly=on|off)", NULL);
	expect_error(&strict, "PATH=/a", "unknown key 'PATH'", NULL); /* case matters */
	expect_error(&strict, "path =/a", "unknown key 'path '", NULL);
	expect_error(&strict, "readonly=on", "path= is missing", NULL);
	expect_error(&strict, "", "path= is missing", NULL);
	expect_error(&strict, "path=", "path= is empty", NULL);
	expect_error(&strict, "path=/a,readonly=yes", "readonly= wants on or off", NULL);
	expect_error(&strict, "path=/a,readonly=", "readonly= wants on or off", NULL);
	expect_error(&strict, "path=/a,readonly=ON", "readonly= wants on or off", NULL);

	/* Strings: 15 bytes fit path[16], 16 do not. */
	assert_int_equal(kv_parse(&strict, "path=123456789012345", &o, NULL), 0);
	assert_string_equal(o.path, "123456789012345");
	expect_error(&strict, "path=1234567890123456", "path= is longer than 15 bytes", NULL);

	/* Numbers: range, sign, spaces, junk, and a value far longer than any number. */
	expect_error(&spec, "num_queues=0", "num_queues= wants a number from 1 to 16", NULL);
	expect_error(&spec, "num_queues=17", "num_queues= wants a number from 1 to 16", NULL);
	expect_error(&spec, "num_queues=-1", "num_queues=", NULL);
	expect_error(&spec, "num_queues=+1", "num_queues=", NULL);
	expect_error(&spec, "num_queues= 1", "num_queues=", NULL);
	expect_error(&spec, "num_queues=1x", "num_queues=", NULL);
	expect_error(&spec, "num_queues=99999999999999999999999", "num_queues=", NULL);
	expect_error(&spec,
		     "num_queues=000000000000000000000000000000000000000000000000000000000000000000"
		     "000000000000000000001",
		     "num_queues=", NULL);
	expect_error(&spec, "size=0", "size= wants a size such as 64M or 2G", NULL);
	expect_error(&spec, "size=99999999999T", "size=", NULL);

	/* MACs: unicast, six hex pairs, ':' only. */
	static const char *const bad_macs[] = {
	    "mac=01:00:5e:00:00:01",
	    "mac=52:54:00:12:34",
	    "mac=52:54:00:12:34:567",
	    "mac=52-54-00-12-34-56",
	    "mac=52:54:00:12:34: 6",
	    "mac=52:54:00:12:34:5g",
	    "mac=",
	    "mac=5:254:00:12:34:56",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad_macs); i++)
		expect_error(&spec, bad_macs[i], "mac= wants a unicast address", NULL);

	/*
	 * Control characters and a very long argument: still one line, the
	 * argument shortened, nothing read or written out of bounds (ASan).
	 */
	expect_error(&strict, "path=/a\nb,color=red\n", "unknown key 'color'", "path=/a?b", NULL);
	big = malloc(1 << 20);
	assert_non_null(big);
	memset(big, 'a', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	expect_error(&strict, big, "is not key=value", "...", NULL);
	memcpy(big, "path=", 5); /* a 1 MiB path */
	expect_error(&strict, big, "path= is longer than 15 bytes", NULL);
	for (size_t i = 0; i + 12 < (1 << 20); i += 12) /* 87381 items of readonly=on, */
		memcpy(big + i, "readonly=on,", 12);
	big[(1 << 20) - 1 - ((1 << 20) - 1) % 12] = '\0';
	assert_int_equal(kv_parse(&spec, big, &o, NULL), 0);
	assert_true(o.ro);
	free(big);
}

static void test_custom_messages(void **state)
{
	static const struct kv_key k[] = {
	    {.name = "tap",
	     .type = KV_STR,
	     KV_FIELD(struct opts, path),
	     .expect = "tap= needs a name of 1 to 15 characters"},
	};
	static const struct kv_spec s = {"--net", k, ARRAY_SIZE(k), NULL};
	static const struct kv_spec u = {"--serial", mode_keys, ARRAY_SIZE(mode_keys),
					 "expected stdio, file=PATH or none"};
	char err[512];
	struct opts o;

	(void)state;
	expect_error(&s, "tap=", "invalid --net 'tap=': tap= needs a name of 1 to 15 characters",
		     NULL);
	expect_error(&s, "tap=0123456789abcdef", "tap= needs a name of 1 to 15 characters", NULL);
	expect_error(&u, "bogus=1", "invalid --serial 'bogus=1': expected stdio, file=PATH or none",
		     NULL);
	/* kv_error: the same one-line form for checks that span keys. */
	assert_int_equal(parse_capture(&s, "tap=ok", &o, NULL, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void test_bad_tables(void **state)
{
	struct opts o = {0};
	/* A bool key over a 16-byte field: the table is wrong, refused. */
	static const struct kv_key wrong_size[] = {
	    {.name = "path", .type = KV_BOOL, KV_FIELD(struct opts, path)},
	};
	static const struct kv_key two_bare[] = {
	    {.name = "a", .type = KV_BOOL, .flags = KV_BARE, KV_FIELD(struct opts, ro)},
	    {.name = "b", .type = KV_SIZE, .flags = KV_BARE, KV_FIELD(struct opts, size)},
	};
	static const struct kv_key bad_range[] = {
	    {.name = "n", .type = KV_UINT, KV_FIELD(struct opts, queues), .min = 5, .max = 1},
	};
	const struct kv_spec specs[] = {
	    {"--a", wrong_size, ARRAY_SIZE(wrong_size), NULL},
	    {"--b", two_bare, ARRAY_SIZE(two_bare), NULL},
	    {"--c", bad_range, ARRAY_SIZE(bad_range), NULL},
	    {"--d", keys, KV_MAX_KEYS + 1, NULL},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(specs); i++)
		assert_int_equal(kv_parse(&specs[i], "x=1", &o, NULL), -EINVAL);
	assert_int_equal(kv_parse(NULL, "x", &o, NULL), -EINVAL);
	assert_int_equal(kv_parse(&spec, NULL, &o, NULL), -EINVAL);
}

static void test_mac(void **state)
{
	uint8_t mac[6];

	(void)state;
	assert_int_equal(kv_parse_mac("02:00:00:00:00:ff", 17, mac), 0);
	assert_int_equal(mac[0], 2);
	assert_int_equal(mac[5], 0xff);
	assert_int_equal(kv_parse_mac("03:00:00:00:00:ff", 17, mac), -EINVAL); /* multicast */
	assert_int_equal(kv_parse_mac("02:00:00:00:00:ff", 16, mac), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_types),
	    cmocka_unit_test(test_bare_and_tail),
	    cmocka_unit_test(test_duplicates_and_empty_items),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_custom_messages),
	    cmocka_unit_test(test_bad_tables),
	    cmocka_unit_test(test_mac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
