/* SPDX-License-Identifier: MIT */
#include "evloop.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EVLOOP_BATCH 16 /* events taken per epoll_wait */

int evloop_init(struct evloop *l)
{
	memset(l, 0, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int ret = -errno;
		log_err("epoll_create1: %s", strerror(errno));
		return ret;
	}
	return 0;
}

static void evloop_free_dead(struct evloop *l)
{
	while (l->dead) {
		struct evloop_handler *h = l->dead;

		l->dead = h->next_dead;
		free(h);
	}
}

void evloop_destroy(struct evloop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
	for (unsigned i = 0; i < l->nr_handlers; i++)
		free(l->handlers[i]);
	free(l->handlers);
	l->handlers = NULL;
	l->nr_handlers = l->cap_handlers = 0;
	evloop_free_dead(l);
}

/* The index of fd's handler in l->handlers, or -1. */
static int evloop_find(const struct evloop *l, int fd)
{
	for (unsigned i = 0; i < l->nr_handlers; i++)
		if (l->handlers[i]->fd == fd)
			return (int)i;
	return -1;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque)
{
	struct epoll_event ev = {.events = events};
	struct evloop_handler *h;

	if (fd < 0 || !fn) {
		log_err("event loop: bad handler (fd %d)", fd);
		return -EINVAL;
	}
	if (l->nr_handlers == l->cap_handlers) {
		unsigned cap = l->cap_handlers ? 2 * l->cap_handlers : 32;
		struct evloop_handler **t = realloc(l->handlers, cap * sizeof(*t));

		if (!t) {
			log_err("event loop: out of memory for %u handlers", cap);
			return -ENOMEM;
		}
		l->handlers = t;
		l->cap_handlers = cap;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		log_err("event loop: out of memory");
		return -ENOMEM;
	}
	*h = (struct evloop_handler){.fd = fd, .fn = fn, .opaque = opaque};
	ev.data.ptr = h;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int ret = -errno;
		if (errno != EPERM)
			log_err("epoll_ctl add fd %d: %s", fd, strerror(errno));
		free(h);
		return ret;
	}
	l->handlers[l->nr_handlers++] = h;
	return 0;
}

int evloop_mod(struct evloop *l, int fd, uint32_t events)
{
	int i = evloop_find(l, fd);
	struct epoll_event ev = {.events = events};

	if (i < 0)
		return -ENOENT;
	ev.data.ptr = l->handlers[i];
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
		int ret = -errno;
		log_err("epoll_ctl mod fd %d: %s", fd, strerror(errno));
		return ret;
	}
	return 0;
}

int evloop_del(struct evloop *l, int fd)
{
	int i = evloop_find(l, fd);
	struct evloop_handler *h;

	if (i < 0)
		return -ENOENT;
	h = l->handlers[i];
	/* Fails only if fd was closed first, which removed it from the set anyway. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->handlers[i] = l->handlers[--l->nr_handlers];
	h->fd = -1;
	if (l->dispatching) {
		/* The current batch may still hold an event pointing at h. */
		h->next_dead = l->dead;
		l->dead = h;
	} else {
		free(h);
	}
	return 0;
}

unsigned evloop_nr_handlers(const struct evloop *l)
{
	return l->nr_handlers;
}

void evloop_stop(struct evloop *l)
{
	l->stop = true;
}

int evloop_run(struct evloop *l)
{
	struct epoll_event evs[EVLOOP_BATCH];

	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, EVLOOP_BATCH, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int ret = -errno;
			log_err("epoll_wait: %s", strerror(errno));
			return ret;
		}
		l->dispatching = true;
		for (int i = 0; i < n && !l->stop; i++) {
			struct evloop_handler *h = evs[i].data.ptr;
			/* A handler earlier in this batch may have removed this one. */
			if (h->fd >= 0)
				h->fn(h->opaque, h->fd, evs[i].events);
		}
		l->dispatching = false;
		evloop_free_dead(l);
	}
	return 0;
}
