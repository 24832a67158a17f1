/* SPDX-License-Identifier: MIT */
/* sluice-vswitch's MAC table: learning, moves, aging, a full table, collisions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mac_table.h"

#define AGE 1000

static void mac_of(uint32_t n, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x00;
	mac[2] = n >> 24;
	mac[3] = n >> 16;
	mac[4] = n >> 8;
	mac[5] = n;
}

/* Find count MACs whose home slot is home (brute force over the MAC space). */
static void colliding(const struct mac_table *t, uint32_t home, uint8_t macs[][6], int count)
{
	int found = 0;

	for (uint32_t n = 1; found < count && n < 10000000; n++) {
		mac_of(n, macs[found]);
		if (mac_table_home(t, macs[found]) == home)
			found++;
	}
	assert_int_equal(found, count);
}

static void test_learn_lookup(void **state)
{
	struct mac_table *t;
	uint8_t a[6], b[6], c[6];

	(void)state;
	assert_int_equal(mac_table_create(64, AGE, &t), 0);
	mac_of(1, a);
	mac_of(2, b);
	mac_of(3, c);
	assert_int_equal(mac_table_lookup(t, a, 10), -ENOENT);
	assert_int_equal(mac_table_learn(t, a, 0, 10), 0);
	assert_int_equal(mac_table_learn(t, b, 7, 10), 0);
	assert_int_equal(mac_table_lookup(t, a, 11), 0);
	assert_int_equal(mac_table_lookup(t, b, 11), 7);
	assert_int_equal(mac_table_lookup(t, c, 11), -ENOENT);
	/* Learning again is a refresh, not a second entry. */
	assert_int_equal(mac_table_learn(t, a, 0, 12), 0);
	assert_int_equal(mac_table_walk(t, 12, NULL, NULL), 2);
	/* A MAC seen on another port moves. */
	assert_int_equal(mac_table_learn(t, a, 3, 13), 0);
	assert_int_equal(mac_table_lookup(t, a, 14), 3);
	assert_int_equal(mac_table_walk(t, 14, NULL, NULL), 2);
	assert_int_equal(mac_table_learn(t, c, MAC_TABLE_MAX_PORT + 1, 14), -EINVAL);
	assert_int_equal(mac_table_learn(t, c, MAC_TABLE_MAX_PORT, 14), 0);
	assert_int_equal(mac_table_lookup(t, c, 14), MAC_TABLE_MAX_PORT);
	mac_table_destroy(t);
}

static void test_aging(void **state)
{
	struct mac_table *t;
	uint8_t a[6], b[6];

	(void)state;
	assert_int_equal(mac_table_create(64, AGE, &t), 0);
	mac_of(1, a);
	mac_of(2, b);
	assert_int_equal(mac_table_learn(t, a, 1, 100), 0);
	assert_int_equal(mac_table_learn(t, b, 2, 100), 0);
	assert_int_equal(mac_table_lookup(t, a, 100 + AGE), 1);
	/* b keeps being seen; a does not. */
	assert_int_equal(mac_table_learn(t, b, 2, 100 + AGE), 0);
	assert_int_equal(mac_table_lookup(t, a, 101 + AGE), -ENOENT);
	assert_int_equal(mac_table_lookup(t, b, 101 + AGE), 2);
	assert_int_equal(mac_table_walk(t, 101 + AGE, NULL, NULL), 1);
	/* Refreshes are rate-limited to age/8, but an entry seen within that
	 * window still survives a full age from its last refresh. */
	assert_int_equal(mac_table_lookup(t, b, 100 + 2 * AGE), 2);
	assert_int_equal(mac_table_lookup(t, b, 101 + 2 * AGE), -ENOENT);
	/* An aged MAC is learned again, on whatever port it shows up. */
	assert_int_equal(mac_table_learn(t, a, 5, 3000), 0);
	assert_int_equal(mac_table_lookup(t, a, 3000), 5);
	mac_table_destroy(t);
}

static void test_flush_port(void **state)
{
	struct mac_table *t;
	uint8_t m[6][6];

	(void)state;
	assert_int_equal(mac_table_create(64, AGE, &t), 0);
	for (int i = 0; i < 6; i++) {
		mac_of(100 + i, m[i]);
		assert_int_equal(mac_table_learn(t, m[i], i % 2, 1), 0);
	}
	mac_table_flush_port(t, 1);
	for (int i = 0; i < 6; i++)
		assert_int_equal(mac_table_lookup(t, m[i], 2), i % 2 ? -ENOENT : 0);
	assert_int_equal(mac_table_walk(t, 2, NULL, NULL), 3);
	mac_table_destroy(t);
}

