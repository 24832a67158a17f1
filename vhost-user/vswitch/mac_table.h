/* SPDX-License-Identifier: MIT */
/*
 * The learning switch's MAC table: MAC address -> port, with aging.
 *
 * Shared by every forwarding lcore with no lock: each slot is one 64-bit word
 * (48-bit MAC << 16 | port + 1) claimed and updated with compare-and-swap, plus
 * a last-seen stamp. Open addressing with a bounded probe window; a slot that
 * was ever used never becomes empty again (an aged or flushed entry is only
 * reused), so a probe chain is never cut. The races this allows are benign for
 * a switch: a lookup racing a move or a reuse returns "unknown" (the frame is
 * flooded) or the previous port for one frame.
 *
 * Time is whatever unit the caller uses (the switch passes TSC cycles); no
 * DPDK here, so the table is unit-tested on its own.
 */
#ifndef SLUICE_VSW_MAC_TABLE_H
#define SLUICE_VSW_MAC_TABLE_H

#include <stdint.h>

#define MAC_TABLE_MAX_PORT 0xfffe
#define MAC_TABLE_PROBE	   16 /* slots looked at from a MAC's home slot */

struct mac_table;

/*
 * nr_slots is rounded up to a power of two (at least MAC_TABLE_PROBE). An entry
 * not seen for more than max_age time units is gone.
 */
int mac_table_create(uint32_t nr_slots, uint64_t max_age, struct mac_table **out);
void mac_table_destroy(struct mac_table *t);

/*
 * Record that mac was seen on port at time now (learn, refresh, or move).
 * 0, -ENOSPC when every slot of the MAC's probe window holds a live entry of
 * another MAC, -EINVAL for a port above MAC_TABLE_MAX_PORT.
 */
int mac_table_learn(struct mac_table *t, const uint8_t mac[6], uint16_t port, uint64_t now);

/* The port mac was last seen on, or -ENOENT (never seen, aged out, flushed). */
int mac_table_lookup(const struct mac_table *t, const uint8_t mac[6], uint64_t now);

/* Forget every entry on port (the port went down). */
void mac_table_flush_port(struct mac_table *t, uint16_t port);

/* Call fn for each live entry; returns how many there were. */
typedef void (*mac_table_visit_fn)(void *arg, const uint8_t mac[6], uint16_t port, uint64_t age);
unsigned mac_table_walk(const struct mac_table *t, uint64_t now, mac_table_visit_fn fn, void *arg);

/* The home slot of mac (tests use it to build collisions). */
uint32_t mac_table_home(const struct mac_table *t, const uint8_t mac[6]);
uint32_t mac_table_size(const struct mac_table *t);

#endif
