/* SPDX-License-Identifier: MIT */
/*
 * The identity DMA space over real guest RAM (one region, and two around
 * the PCI hole), the copy helpers, and listeners: what registration
 * announces, refusals, notifications from an implementation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dma.h"
#include "guest_mem.h"
#include "util.h"

#define RAM (16 * MiB)

struct t {
	struct guest_mem gm;
	struct dma_space dma;
};

static int setup_ram(void **state, uint64_t size)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(guest_mem_init(&t->gm, size, 0), 0);
	assert_int_equal(dma_space_identity_init(&t->dma, &t->gm), 0);
	*state = t;
	return 0;
}

static int setup(void **state)
{
	return setup_ram(state, RAM);
}

/* Low RAM up to the hole at 3 GiB, then 8 MiB at 4 GiB (MAP_NORESERVE: costs nothing). */
static int setup_high(void **state)
{
	return setup_ram(state, 3 * GiB + 8 * MiB);
}

static int teardown(void **state)
{
	struct t *t = *state;

	dma_space_destroy(&t->dma);
	guest_mem_destroy(&t->gm);
	free(t);
	return 0;
}

static void test_translate(void **state)
{
	struct t *t = *state;
	struct iovec iov[2];

	assert_int_equal(dma_translate(&t->dma, 0x1000, 0x2000, DMA_TO_DEVICE, iov, 2), 1);
	assert_ptr_equal(iov[0].iov_base, t->gm.base + 0x1000);
	assert_int_equal(iov[0].iov_len, 0x2000);
	/* The whole of RAM, and its last byte. */
	assert_int_equal(dma_translate(&t->dma, 0, RAM, DMA_BIDIRECTIONAL, iov, 1), 1);
	assert_int_equal(iov[0].iov_len, RAM);
	assert_int_equal(dma_translate(&t->dma, RAM - 1, 1, DMA_FROM_DEVICE, iov, 1), 1);
	assert_ptr_equal(iov[0].iov_base, t->gm.base + RAM - 1);
	assert_ptr_equal(dma_ptr(&t->dma, 0x4000, 16, DMA_TO_DEVICE), t->gm.base + 0x4000);
}

static void test_translate_faults(void **state)
{
	struct t *t = *state;
	struct iovec iov[2];

	assert_int_equal(dma_translate(&t->dma, RAM, 1, DMA_TO_DEVICE, iov, 2), -EFAULT);
	assert_int_equal(dma_translate(&t->dma, RAM - 8, 9, DMA_TO_DEVICE, iov, 2), -EFAULT);
	assert_int_equal(dma_translate(&t->dma, UINT64_MAX - 7, 16, DMA_TO_DEVICE, iov, 2),
			 -EFAULT);
	assert_int_equal(dma_translate(&t->dma, 0, UINT64_MAX, DMA_TO_DEVICE, iov, 2), -EFAULT);
	assert_null(dma_ptr(&t->dma, RAM - 8, 9, DMA_TO_DEVICE));
	/* Length 0: nothing to translate, the address is not looked at. */
	assert_int_equal(dma_translate(&t->dma, UINT64_MAX, 0, DMA_TO_DEVICE, iov, 2), 0);
	/* Too few iovecs is -E2BIG, but an unmapped byte anywhere wins. */
	assert_int_equal(dma_translate(&t->dma, 0x1000, 16, DMA_TO_DEVICE, iov, 0), -E2BIG);
	assert_int_equal(dma_translate(&t->dma, RAM - 8, 16, DMA_TO_DEVICE, iov, 0), -EFAULT);
}

static void test_read_write(void **state)
{
	struct t *t = *state;
	uint8_t buf[32], back[32];

	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(dma_write(&t->dma, 0x2345, buf, sizeof(buf)), 0);
	assert_memory_equal(t->gm.base + 0x2345, buf, sizeof(buf));
	assert_int_equal(dma_read(&t->dma, 0x2345, back, sizeof(back)), 0);
	assert_memory_equal(back, buf, sizeof(buf));
	/* All or nothing: a range running off the end of RAM copies no byte. */
	memset(back, 0x5a, sizeof(back));
	assert_int_equal(dma_read(&t->dma, RAM - 16, back, sizeof(back)), -EFAULT);
	for (unsigned i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0x5a);
	memset(t->gm.base + RAM - 16, 0, 16);
	assert_int_equal(dma_write(&t->dma, RAM - 16, buf, sizeof(buf)), -EFAULT);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(t->gm.base[RAM - 16 + i], 0);
}

static void test_two_regions(void **state)
{
	struct t *t = *state;
	struct iovec iov[2];

	assert_int_equal(t->gm.nr_regions, 2);
	assert_int_equal(
	    dma_translate(&t->dma, GUEST_MEM_HIGH_START + 0x10, 0x100, DMA_TO_DEVICE, iov, 1), 1);
	assert_ptr_equal(iov[0].iov_base, t->gm.regions[1].hva + 0x10);
	/* Right up to the hole is RAM; across it, or inside it, is not. */
	assert_int_equal(dma_translate(&t->dma, GUEST_MEM_HOLE_START - 8, 8, DMA_TO_DEVICE, iov, 1),
			 1);
	assert_int_equal(
	    dma_translate(&t->dma, GUEST_MEM_HOLE_START - 8, 16, DMA_TO_DEVICE, iov, 2), -EFAULT);
	assert_int_equal(dma_translate(&t->dma, GUEST_MEM_HOLE_START, 1, DMA_TO_DEVICE, iov, 2),
			 -EFAULT);
	assert_int_equal(dma_translate(&t->dma, GUEST_MEM_HIGH_START - 1, 2, DMA_TO_DEVICE, iov, 2),
			 -EFAULT);
	assert_int_equal(
	    dma_translate(&t->dma, GUEST_MEM_HIGH_START + 8 * MiB - 1, 2, DMA_TO_DEVICE, iov, 2),
	    -EFAULT);
}

