/* SPDX-License-Identifier: MIT */
/*
 * i8042 keyboard controller on ports 0x60 (data) and 0x64 (status/command),
 * there for the reset line: command 0xFE (and any pulse of output bit 0)
 * resets the VM, which is Linux's reboot=k and many firmwares' last resort.
 *
 * The controller itself answers (self-test, command byte, port tests,
 * output port) so guest drivers find a sane chip, but no keyboard or mouse
 * is attached and it has no interrupt line: bytes written to the devices
 * are dropped, there is no aux port (its loopback is ignored and its test
 * reports a stuck clock). Boot Linux with i8042.noaux (or i8042.nokbd) to
 * skip its probe timeouts.
 */
#ifndef SLUICE_I8042_H
#define SLUICE_I8042_H

#include <pthread.h>
#include <stdint.h>

#include "bus.h"
#include "power.h"

#define I8042_PORT_DATA	   0x60
#define I8042_PORT_COMMAND 0x64
#define I8042_OUT_QUEUE	   16

struct i8042;

/* Both ports share one ops table; the opaque says which port it is. */
struct i8042_port {
	struct i8042 *k;
	uint16_t port;
};

struct i8042 {
	pthread_mutex_t lock;
	struct vm_power *power;
	struct i8042_port ports[2];
	uint8_t status; /* SYS and CMD/DATA bits; OBF/AUXB derive from out[] */
	uint8_t ctr;	/* controller command byte */
	uint8_t outport;
	uint8_t pending; /* command waiting for its data byte, 0 if none */
	uint8_t out[I8042_OUT_QUEUE];
	uint8_t out_head, out_count;
};

int i8042_init(struct i8042 *k, struct vm_power *power);
int i8042_attach(struct i8042 *k, struct bus *pio);
void i8042_destroy(struct i8042 *k);

#endif
