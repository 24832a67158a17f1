/* SPDX-License-Identifier: MIT */
#include "debug_exit.h"
#include "log.h"

#include <errno.h>
#include <string.h>

static void debug_exit_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
}

static void debug_exit_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct debug_exit *d = opaque;
	uint32_t value = 0;

	if (offset != 0 || (len != 1 && len != 2 && len != 4)) {
		log_debug("debug_exit: ignoring %u-byte write at offset %llu", len,
			  (unsigned long long)offset);
		return;
	}
	for (uint32_t i = 0; i < len; i++)
		value |= (uint32_t)data[i] << (8 * i);
	d->power->request_stop(d->power, VM_STOP_DEBUG_EXIT, value);
}

static const struct bus_dev_ops debug_exit_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
};

int debug_exit_init(struct debug_exit *d, struct vm_power *power)
{
	if (!power) {
		log_err("debug_exit: no power controller given");
		return -EINVAL;
	}
	d->power = power;
	return 0;
}

int debug_exit_attach(struct debug_exit *d, struct bus *pio, uint16_t port)
{
	if ((uint32_t)port + DEBUG_EXIT_NR_PORTS > 0x10000) {
		log_err("debug_exit: port 0x%x+%d does not fit in the I/O space", port,
			DEBUG_EXIT_NR_PORTS);
		return -EINVAL;
	}
	return bus_register(pio, port, DEBUG_EXIT_NR_PORTS, &debug_exit_ops, d, "debug_exit");
}