/* --- listeners --- */

#define MAX_SEEN 8

struct rec {
	struct dma_listener l;
	int refuse_at; /* map call number (1-based) to refuse, 0: none */
	unsigned maps, unmaps;
	struct dma_region seen[MAX_SEEN];
	uint64_t unmap_iova, unmap_size;
};

static int rec_map(struct dma_listener *l, const struct dma_region *r)
{
	struct rec *rec = container_of(l, struct rec, l);

	if (rec->maps < MAX_SEEN)
		rec->seen[rec->maps] = *r;
	if ((int)++rec->maps == rec->refuse_at)
		return -ENOSPC;
	return 0;
}

static void rec_unmap(struct dma_listener *l, uint64_t iova, uint64_t size)
{
	struct rec *rec = container_of(l, struct rec, l);

	rec->unmaps++;
	rec->unmap_iova = iova;
	rec->unmap_size = size;
}

static void rec_init(struct rec *r, int refuse_at)
{
	memset(r, 0, sizeof(*r));
	r->l.map = rec_map;
	r->l.unmap = rec_unmap;
	r->refuse_at = refuse_at;
}

static void test_register_announces_ram(void **state)
{
	struct t *t = *state;
	struct rec r;

	rec_init(&r, 0);
	assert_int_equal(dma_listener_register(&t->dma, &r.l), 0);
	assert_int_equal(r.maps, 2);
	for (unsigned i = 0; i < 2; i++) {
		const struct guest_mem_region *g = &t->gm.regions[i];

		assert_int_equal(r.seen[i].iova, g->gpa);
		assert_int_equal(r.seen[i].size, g->size);
		assert_ptr_equal(r.seen[i].hva, g->hva);
		assert_int_equal(r.seen[i].fd, t->gm.fd);
		assert_int_equal(r.seen[i].fd_offset, g->fd_offset);
	}
	assert_int_equal(r.unmaps, 0);
	dma_listener_unregister(&t->dma, &r.l);
}

static void test_register_refused(void **state)
{
	struct t *t = *state;
	struct rec refuses, ok;

	rec_init(&refuses, 2);
	rec_init(&ok, 0);
	assert_int_equal(dma_listener_register(&t->dma, &refuses.l), -ENOSPC);
	assert_int_equal(dma_listener_register(&t->dma, &ok.l), 0);
	/* Only the registered listener hears of later changes. */
	dma_space_notify_unmap(&t->dma, 0x1000, 0x2000);
	assert_int_equal(refuses.unmaps, 0);
	assert_int_equal(ok.unmaps, 1);
	assert_int_equal(ok.unmap_iova, 0x1000);
	assert_int_equal(ok.unmap_size, 0x2000);
	dma_listener_unregister(&t->dma, &ok.l);
}

static void test_notify(void **state)
{
	struct t *t = *state;
	struct rec a, b, c;
	struct dma_region reg = {.iova = 0x10000, .size = 0x1000, .hva = t->gm.base, .fd = -1};

	rec_init(&a, 0);
	rec_init(&b, 2); /* accepts the region at registration, refuses the next map */
	rec_init(&c, 0);
	assert_int_equal(dma_listener_register(&t->dma, &a.l), 0);
	assert_int_equal(dma_listener_register(&t->dma, &b.l), 0);
	assert_int_equal(dma_listener_register(&t->dma, &c.l), 0);
	/* Every listener is told, and the refusal comes back. */
	assert_int_equal(dma_space_notify_map(&t->dma, &reg), -ENOSPC);
	assert_int_equal(a.maps, 2);
	assert_int_equal(b.maps, 2);
	assert_int_equal(c.maps, 2);
	assert_int_equal(c.seen[1].iova, 0x10000);
	/* Unregistered in the middle of the list: the others still hear. */
	dma_listener_unregister(&t->dma, &b.l);
	dma_space_notify_unmap(&t->dma, 0x10000, 0x1000);
	assert_int_equal(a.unmaps, 1);
	assert_int_equal(b.unmaps, 0);
	assert_int_equal(c.unmaps, 1);
	/* A listener without callbacks is fine. */
	{
		struct dma_listener quiet = {0};

		assert_int_equal(dma_listener_register(&t->dma, &quiet), 0);
		assert_int_equal(dma_space_notify_map(&t->dma, &reg), 0);
		dma_space_notify_unmap(&t->dma, 0, 1);
		dma_listener_unregister(&t->dma, &quiet);
	}
	dma_listener_unregister(&t->dma, &a.l);
	dma_listener_unregister(&t->dma, &c.l);
	assert_null(t->dma.listeners);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_translate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_translate_faults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_regions, setup_high, teardown),
	    cmocka_unit_test_setup_teardown(test_register_announces_ram, setup_high, teardown),
	    cmocka_unit_test_setup_teardown(test_register_refused, setup_high, teardown),
	    cmocka_unit_test_setup_teardown(test_notify, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
