/* SPDX-License-Identifier: MIT */
/*
 * The VMM's event loop: one epoll set served by the main thread. It carries
 * everything that is not a vCPU exit: host console input, device back-end
 * completions, virtio kicks, and the stop request. Handlers must not block.
 *
 * There is no fixed limit on handlers: each virtio device registers one per
 * queue plus one, so what a VM needs follows from its configuration (four
 * disks of 16 queues are 68). Each handler is allocated on its own and
 * epoll's data.ptr points to it, so a handler's address never changes
 * while it is registered; the table of them grows as needed. A handler
 * removed while a batch of events is being dispatched (by another handler,
 * or itself) is not called again and is freed after the batch, so an event
 * of the same batch never reaches freed memory or a newer handler.
 *
 * Threads: every call is made on the thread that runs the loop (or before
 * it runs); nothing here takes a lock.
 */
#ifndef SLUICE_EVLOOP_H
#define SLUICE_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*evloop_fn)(void *opaque, int fd, uint32_t events);

struct evloop_handler {
	int fd; /* -1 once removed */
	evloop_fn fn;
	void *opaque;
	struct evloop_handler *next_dead; /* removed during a batch: freed after it */
};

struct evloop {
	int epfd;
	bool stop;
	bool dispatching;		  /* evloop_run is calling handlers */
	struct evloop_handler **handlers; /* registered handlers, in no particular order */
	unsigned nr_handlers, cap_handlers;
	struct evloop_handler *dead; /* removed during the current batch */
};

int evloop_init(struct evloop *l);
/* Frees every handler; the fds themselves belong to their owners. */
void evloop_destroy(struct evloop *l);
/*
 * Watch fd for events (EPOLLIN etc.) and call fn(opaque, fd, events) on the
 * loop's thread. -ENOMEM, -EEXIST if fd is already watched, -EPERM for an
 * fd epoll cannot watch (a regular file; not logged, callers fall back).
 */
int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque);
int evloop_mod(struct evloop *l, int fd, uint32_t events);
/* Stop watching fd: -ENOENT if it is not watched. */
int evloop_del(struct evloop *l, int fd);
/* How many fds are watched. */
unsigned evloop_nr_handlers(const struct evloop *l);
/* Run until evloop_stop() is called from a handler. */
int evloop_run(struct evloop *l);
void evloop_stop(struct evloop *l);

#endif
