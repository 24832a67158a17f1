/* SPDX-License-Identifier: MIT */
#include "bus.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	return -pthread_rwlock_init(&bus->lock, NULL);
}

void bus_destroy(struct bus *bus)
{
	free(bus->ranges);
	pthread_rwlock_destroy(&bus->lock);
	memset(bus, 0, sizeof(*bus));
}

/* Index of the first range whose base is > addr. */
static size_t upper_bound(const struct bus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_dev_ops *ops,
		 void *opaque, const char *name)
{
	uint64_t last;
	size_t i;
	int ret = 0;

	if (!name)
		name = "(unnamed)";
	if (len == 0 || __builtin_add_overflow(base, len - 1, &last) || !ops) {
		log_err("%s bus: invalid range for %s", bus->name, name);
		return -EINVAL;
	}
	pthread_rwlock_wrlock(&bus->lock);
	i = upper_bound(bus, base);
	/* The previous range must end before base; the next must start after last. */
	if ((i > 0 && bus->ranges[i - 1].base + (bus->ranges[i - 1].len - 1) >= base) ||
	    (i < bus->nr && bus->ranges[i].base <= last)) {
		const struct bus_range *o =
		    (i > 0 && bus->ranges[i - 1].base + (bus->ranges[i - 1].len - 1) >= base)
			? &bus->ranges[i - 1]
			: &bus->ranges[i];
		log_err("%s bus: %s at 0x%llx+0x%llx overlaps %s at 0x%llx+0x%llx", bus->name, name,
			(unsigned long long)base, (unsigned long long)len, o->name,
			(unsigned long long)o->base, (unsigned long long)o->len);
		ret = -EEXIST;
		goto out;
	}
	if (bus->nr == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));
		if (!r) {
			log_err("%s bus: out of memory registering %s", bus->name, name);
			ret = -ENOMEM;
			goto out;
		}
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->nr - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct bus_range){base, len, ops, opaque, name};
	bus->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	size_t i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = upper_bound(bus, base);
	if (i > 0 && bus->ranges[i - 1].base == base) {
		memmove(&bus->ranges[i - 1], &bus->ranges[i],
			(bus->nr - i) * sizeof(bus->ranges[0]));
		bus->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

/* Caller holds the read lock. */
static const struct bus_range *lookup(const struct bus *bus, uint64_t addr, uint32_t len)
{
	size_t i = upper_bound(bus, addr);
	const struct bus_range *r;

	if (i == 0 || len == 0)
		return NULL;
	r = &bus->ranges[i - 1];
	if (addr - r->base >= r->len || len > r->len - (addr - r->base))
		return NULL;
	return r;
}

bool bus_read(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len)
{
	const struct bus_range *r;
	bool found = false;

	pthread_rwlock_rdlock(&bus->lock);
	r = lookup(bus, addr, len);
	if (r && r->ops->read) {
		r->ops->read(r->opaque, addr - r->base, data, len);
		found = true;
	} else if (r) {
		memset(data, 0xff, len);
		found = true;
	}
	pthread_rwlock_unlock(&bus->lock);
	return found;
}

bool bus_write(struct bus *bus, uint64_t addr, const uint8_t *data, uint32_t len)
{
	const struct bus_range *r;
	bool found = false;

	pthread_rwlock_rdlock(&bus->lock);
	r = lookup(bus, addr, len);
	if (r) {
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, len);
		found = true;
	}
	pthread_rwlock_unlock(&bus->lock);
	return found;
}
