/* SPDX-License-Identifier: MIT */
#include "dma.h"
#include "guest_mem.h"
#include "log.h"

#include <errno.h>
#include <string.h>

/* --- the identity space over guest RAM --- */

static const struct guest_mem_region *identity_region(const struct guest_mem *gm, uint64_t gpa)
{
	for (unsigned i = 0; i < gm->nr_regions; i++) {
		const struct guest_mem_region *r = &gm->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

/*
 * Walks the regions the range crosses. With today's layout a range inside
 * RAM is inside one region (the regions are not adjacent in GPA), so this
 * gives one iovec exactly where guest_mem_ptr() gives a pointer.
 */
static int identity_translate(const struct dma_space *space, uint64_t iova, uint64_t len,
			      enum dma_direction dir, struct iovec *iov, unsigned max_iov)
{
	const struct guest_mem *gm = space->opaque;
	unsigned n = 0;
	uint64_t last;

	(void)dir; /* guest RAM is read-write for every device */
	if (len == 0)
		return 0;
	if (__builtin_add_overflow(iova, len - 1, &last))
		return -EFAULT;
	for (;;) {
		const struct guest_mem_region *r = identity_region(gm, iova);
		uint64_t off, chunk;
		uint8_t *hva;

		if (!r)
			return -EFAULT;
		off = iova - r->gpa;
		chunk = r->size - off < len ? r->size - off : len;
		hva = r->hva + off;
		if (n && n <= max_iov && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == hva)
			iov[n - 1].iov_len += chunk;
		else if (++n <= max_iov)
			iov[n - 1] = (struct iovec){.iov_base = hva, .iov_len = chunk};
		if (chunk == len)
			break;
		iova += chunk;
		len -= chunk;
	}
	return n > max_iov ? -E2BIG : (int)n;
}

static int identity_for_each(const struct dma_space *space,
			     int (*fn)(void *arg, const struct dma_region *r), void *arg)
{
	const struct guest_mem *gm = space->opaque;
	int ret;

	for (unsigned i = 0; i < gm->nr_regions; i++) {
		const struct guest_mem_region *r = &gm->regions[i];
		struct dma_region d = {
		    .iova = r->gpa,
		    .size = r->size,
		    .hva = r->hva,
		    .fd = gm->fd,
		    .fd_offset = r->fd_offset,
		};

		if ((ret = fn(arg, &d)))
			return ret;
	}
	return 0;
}

static const struct dma_space_ops identity_ops = {
    .translate = identity_translate,
    .for_each = identity_for_each,
};

int dma_space_identity_init(struct dma_space *space, struct guest_mem *gm)
{
	return dma_space_init(space, &identity_ops, gm);
}

/* --- any space --- */

int dma_space_init(struct dma_space *space, const struct dma_space_ops *ops, void *opaque)
{
	int ret;

	memset(space, 0, sizeof(*space));
	if ((ret = -pthread_mutex_init(&space->lock, NULL))) {
		log_err("dma: mutex init failed");
		return ret;
	}
	space->ops = ops;
	space->opaque = opaque;
	return 0;
}

void dma_space_destroy(struct dma_space *space)
{
	if (!space->ops)
		return;
	if (space->listeners)
		log_err("dma: address space destroyed with listeners still registered");
	pthread_mutex_destroy(&space->lock);
	memset(space, 0, sizeof(*space));
}

void *dma_ptr(const struct dma_space *space, uint64_t iova, uint64_t len, enum dma_direction dir)
{
	struct iovec iov;

	if (dma_translate(space, iova, len ? len : 1, dir, &iov, 1) != 1)
		return NULL;
	return iov.iov_base;
}

static int dma_copy(const struct dma_space *space, uint64_t iova, void *buf, const void *src,
		    uint64_t len)
{
	struct iovec iov[DMA_RW_MAX_IOV];
	int n = dma_translate(space, iova, len, buf ? DMA_FROM_DEVICE : DMA_TO_DEVICE, iov,
			      DMA_RW_MAX_IOV);
	size_t done = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		if (buf)
			memcpy((uint8_t *)buf + done, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, (const uint8_t *)src + done, iov[i].iov_len);
		done += iov[i].iov_len;
	}
	return 0;
}

int dma_read(const struct dma_space *space, uint64_t iova, void *buf, uint64_t len)
{
	return dma_copy(space, iova, buf, NULL, len);
}

int dma_write(const struct dma_space *space, uint64_t iova, const void *buf, uint64_t len)
{
	return dma_copy(space, iova, NULL, buf, len);
}

static int dma_announce(void *arg, const struct dma_region *r)
{
	struct dma_listener *l = arg;

	return l->map ? l->map(l, r) : 0;
}

int dma_listener_register(struct dma_space *space, struct dma_listener *l)
{
	int ret;

	pthread_mutex_lock(&space->lock);
	ret = space->ops->for_each ? space->ops->for_each(space, dma_announce, l) : 0;
	if (ret == 0) {
		l->next = space->listeners;
		space->listeners = l;
	}
	pthread_mutex_unlock(&space->lock);
	return ret;
}

void dma_listener_unregister(struct dma_space *space, struct dma_listener *l)
{
	pthread_mutex_lock(&space->lock);
	for (struct dma_listener **p = &space->listeners; *p; p = &(*p)->next) {
		if (*p == l) {
			*p = l->next;
			break;
		}
	}
	l->next = NULL;
	pthread_mutex_unlock(&space->lock);
}

int dma_space_notify_map(struct dma_space *space, const struct dma_region *r)
{
	int first = 0;

	pthread_mutex_lock(&space->lock);
	for (struct dma_listener *l = space->listeners; l; l = l->next) {
		int ret = dma_announce(l, r);

		if (ret && !first)
			first = ret;
	}
	pthread_mutex_unlock(&space->lock);
	return first;
}

void dma_space_notify_unmap(struct dma_space *space, uint64_t iova, uint64_t size)
{
	pthread_mutex_lock(&space->lock);
	for (struct dma_listener *l = space->listeners; l; l = l->next)
		if (l->unmap)
			l->unmap(l, iova, size);
	pthread_mutex_unlock(&space->lock);
}
