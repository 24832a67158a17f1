/* SPDX-License-Identifier: MIT */
/*
 * Host console: feeds the VMM's stdin into a guest console device, the
 * COM1 UART or a virtio console (a struct console_sink). A terminal is put
 * in raw mode so keystrokes (including Ctrl-C) reach the guest; Ctrl-A x
 * stops the VM, Ctrl-A Ctrl-A sends a literal Ctrl-A (as in QEMU). When the
 * sink takes no more bytes (UART FIFO full, no virtio receive buffers),
 * stdin is no longer read until the sink's wake fd says it has room again,
 * so no input is lost and nothing is buffered without bound.
 */
#ifndef SLUICE_CONSOLE_H
#define SLUICE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

struct evloop;
struct vm_power;

/* Where console input goes. Called on the event-loop thread only. */
struct console_sink {
	/* Take up to len bytes; returns how many were taken (0: no room now). */
	size_t (*receive)(void *opaque, const uint8_t *buf, size_t len);
	void *opaque;
	/* Readable (an eventfd) once a sink that refused bytes has room again. */
	int wake_fd;
};

struct console {
	struct console_sink sink;
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

/* in_fd < 0: no console input. The sink is copied. */
int console_init(struct console *c, const struct console_sink *sink, struct evloop *loop,
		 struct vm_power *power, int in_fd);
void console_destroy(struct console *c);

#endif
