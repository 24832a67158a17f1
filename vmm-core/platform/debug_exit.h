/* SPDX-License-Identifier: MIT */
/*
 * isa-debug-exit: a test guest ends the VM by writing a value (1, 2 or 4
 * bytes) to the port, usually 0xf4; the VM stops with VM_STOP_DEBUG_EXIT
 * and that value, and decides what exit status it maps to. Reads return 0.
 * The device has no mutable state, hence no lock: request_stop() is
 * thread-safe and the first stop request wins.
 */
#ifndef SLUICE_DEBUG_EXIT_H
#define SLUICE_DEBUG_EXIT_H

#include <stdint.h>

#include "bus.h"
#include "power.h"

#define DEBUG_EXIT_PORT	    0xf4
#define DEBUG_EXIT_NR_PORTS 4 /* a 4-byte write covers port..port+3 */

struct debug_exit {
	struct vm_power *power;
};

int debug_exit_init(struct debug_exit *d, struct vm_power *power);
int debug_exit_attach(struct debug_exit *d, struct bus *pio, uint16_t port);

#endif
