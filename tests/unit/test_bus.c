/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus.h"

/* What a device saw. */
struct dev {
	int id;
	unsigned reads, writes;
	uint64_t offset;
	uint32_t len;
	uint8_t wdata[8];
};

static void dev_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct dev *d = opaque;

	d->reads++;
	d->offset = offset;
	d->len = len;
	/* Encode who answered and where, so the caller can check both. */
	for (uint32_t i = 0; i < len; i++)
		data[i] = (uint8_t)(d->id + offset + i);
}

static void dev_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct dev *d = opaque;

	d->writes++;
	d->offset = offset;
	d->len = len;
	memcpy(d->wdata, data, len < sizeof(d->wdata) ? len : sizeof(d->wdata));
}

static const struct bus_dev_ops dev_ops = {.read = dev_read, .write = dev_write};

static int setup(void **state)
{
	struct bus *bus = calloc(1, sizeof(*bus));

	if (!bus || bus_init(bus, "test")) {
		free(bus);
		return -1;
	}
	*state = bus;
	return 0;
}

static int teardown(void **state)
{
	bus_destroy(*state);
	free(*state);
	return 0;
}

/* True if a 1-byte read at addr reaches device d. */
static bool hits(struct bus *bus, uint64_t addr, struct dev *d)
{
	unsigned before = d->reads;
	uint8_t b;

	return bus_read(bus, addr, &b, 1) && d->reads == before + 1;
}

static void test_lookup_edges(void **state)
{
	struct bus *bus = *state;
	struct dev d = {.id = 0x10};
	uint8_t buf[4];

	assert_int_equal(bus_register(bus, 0x3f8, 8, &dev_ops, &d, "uart"), 0);
	assert_true(hits(bus, 0x3f8, &d));
	assert_int_equal(d.offset, 0);
	assert_true(hits(bus, 0x3ff, &d));
	assert_int_equal(d.offset, 7);
	assert_false(hits(bus, 0x3f7, &d));
	assert_false(hits(bus, 0x400, &d));

	/* Multi-byte accesses: the whole access must be inside. */
	assert_true(bus_read(bus, 0x3fc, buf, 4));
	assert_int_equal(d.offset, 4);
	assert_int_equal(d.len, 4);
	assert_int_equal(buf[0], 0x10 + 4);
	assert_int_equal(buf[3], 0x10 + 7);
	assert_false(bus_read(bus, 0x3fd, buf, 4)); /* straddles the end */
	assert_false(bus_read(bus, 0x3f6, buf, 4)); /* straddles the start */
	assert_false(bus_read(bus, 0x3f8, buf, 0)); /* zero length */
	assert_false(bus_write(bus, 0x3fe, buf, 4));
	assert_int_equal(d.writes, 0);
}

static void test_offsets_relative(void **state)
{
	struct bus *bus = *state;
	struct dev a = {.id = 1}, b = {.id = 2};
	const uint8_t w[4] = {0xde, 0xad, 0xbe, 0xef};
	uint8_t buf[2];

	assert_int_equal(bus_register(bus, 0xfee00000ULL, 0x1000, &dev_ops, &a, "a"), 0);
	assert_int_equal(bus_register(bus, 0xfec00000ULL, 0x100, &dev_ops, &b, "b"), 0);

	assert_true(bus_write(bus, 0xfee00300ULL, w, 4));
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.offset, 0x300);
	assert_int_equal(a.len, 4);
	assert_memory_equal(a.wdata, w, 4);
	assert_int_equal(b.writes, 0);

	assert_true(bus_read(bus, 0xfec00010ULL, buf, 2));
	assert_int_equal(b.offset, 0x10);
	assert_int_equal(buf[0], 2 + 0x10);
	assert_int_equal(a.reads, 0);
}

static void test_nothing_there(void **state)
{
	struct bus *bus = *state;
	struct dev d = {.id = 3};
	uint8_t buf[4] = {1, 2, 3, 4};

	assert_false(bus_read(bus, 0, buf, 4));
	assert_false(bus_write(bus, 0, buf, 4));
	assert_int_equal(bus_register(bus, 0x100, 0x10, &dev_ops, &d, "d"), 0);
	assert_false(bus_read(bus, 0x80, buf, 4));
	assert_false(bus_read(bus, 0x110, buf, 4));
	assert_false(bus_read(bus, UINT64_MAX, buf, 1));
	assert_int_equal(d.reads, 0);
}

static void test_missing_handlers(void **state)
{
	struct bus *bus = *state;
	static const struct bus_dev_ops none = {0};
	uint8_t buf[4] = {0};

	/* A range with no read handler is claimed and reads as all-ones. */
	assert_int_equal(bus_register(bus, 0x80, 1, &none, NULL, "post"), 0);
	assert_true(bus_read(bus, 0x80, buf, 1));
	assert_int_equal(buf[0], 0xff);
	assert_true(bus_write(bus, 0x80, buf, 1));
	/* ops itself is required. */
	assert_int_equal(bus_register(bus, 0x90, 1, NULL, NULL, "null"), -EINVAL);
}

