/* SPDX-License-Identifier: MIT */
/*
 * The VMM's event loop: one epoll set served by the main thread. It carries
 * everything that is not a vCPU exit: host console input, device back-end
 * completions, and the stop request. Handlers must not block.
 */
#ifndef SLUICE_EVLOOP_H
#define SLUICE_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

#define EVLOOP_MAX_HANDLERS 64

typedef void (*evloop_fn)(void *opaque, int fd, uint32_t events);

struct evloop_handler {
	int fd;
	evloop_fn fn;
	void *opaque;
};

struct evloop {
	int epfd;
	bool stop;
	struct evloop_handler handlers[EVLOOP_MAX_HANDLERS];
};

int evloop_init(struct evloop *l);
void evloop_destroy(struct evloop *l);
/* events: EPOLLIN etc. -ENOSPC when full, -EPERM for fds epoll cannot watch. */
int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque);
int evloop_mod(struct evloop *l, int fd, uint32_t events);
int evloop_del(struct evloop *l, int fd);
/* Run until evloop_stop() is called from a handler. */
int evloop_run(struct evloop *l);
void evloop_stop(struct evloop *l);

#endif
