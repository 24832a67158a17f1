/* SPDX-License-Identifier: MIT */
/*
 * Host console: feeds the VMM's stdin into the guest's UART. A terminal is
 * put in raw mode so keystrokes (including Ctrl-C) reach the guest; Ctrl-A x
 * stops the VM, Ctrl-A Ctrl-A sends a literal Ctrl-A (as in QEMU). When the
 * UART's receive FIFO is full, stdin is no longer read until the guest
 * drains it, so no input is lost and nothing is buffered without bound.
 */
#ifndef SLUICE_CONSOLE_H
#define SLUICE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

struct serial;
struct evloop;
struct vm_power;

struct console {
	struct serial *serial;
	struct evloop *loop;
	struct vm_power *power;
	int in_fd;
	bool watching; /* in_fd is in the event loop */
	bool tty_raw;
	struct termios saved;
	bool escape; /* the previous byte was Ctrl-A */
	uint8_t pending[256];
	size_t pending_len, pending_off;
};

/* in_fd < 0: no console input. */
int console_init(struct console *c, struct serial *serial, struct evloop *loop,
		 struct vm_power *power, int in_fd);
void console_destroy(struct console *c);

#endif