static void test_overlaps(void **state)
{
	struct bus *bus = *state;
	struct dev d = {0};
	static const struct {
		uint64_t base, len;
		int ret;
		const char *what;
	} cases[] = {
	    {0x1100, 0x10, -EEXIST, "inside"},
	    {0x1000, 0x1000, -EEXIST, "identical"},
	    {0x1000, 1, -EEXIST, "first byte"},
	    {0x1fff, 1, -EEXIST, "last byte"},
	    {0x800, 0x2000, -EEXIST, "covering"},
	    {0xf00, 0x101, -EEXIST, "left overlap by one byte"},
	    {0x1fff, 0x100, -EEXIST, "right overlap by one byte"},
	    {0x2f00, 0x200, -EEXIST, "overlapping the second range"},
	    {0x1f00, 0x1200, -EEXIST, "spanning the gap into both"},
	    {0, UINT64_MAX, -EEXIST, "everything"},
	    {0xf00, 0x100, 0, "adjacent left"},
	    {0x2000, 0x100, 0, "adjacent right"},
	    {0x2100, 0xf00, 0, "filling the gap exactly"},
	};

	assert_int_equal(bus_register(bus, 0x1000, 0x1000, &dev_ops, &d, "a"), 0);
	assert_int_equal(bus_register(bus, 0x3000, 0x1000, &dev_ops, &d, "b"), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret =
		    bus_register(bus, cases[i].base, cases[i].len, &dev_ops, &d, cases[i].what);
		if (ret != cases[i].ret)
			fail_msg("%s: got %d, want %d", cases[i].what, ret, cases[i].ret);
	}
	assert_int_equal(bus->nr, 5);
	/* Rejections left nothing behind. */
	assert_false(hits(bus, 0x800, &d));
	assert_false(hits(bus, 0x4000, &d));
	/* Now everything in [0xf00, 0x4000) is claimed and nothing more fits. */
	for (uint64_t a = 0xf00; a < 0x4000; a += 0x80)
		assert_true(hits(bus, a, &d));
	assert_int_equal(bus_register(bus, 0xeff, 2, &dev_ops, &d, "x"), -EEXIST);
	assert_int_equal(bus_register(bus, 0x3fff, 2, &dev_ops, &d, "x"), -EEXIST);
}

static void test_invalid_ranges(void **state)
{
	struct bus *bus = *state;
	struct dev d = {0};
	uint8_t buf[4];

	assert_int_equal(bus_register(bus, 0x100, 0, &dev_ops, &d, "zero"), -EINVAL);
	assert_int_equal(bus_register(bus, UINT64_MAX - 0xf, 0x11, &dev_ops, &d, "wrap"), -EINVAL);
	assert_int_equal(bus_register(bus, UINT64_MAX, 2, &dev_ops, &d, "wrap"), -EINVAL);
	assert_int_equal(bus_register(bus, 2, UINT64_MAX, &dev_ops, &d, "wrap"), -EINVAL);
	assert_int_equal(bus->nr, 0);

	/* Ending exactly at the top of the address space is fine. */
	assert_int_equal(bus_register(bus, UINT64_MAX - 0xf, 0x10, &dev_ops, &d, "top"), 0);
	assert_true(hits(bus, UINT64_MAX, &d));
	assert_int_equal(d.offset, 0xf);
	/* An access that would wrap past the top is not claimed. */
	assert_false(bus_read(bus, UINT64_MAX - 1, buf, 4));
	assert_true(bus_read(bus, UINT64_MAX - 3, buf, 4));
}

static void test_unregister(void **state)
{
	struct bus *bus = *state;
	struct dev a = {.id = 1}, b = {.id = 2};

	assert_int_equal(bus_register(bus, 0x60, 1, &dev_ops, &a, "a"), 0);
	assert_int_equal(bus_register(bus, 0x64, 1, &dev_ops, &b, "b"), 0);
	assert_int_equal(bus_unregister(bus, 0x61), -ENOENT);
	assert_int_equal(bus_unregister(bus, 0x63), -ENOENT);
	assert_int_equal(bus_unregister(bus, 0x60), 0);
	assert_false(hits(bus, 0x60, &a));
	assert_true(hits(bus, 0x64, &b));
	assert_int_equal(bus_unregister(bus, 0x60), -ENOENT);
	/* The space is free again, for anyone. */
	assert_int_equal(bus_register(bus, 0x60, 4, &dev_ops, &b, "b2"), 0);
	assert_true(hits(bus, 0x63, &b));
	assert_int_equal(bus_unregister(bus, 0x64), 0);
	assert_int_equal(bus_unregister(bus, 0x60), 0);
	assert_int_equal(bus->nr, 0);
	assert_int_equal(bus_unregister(bus, 0x60), -ENOENT);
}

