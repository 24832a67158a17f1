/* SPDX-License-Identifier: MIT */
#include "evloop.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

int evloop_init(struct evloop *l)
{
	memset(l, 0, sizeof(*l));
	for (unsigned i = 0; i < EVLOOP_MAX_HANDLERS; i++)
		l->handlers[i].fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int ret = -errno;
		log_err("epoll_create1: %s", strerror(errno));
		return ret;
	}
	return 0;
}

void evloop_destroy(struct evloop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

static struct evloop_handler *find(struct evloop *l, int fd)
{
	for (unsigned i = 0; i < EVLOOP_MAX_HANDLERS; i++)
		if (l->handlers[i].fd == fd)
			return &l->handlers[i];
	return NULL;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque)
{
	struct evloop_handler *h = find(l, -1);
	struct epoll_event ev = {.events = events};

	if (!h) {
		log_err("event loop full (%d handlers)", EVLOOP_MAX_HANDLERS);
		return -ENOSPC;
	}
	ev.data.ptr = h;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int ret = -errno;
		if (errno != EPERM)
			log_err("epoll_ctl add fd %d: %s", fd, strerror(errno));
		return ret;
	}
	*h = (struct evloop_handler){fd, fn, opaque};
	return 0;
}

int evloop_mod(struct evloop *l, int fd, uint32_t events)
{
	struct evloop_handler *h = find(l, fd);
	struct epoll_event ev = {.events = events};

	if (!h)
		return -ENOENT;
	ev.data.ptr = h;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
		int ret = -errno;
		log_err("epoll_ctl mod fd %d: %s", fd, strerror(errno));
		return ret;
	}
	return 0;
}

int evloop_del(struct evloop *l, int fd)
{
	struct evloop_handler *h = find(l, fd);

	if (!h)
		return -ENOENT;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	h->fd = -1;
	return 0;
}

void evloop_stop(struct evloop *l)
{
	l->stop = true;
}

int evloop_run(struct evloop *l)
{
	struct epoll_event evs[16];

	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int ret = -errno;
			log_err("epoll_wait: %s", strerror(errno));
			return ret;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			struct evloop_handler *h = evs[i].data.ptr;
			/* A handler earlier in this batch may have removed this one. */
			if (h->fd >= 0)
				h->fn(h->opaque, h->fd, evs[i].events);
		}
	}
	return 0;
}
