/* SPDX-License-Identifier: MIT */
/*
 * PIO and MMIO buses. A device registers address ranges with an ops struct;
 * the vCPU exit path looks the address up (binary search over ranges kept
 * sorted, so O(log n)) and calls the device with the offset into its range.
 * Overlapping registrations are rejected.
 *
 * Handlers run on vCPU threads, possibly several at once, with the bus read
 * lock held: a device protects its own state; it must not (un)register
 * ranges from inside a handler on the same bus.
 */
#ifndef SLUICE_BUS_H
#define SLUICE_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus_dev_ops {
	/* Fill data[0..len) for a read at offset (from the range base). */
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_dev_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name; /* "pio" or "mmio", for messages */
	pthread_rwlock_t lock;
	struct bus_range *ranges; /* sorted by base, non-overlapping */
	size_t nr, cap;
};

int bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);

/* -EINVAL for len 0 or a wrapping range, -EEXIST if it overlaps another. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_dev_ops *ops,
		 void *opaque, const char *name);
/* Remove the range that starts at base; -ENOENT if there is none. */
int bus_unregister(struct bus *bus, uint64_t base);

/*
 * Dispatch an access. Returns false if no device claims [addr, addr+len)
 * entirely (the caller decides: reads of nothing return all-ones).
 */
bool bus_read(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len);
bool bus_write(struct bus *bus, uint64_t addr, const uint8_t *data, uint32_t len);

#endif