/* Deterministic, so a failure reproduces. */
static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#define NR_MANY 1000
#define STRIDE	0x1000ULL

/* Range i is [i*STRIDE, i*STRIDE + len(i)): gaps of varying size between. */
static uint64_t many_len(unsigned i)
{
	return 1 + (i * 37) % (STRIDE - 1);
}

/* Check every range's edges and the gaps, against `present`. */
static void check_many(struct bus *bus, struct dev *devs, const bool *present, uint64_t *seed)
{
	for (unsigned i = 0; i < NR_MANY; i++) {
		uint64_t base = i * STRIDE, len = many_len(i);
		uint64_t inner = base + xorshift(seed) % len;

		assert_int_equal(hits(bus, base, &devs[i]), present[i]);
		assert_int_equal(hits(bus, base + len - 1, &devs[i]), present[i]);
		assert_int_equal(hits(bus, inner, &devs[i]), present[i]);
		if (present[i]) {
			assert_int_equal(devs[i].offset, inner - base);
		}
		/* The gap after each range belongs to nobody. */
		if (len < STRIDE) {
			uint8_t b;
			assert_false(bus_read(bus, base + len, &b, 1));
		}
	}
}

static void test_many_random_order(void **state)
{
	struct bus *bus = *state;
	struct dev *devs = calloc(NR_MANY, sizeof(*devs));
	unsigned order[NR_MANY];
	bool present[NR_MANY];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	assert_non_null(devs);
	for (unsigned i = 0; i < NR_MANY; i++) {
		order[i] = i;
		devs[i].id = (int)i;
		present[i] = true;
	}
	for (unsigned i = NR_MANY - 1; i > 0; i--) {
		unsigned j = (unsigned)(xorshift(&seed) % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned k = 0; k < NR_MANY; k++) {
		unsigned i = order[k];
		assert_int_equal(
		    bus_register(bus, i * STRIDE, many_len(i), &dev_ops, &devs[i], "m"), 0);
	}
	assert_int_equal(bus->nr, NR_MANY);
	for (size_t k = 1; k < bus->nr; k++)
		assert_true(bus->ranges[k - 1].base < bus->ranges[k].base);
	check_many(bus, devs, present, &seed);

	/* Every range collides with a copy of itself shifted by one byte. */
	for (unsigned i = 0; i < NR_MANY; i += 97)
		assert_int_equal(
		    bus_register(bus, i * STRIDE + 1, many_len(i), &dev_ops, &devs[i], "dup"),
		    many_len(i) > 1 ? -EEXIST : 0);
	for (unsigned i = 0; i < NR_MANY; i += 97)
		if (many_len(i) == 1)
			assert_int_equal(bus_unregister(bus, i * STRIDE + 1), 0);

	/* Remove half of them, in another random order, and check again. */
	for (unsigned k = 0; k < NR_MANY; k += 2) {
		unsigned i = order[(k * 7) % NR_MANY];
		if (!present[i])
			continue;
		assert_int_equal(bus_unregister(bus, i * STRIDE), 0);
		present[i] = false;
	}
	check_many(bus, devs, present, &seed);
	free(devs);
}

/* Stateless, so several vCPU threads may call it at once. */
static void const_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	const int *id = opaque;

	for (uint32_t i = 0; i < len; i++)
		data[i] = (uint8_t)(*id + offset + i);
}

static const struct bus_dev_ops const_ops = {.read = const_read};

struct reader_arg {
	struct bus *bus;
	bool ok;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	uint8_t buf[2];

	a->ok = true;
	for (int i = 0; i < 20000; i++) {
		if (!bus_read(a->bus, 0x10002, buf, 2) || buf[0] != 0x42 || buf[1] != 0x43)
			a->ok = false;
	}
	return NULL;
}

/* Lookups from several threads while other ranges come and go. */
static void test_concurrent(void **state)
{
	struct bus *bus = *state;
	static const int fixed_id = 0x40, other_id = 0x50;
	struct reader_arg args[4];
	pthread_t th[4];

	assert_int_equal(bus_register(bus, 0x10000, 0x10, &const_ops, (void *)&fixed_id, "fixed"),
			 0);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct reader_arg){bus, false};
		assert_int_equal(pthread_create(&th[i], NULL, reader, &args[i]), 0);
	}
	for (int i = 0; i < 2000; i++) {
		/* Below and above the fixed range, so it moves in the array. */
		uint64_t base = (i % 2) ? 0x100 * (uint64_t)(i % 64) : 0x20000 + 0x10 * (uint64_t)i;
		assert_int_equal(
		    bus_register(bus, base, 0x10, &const_ops, (void *)&other_id, "churn"), 0);
		if (i % 2 || i % 3) /* keep some, spread out above */
			assert_int_equal(bus_unregister(bus, base), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(args[i].ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lookup_edges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_offsets_relative, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nothing_there, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_handlers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlaps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_ranges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unregister, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_random_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
