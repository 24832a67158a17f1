/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "dma_pages.h"

static int dma_pages_translate(const struct dma_space *space, uint64_t iova, uint64_t len,
			       enum dma_direction dir, struct iovec *iov, unsigned max_iov)
{
	const struct dma_pages *p = space->opaque;
	unsigned n = 0;

	(void)dir;
	while (len) {
		uint64_t page = iova / DMA_PAGES_SIZE, off = iova % DMA_PAGES_SIZE;
		uint64_t chunk = DMA_PAGES_SIZE - off < len ? DMA_PAGES_SIZE - off : len;
		uint8_t *hva;

		if (page >= DMA_PAGES_COUNT || p->gpa[page] == DMA_PAGES_ABSENT)
			return -EFAULT;
		hva = guest_mem_ptr(p->gm, p->gpa[page] + off, chunk);
		if (!hva)
			return -EFAULT;
		if (n && n <= max_iov && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == hva)
			iov[n - 1].iov_len += chunk;
		else if (++n <= max_iov)
			iov[n - 1] = (struct iovec){.iov_base = hva, .iov_len = chunk};
		iova += chunk;
		len -= chunk;
	}
	return n > max_iov ? -E2BIG : (int)n;
}

/* One region per mapped page: simple, and what listeners must cope with anyway. */
static int dma_pages_for_each(const struct dma_space *space,
			      int (*fn)(void *arg, const struct dma_region *r), void *arg)
{
	const struct dma_pages *p = space->opaque;
	int ret;

	for (uint64_t i = 0; i < DMA_PAGES_COUNT; i++) {
		struct dma_region r = {
		    .iova = i * DMA_PAGES_SIZE, .size = DMA_PAGES_SIZE, .fd = -1};

		if (p->gpa[i] == DMA_PAGES_ABSENT)
			continue;
		r.hva = guest_mem_ptr(p->gm, p->gpa[i], DMA_PAGES_SIZE);
		if ((ret = fn(arg, &r)))
			return ret;
	}
	return 0;
}

static const struct dma_space_ops dma_pages_ops = {
    .translate = dma_pages_translate,
    .for_each = dma_pages_for_each,
};

void dma_pages_init(struct dma_pages *p, struct guest_mem *gm)
{
	p->gm = gm;
	for (uint64_t i = 0; i < DMA_PAGES_COUNT; i++)
		p->gpa[i] = i * DMA_PAGES_SIZE < gm->size ? i * DMA_PAGES_SIZE : DMA_PAGES_ABSENT;
	assert_int_equal(dma_space_init(&p->space, &dma_pages_ops, p), 0);
}

void dma_pages_destroy(struct dma_pages *p)
{
	dma_space_destroy(&p->space);
}

void dma_pages_map(struct dma_pages *p, uint64_t iova, uint64_t gpa, uint64_t size)
{
	struct dma_region r = {.iova = iova, .size = size, .fd = -1};

	assert_true(iova % DMA_PAGES_SIZE == 0 && gpa % DMA_PAGES_SIZE == 0 &&
		    size % DMA_PAGES_SIZE == 0);
	assert_true(iova / DMA_PAGES_SIZE + size / DMA_PAGES_SIZE <= DMA_PAGES_COUNT);
	r.hva = guest_mem_ptr(p->gm, gpa, size);
	assert_non_null(r.hva);
	/* A remap is an unmap of the old translation first, as an IOMMU driver does it. */
	dma_pages_unmap(p, iova, size);
	for (uint64_t i = 0; i < size / DMA_PAGES_SIZE; i++)
		p->gpa[iova / DMA_PAGES_SIZE + i] = gpa + i * DMA_PAGES_SIZE;
	assert_int_equal(dma_space_notify_map(&p->space, &r), 0);
}

void dma_pages_unmap(struct dma_pages *p, uint64_t iova, uint64_t size)
{
	assert_true(iova % DMA_PAGES_SIZE == 0 && size % DMA_PAGES_SIZE == 0);
	assert_true(iova / DMA_PAGES_SIZE + size / DMA_PAGES_SIZE <= DMA_PAGES_COUNT);
	for (uint64_t i = 0; i < size / DMA_PAGES_SIZE; i++)
		p->gpa[iova / DMA_PAGES_SIZE + i] = DMA_PAGES_ABSENT;
	dma_space_notify_unmap(&p->space, iova, size);
}
