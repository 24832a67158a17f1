/* SPDX-License-Identifier: MIT */
#include "host_console.h"
#include "evloop.h"
#include "log.h"
#include "power.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define CTRL_A 0x01

/* Push pending bytes to the sink; true when nothing is left pending. */
static bool console_flush(struct console *c)
{
	while (c->pending_off < c->pending_len) {
		size_t n = c->sink.receive(c->sink.opaque, c->pending + c->pending_off,
					   c->pending_len - c->pending_off);
		if (n == 0)
			return false;
		c->pending_off += n;
	}
	c->pending_off = c->pending_len = 0;
	return true;
}

static void console_watch(struct console *c, bool on)
{
	/*
	 * Parked, epoll still reports a hang-up (a pipe's writer gone): edge-
	 * triggered it comes once, not in a loop, and console_on_input ignores it.
	 */
	if (c->watching != on && evloop_mod(c->loop, c->in_fd, on ? EPOLLIN : EPOLLET) == 0)
		c->watching = on;
}

static void console_on_input(void *opaque, int fd, uint32_t events)
{
	struct console *c = opaque;
	uint8_t raw[sizeof(c->pending)];
	ssize_t n;

	(void)events;
	if (!c->watching)
		return; /* pending bytes first: EOF or more input are seen once they are taken */
	n = read(fd, raw, sizeof(raw));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* EOF or error: the guest keeps running without input. */
		evloop_del(c->loop, fd);
		c->in_fd = -1;
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		uint8_t b = raw[i];
		if (c->tty_raw && c->escape) {
			c->escape = false;
			if (b == 'x') {
				c->power->request_stop(c->power, VM_STOP_POWEROFF, 0);
				return;
			}
			if (b != CTRL_A)
				continue;
		} else if (c->tty_raw && b == CTRL_A) {
			c->escape = true;
			continue;
		}
		c->pending[c->pending_len++] = b;
	}
	if (!console_flush(c))
		console_watch(c, false);
}

static void console_on_rx_space(void *opaque, int fd, uint32_t events)
{
	struct console *c = opaque;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("console: reading the sink's wake-up eventfd: %s", strerror(errno));
	/* Bytes read before stdin hit EOF are still delivered. */
	if (console_flush(c) && c->in_fd >= 0)
		console_watch(c, true);
}

int console_init(struct console *c, const struct console_sink *sink, struct evloop *loop,
		 struct vm_power *power, int in_fd)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->sink = *sink;
	c->loop = loop;
	c->power = power;
	c->in_fd = -1;
	if (in_fd < 0)
		return 0;
	ret = evloop_add(loop, in_fd, EPOLLIN, console_on_input, c);
	if (ret == -EPERM) {
		/* A regular file or /dev/null cannot be polled: no console input. */
		log_debug("console: stdin cannot be polled, guest input disabled");
		return 0;
	}
	if (ret)
		return ret;
	c->in_fd = in_fd;
	c->watching = true;
	ret = evloop_add(loop, sink->wake_fd, EPOLLIN, console_on_rx_space, c);
	if (ret)
		return ret;
	if (isatty(in_fd) && tcgetattr(in_fd, &c->saved) == 0) {
		struct termios t = c->saved;
		cfmakeraw(&t);
		t.c_oflag |= OPOST | ONLCR; /* keep the host's own output readable */
		if (tcsetattr(in_fd, TCSANOW, &t) == 0)
			c->tty_raw = true;
	}
	return 0;
}

void console_destroy(struct console *c)
{
	if (c->tty_raw)
		tcsetattr(c->in_fd >= 0 ? c->in_fd : STDIN_FILENO, TCSANOW, &c->saved);
	c->tty_raw = false;
}
