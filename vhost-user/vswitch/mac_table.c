/* SPDX-License-Identifier: MIT */
#include "mac_table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

struct mac_slot {
	uint64_t word; /* 0 = never used; else mac << 16 | (port + 1) */
	uint64_t seen; /* last-seen time; 0 = dead (aged or flushed) */
};

struct mac_table {
	uint32_t mask;
	uint32_t probe;
	unsigned bits;
	uint64_t max_age;
	uint64_t refresh; /* re-stamp only this much later: spares the cache line */
	struct mac_slot *slots;
};

static uint64_t mac_key(const uint8_t mac[6])
{
	return (uint64_t)mac[0] << 40 | (uint64_t)mac[1] << 32 | (uint64_t)mac[2] << 24 |
	       (uint64_t)mac[3] << 16 | (uint64_t)mac[4] << 8 | mac[5];
}

static void mac_unkey(uint64_t key, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++)
		mac[i] = key >> (40 - 8 * i);
}

static uint32_t slot_of(const struct mac_table *t, uint64_t key)
{
	/* Fibonacci hashing: the top bits of key * 2^64/phi spread sequential MACs. */
	return (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> (64 - t->bits)) & t->mask;
}

static bool slot_dead(const struct mac_table *t, uint64_t seen, uint64_t now)
{
	return seen == 0 || (now > seen && now - seen > t->max_age);
}

int mac_table_create(uint32_t nr_slots, uint64_t max_age, struct mac_table **out)
{
	struct mac_table *t;
	unsigned bits = 4;

	if (nr_slots > (1u << 24) || max_age == 0)
		return -EINVAL;
	while ((1u << bits) < nr_slots)
		bits++;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->slots = calloc(1u << bits, sizeof(*t->slots));
	if (t->slots == NULL) {
		free(t);
		return -ENOMEM;
	}
	t->bits = bits;
	t->mask = (1u << bits) - 1;
	t->probe = MAC_TABLE_PROBE;
	t->max_age = max_age;
	t->refresh = max_age / 8;
	*out = t;
	return 0;
}

void mac_table_destroy(struct mac_table *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

uint32_t mac_table_home(const struct mac_table *t, const uint8_t mac[6])
{
	return slot_of(t, mac_key(mac));
}

uint32_t mac_table_size(const struct mac_table *t)
{
	return t->mask + 1;
}

static void stamp(struct mac_slot *s, uint64_t now)
{
	__atomic_store_n(&s->seen, now ? now : 1, __ATOMIC_RELEASE);
}

static bool claim(struct mac_slot *s, uint64_t old, uint64_t word, uint64_t now)
{
	if (!__atomic_compare_exchange_n(&s->word, &old, word, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return false;
	stamp(s, now);
	return true;
}

int mac_table_learn(struct mac_table *t, const uint8_t mac[6], uint16_t port, uint64_t now)
{
	uint64_t key = mac_key(mac);
	uint64_t word = key << 16 | ((uint64_t)port + 1);
	uint32_t home = slot_of(t, key);

	if (port > MAC_TABLE_MAX_PORT)
		return -EINVAL;
	/* A lost race (another lcore took the slot we wanted) means look again. */
	for (int attempt = 0; attempt < 4; attempt++) {
		struct mac_slot *spare = NULL;
		uint64_t spare_word = 0;
		bool lost = false;

		for (uint32_t i = 0; i < t->probe && !lost; i++) {
			struct mac_slot *s = &t->slots[(home + i) & t->mask];
			uint64_t w = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);

			if (w == 0) {
				/* End of the chain: the MAC is not in the table. */
				if (spare != NULL ? claim(spare, spare_word, word, now)
						  : claim(s, 0, word, now))
					return 0;
				lost = true;
				break;
			}
			if (w >> 16 == key) {
				uint64_t seen = __atomic_load_n(&s->seen, __ATOMIC_ACQUIRE);

				if (w != word) /* moved: a failed CAS means someone else moved it */
					__atomic_compare_exchange_n(&s->word, &w, word, false,
								    __ATOMIC_ACQ_REL,
								    __ATOMIC_ACQUIRE);
				if (w != word || slot_dead(t, seen, now) ||
				    (now > seen && now - seen > t->refresh))
					stamp(s, now);
				return 0;
			}
			if (spare == NULL &&
			    slot_dead(t, __atomic_load_n(&s->seen, __ATOMIC_ACQUIRE), now)) {
				spare = s;
				spare_word = w;
			}
		}
		if (!lost) {
			if (spare == NULL)
				return -ENOSPC;
			if (claim(spare, spare_word, word, now))
				return 0;
		}
	}
	return -ENOSPC;
}

int mac_table_lookup(const struct mac_table *t, const uint8_t mac[6], uint64_t now)
{
	uint64_t key = mac_key(mac);
	uint32_t home = slot_of(t, key);

	for (uint32_t i = 0; i < t->probe; i++) {
		const struct mac_slot *s = &t->slots[(home + i) & t->mask];
		uint64_t w = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);

		if (w == 0)
			return -ENOENT;
		if (w >> 16 == key) {
			if (slot_dead(t, __atomic_load_n(&s->seen, __ATOMIC_ACQUIRE), now))
				return -ENOENT;
			return (int)(w & 0xffff) - 1;
		}
	}
	return -ENOENT;
}

void mac_table_flush_port(struct mac_table *t, uint16_t port)
{
	for (uint32_t i = 0; i <= t->mask; i++) {
		struct mac_slot *s = &t->slots[i];
		uint64_t w = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);

		if (w != 0 && (w & 0xffff) == (uint64_t)port + 1)
			__atomic_store_n(&s->seen, 0, __ATOMIC_RELEASE);
	}
}

unsigned mac_table_walk(const struct mac_table *t, uint64_t now, mac_table_visit_fn fn, void *arg)
{
	unsigned n = 0;

	for (uint32_t i = 0; i <= t->mask; i++) {
		const struct mac_slot *s = &t->slots[i];
		uint64_t w = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);
		uint64_t seen = __atomic_load_n(&s->seen, __ATOMIC_ACQUIRE);
		uint8_t mac[6];

		if (w == 0 || slot_dead(t, seen, now))
			continue;
		n++;
		if (fn != NULL) {
			mac_unkey(w >> 16, mac);
			fn(arg, mac, (uint16_t)((w & 0xffff) - 1), now > seen ? now - seen : 0);
		}
	}
	return n;
}