static void test_collisions(void **state)
{
	struct mac_table *t;
	uint8_t m[8][6];

	(void)state;
	assert_int_equal(mac_table_create(64, AGE, &t), 0);
	colliding(t, 5, m, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(mac_table_learn(t, m[i], i, 1), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(mac_table_lookup(t, m[i], 2), i);
	/* A MAC whose home is one of the slots the chain spilled into. */
	uint8_t other[1][6];
	colliding(t, 7, other, 1);
	assert_int_equal(mac_table_learn(t, other[0], 42, 2), 0);
	assert_int_equal(mac_table_lookup(t, other[0], 3), 42);
	/* Aging the head of the chain does not hide the rest. */
	for (int i = 1; i < 8; i++)
		assert_int_equal(mac_table_learn(t, m[i], i, 900), 0);
	assert_int_equal(mac_table_lookup(t, m[0], 1003), -ENOENT);
	for (int i = 1; i < 8; i++)
		assert_int_equal(mac_table_lookup(t, m[i], 1003), i);
	assert_int_equal(mac_table_lookup(t, other[0], 1003), -ENOENT);
	mac_table_destroy(t);
}

static void test_table_full(void **state)
{
	struct mac_table *t;
	uint8_t m[MAC_TABLE_PROBE + 2][6];

	(void)state;
	/* The smallest table is exactly one probe window: it fills completely. */
	assert_int_equal(mac_table_create(1, AGE, &t), 0);
	assert_int_equal(mac_table_size(t), MAC_TABLE_PROBE);
	for (int i = 0; i < MAC_TABLE_PROBE + 2; i++)
		mac_of(500 + i, m[i]);
	for (int i = 0; i < MAC_TABLE_PROBE; i++)
		assert_int_equal(mac_table_learn(t, m[i], i, 10), 0);
	assert_int_equal(mac_table_learn(t, m[MAC_TABLE_PROBE], 1, 10), -ENOSPC);
	assert_int_equal(mac_table_lookup(t, m[MAC_TABLE_PROBE], 10), -ENOENT);
	/* Everything learned before is still there; refreshes still work. */
	for (int i = 0; i < MAC_TABLE_PROBE; i++) {
		assert_int_equal(mac_table_lookup(t, m[i], 11), i);
		assert_int_equal(mac_table_learn(t, m[i], i, 11), 0);
	}
	/* Once an entry ages out, its slot is reused. */
	for (int i = 1; i < MAC_TABLE_PROBE; i++)
		assert_int_equal(mac_table_learn(t, m[i], i, 600), 0);
	assert_int_equal(mac_table_learn(t, m[MAC_TABLE_PROBE], 3, 1100), 0);
	assert_int_equal(mac_table_lookup(t, m[MAC_TABLE_PROBE], 1100), 3);
	assert_int_equal(mac_table_lookup(t, m[0], 1100), -ENOENT);
	assert_int_equal(mac_table_learn(t, m[MAC_TABLE_PROBE + 1], 4, 1100), -ENOSPC);
	/* A flushed port frees its slots too. */
	mac_table_flush_port(t, 5);
	assert_int_equal(mac_table_learn(t, m[MAC_TABLE_PROBE + 1], 4, 1100), 0);
	assert_int_equal(mac_table_lookup(t, m[MAC_TABLE_PROBE + 1], 1100), 4);
	assert_int_equal(mac_table_lookup(t, m[5], 1100), -ENOENT);
	mac_table_destroy(t);
}

struct walk_seen {
	int n;
	uint16_t port[4];
	uint64_t age[4];
	uint8_t mac[4][6];
};

static void walk_cb(void *arg, const uint8_t mac[6], uint16_t port, uint64_t age)
{
	struct walk_seen *w = arg;

	assert_true(w->n < 4);
	memcpy(w->mac[w->n], mac, 6);
	w->port[w->n] = port;
	w->age[w->n] = age;
	w->n++;
}

static void test_walk(void **state)
{
	struct mac_table *t;
	struct walk_seen w = {0};
	uint8_t a[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

	(void)state;
	assert_int_equal(mac_table_create(64, AGE, &t), 0);
	assert_int_equal(mac_table_learn(t, a, 9, 50), 0);
	assert_int_equal(mac_table_walk(t, 80, walk_cb, &w), 1);
	assert_int_equal(w.n, 1);
	assert_memory_equal(w.mac[0], a, 6);
	assert_int_equal(w.port[0], 9);
	assert_int_equal(w.age[0], 30);
	mac_table_destroy(t);
}

static void test_bad_create(void **state)
{
	struct mac_table *t = NULL;

	(void)state;
	assert_int_equal(mac_table_create(64, 0, &t), -EINVAL);
	assert_int_equal(mac_table_create(1u << 30, 10, &t), -EINVAL);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_learn_lookup), cmocka_unit_test(test_aging),
	    cmocka_unit_test(test_flush_port),	 cmocka_unit_test(test_collisions),
	    cmocka_unit_test(test_table_full),	 cmocka_unit_test(test_walk),
	    cmocka_unit_test(test_bad_create),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
