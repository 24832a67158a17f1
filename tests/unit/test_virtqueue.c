/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue against rings built by hand in guest RAM: the test plays
 * the driver, including a hostile one. Most tests use the identity DMA
 * space over guest RAM, as every device does today; the "DMA spaces" ones
 * use a paged space (dma_pages.h) that splits buffers across host ranges
 * and unmaps rings, as a vIOMMU will.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dma.h"
#include "dma_pages.h"
#include "guest_mem.h"
#include "util.h"
#include "virtio.h"
#include "virtqueue.h"

#define RAM   (16 * MiB)
#define QSZ   16
#define DESC  0x10000ULL
#define AVAIL 0x20000ULL
#define USED  0x30000ULL
#define TABLE 0x40000ULL /* indirect tables */
#define BUF   0x100000ULL

struct t {
	struct guest_mem gm;
	struct dma_space dma; /* identity over gm */
	struct virtq vq;
	struct iovec iov[VIRTQ_MAX_CHAIN];
	struct virtq_elem elem;
	uint16_t avail_idx; /* driver's shadow */
	/* Paged tests: vq translates through pages; listener plays the transport. */
	bool paged;
	struct dma_pages pages;
	struct dma_listener listener;
	unsigned unmaps;
};

static int setup_size(void **state, uint16_t size, bool event_idx)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(guest_mem_init(&t->gm, RAM, false), 0);
	assert_int_equal(dma_space_identity_init(&t->dma, &t->gm), 0);
	assert_int_equal(virtq_init(&t->vq, &t->dma, size), 0);
	assert_int_equal(virtq_set_addrs(&t->vq, DESC, AVAIL, USED), 0);
	assert_int_equal(virtq_enable(&t->vq, event_idx), 0);
	t->elem.iov = t->iov;
	t->elem.max_iov = VIRTQ_MAX_CHAIN;
	*state = t;
	return 0;
}

static int setup(void **state)
{
	return setup_size(state, QSZ, false);
}

/* The transport's part: an unmap in the device's DMA space reaches its queues. */
static void t_unmap(struct dma_listener *l, uint64_t iova, uint64_t size)
{
	struct t *t = container_of(l, struct t, listener);

	t->unmaps++;
	virtq_invalidate(&t->vq, iova, size);
}

/* The queue on the paged space, which starts as the identity over guest RAM. */
static int setup_pages(void **state)
{
	struct t *t;

	setup_size(state, QSZ, false);
	t = *state;
	t->paged = true;
	dma_pages_init(&t->pages, &t->gm);
	assert_int_equal(virtq_init(&t->vq, &t->pages.space, QSZ), 0);
	assert_int_equal(virtq_set_addrs(&t->vq, DESC, AVAIL, USED), 0);
	assert_int_equal(virtq_enable(&t->vq, false), 0);
	t->listener.unmap = t_unmap;
	assert_int_equal(dma_listener_register(&t->pages.space, &t->listener), 0);
	return 0;
}

static int setup_event(void **state)
{
	return setup_size(state, QSZ, true);
}

static int teardown(void **state)
{
	struct t *t = *state;

	if (t->paged) {
		dma_listener_unregister(&t->pages.space, &t->listener);
		dma_pages_destroy(&t->pages);
	}
	dma_space_destroy(&t->dma);
	guest_mem_destroy(&t->gm);
	free(t);
	return 0;
}

static void put16(struct t *t, uint64_t gpa, uint16_t v)
{
	assert_int_equal(guest_mem_write(&t->gm, gpa, &v, 2), 0);
}

static uint16_t get16(struct t *t, uint64_t gpa)
{
	uint16_t v;

	assert_int_equal(guest_mem_read(&t->gm, gpa, &v, 2), 0);
	return v;
}

static uint32_t get32(struct t *t, uint64_t gpa)
{
	uint32_t v;

	assert_int_equal(guest_mem_read(&t->gm, gpa, &v, 4), 0);
	return v;
}

static void desc_at(struct t *t, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	uint8_t d[16];

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	assert_int_equal(guest_mem_write(&t->gm, table + 16ULL * i, d, 16), 0);
}

static void desc(struct t *t, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	desc_at(t, DESC, i, addr, len, flags, next);
}

/* Driver: make `head` available and publish the new index. */
static void offer(struct t *t, uint16_t head)
{
	put16(t, AVAIL + 4 + 2ULL * (t->avail_idx % t->vq.size), head);
	t->avail_idx++;
	put16(t, AVAIL + 2, t->avail_idx);
}

static void set_used_event(struct t *t, uint16_t v)
{
	put16(t, AVAIL + 4 + 2ULL * t->vq.size, v);
}

static uint16_t avail_event(struct t *t)
{
	return get16(t, USED + 4 + 8ULL * t->vq.size);
}

/* A hostile chain: pop fails cleanly, names the reason, and stays failed. */
static void expect_guest_error(struct t *t, const char *reason_part)
{
	const char *first;

	assert_int_equal(virtq_pop(&t->vq, &t->elem), -EINVAL);
	assert_non_null(t->vq.error);
	assert_non_null(strstr(t->vq.error, reason_part));
	first = t->vq.error;
	assert_int_equal(virtq_pop(&t->vq, &t->elem), -EINVAL);
	assert_ptr_equal(t->vq.error, first);
	assert_int_equal(t->vq.last_avail, 0);
	assert_int_equal(t->vq.inflight, 0);
}

static void test_init_sizes(void **state)
{
	struct t *t = *state;
	struct virtq vq;

	assert_int_equal(virtq_init(&vq, &t->dma, 0), -EINVAL);
	assert_int_equal(virtq_init(&vq, &t->dma, 3), -EINVAL);
	assert_int_equal(virtq_init(&vq, &t->dma, 48), -EINVAL);
	assert_int_equal(virtq_init(&vq, &t->dma, 65535), -EINVAL);
	assert_int_equal(virtq_init(&vq, &t->dma, 1), 0);
	assert_int_equal(virtq_init(&vq, &t->dma, 32768), 0);
	/* Not ready until enabled: a stray kick finds nothing, no error. */
	assert_int_equal(virtq_pop(&vq, &t->elem), 0);
	assert_null(vq.error);
	assert_int_equal(virtq_enable(&vq, false), -EINVAL);
}

static void test_simple_out(void **state)
{
	struct t *t = *state;

	assert_int_equal(virtq_pop(&t->vq, &t->elem), 0);
	desc(t, 3, BUF, 100, 0, 0);
	offer(t, 3);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_int_equal(t->elem.head, 3);
	assert_int_equal(t->elem.nr_out, 1);
	assert_int_equal(t->elem.nr_in, 0);
	assert_int_equal(t->elem.total_out, 100);
	assert_int_equal(t->elem.total_in, 0);
	assert_ptr_equal(t->iov[0].iov_base, guest_mem_ptr(&t->gm, BUF, 100));
	assert_int_equal(t->iov[0].iov_len, 100);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 0);
	assert_int_equal(virtq_push(&t->vq, &t->elem, 0), 0);
	assert_int_equal(get16(t, USED + 2), 1);
	assert_int_equal(get32(t, USED + 4), 3);
	assert_int_equal(get32(t, USED + 8), 0);
}

static void test_out_in_chain(void **state)
{
	struct t *t = *state;
	struct virtq_elem copy;

	desc(t, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 5);
	desc(t, 5, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 9);
	desc(t, 9, BUF + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(t, 0);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_int_equal(t->elem.head, 0);
	assert_int_equal(t->elem.nr_out, 1);
	assert_int_equal(t->elem.nr_in, 2);
	assert_int_equal(t->elem.total_out, 16);
	assert_int_equal(t->elem.total_in, 513);
	assert_ptr_equal(t->iov[1].iov_base, guest_mem_ptr(&t->gm, BUF + 0x1000, 1));
	assert_int_equal(t->iov[2].iov_len, 1);

	/* The device may not claim more than the chain can hold. */
	assert_int_equal(virtq_push(&t->vq, &t->elem, 514), -EINVAL);
	assert_int_equal(get16(t, USED + 2), 0);
	assert_null(t->vq.error);
	assert_int_equal(virtq_push(&t->vq, &t->elem, 513), 0);
	assert_int_equal(get16(t, USED + 2), 1);
	assert_int_equal(get32(t, USED + 4), 0);
	assert_int_equal(get32(t, USED + 8), 513);
	/* Nothing in flight any more: a second push is a device bug. */
	copy = t->elem;
	assert_int_equal(virtq_push(&t->vq, &copy, 0), -EINVAL);
	assert_int_equal(get16(t, USED + 2), 1);
}

static void test_used_ring_wraps(void **state)
{
	struct t *t = *state;

	desc(t, 1, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned n = 0; n < 3 * QSZ + 2; n++) {
		offer(t, 1);
		assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
		assert_int_equal(virtq_push(&t->vq, &t->elem, n % 9), 0);
		assert_int_equal(get16(t, USED + 2), (uint16_t)(n + 1));
		assert_int_equal(get32(t, USED + 4 + 8 * (n % QSZ)), 1);
		assert_int_equal(get32(t, USED + 8 + 8 * (n % QSZ)), n % 9);
	}
}

static void test_indirect(void **state)
{
	struct t *t = *state;

	desc_at(t, TABLE, 0, BUF, 10, VIRTQ_DESC_F_NEXT, 2);
	desc_at(t, TABLE, 2, BUF + 100, 20, VIRTQ_DESC_F_NEXT, 1);
	desc_at(t, TABLE, 1, BUF + 200, 30, VIRTQ_DESC_F_WRITE, 0);
	/* WRITE on the indirect descriptor itself is ignored (2.7.5.3.2). */
	desc(t, 7, TABLE, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	offer(t, 7);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_int_equal(t->elem.head, 7);
	assert_int_equal(t->elem.nr_out, 2);
	assert_int_equal(t->elem.nr_in, 1);
	assert_int_equal(t->elem.total_out, 30);
	assert_int_equal(t->elem.total_in, 30);
	assert_ptr_equal(t->iov[1].iov_base, guest_mem_ptr(&t->gm, BUF + 100, 1));
	assert_ptr_equal(t->iov[2].iov_base, guest_mem_ptr(&t->gm, BUF + 200, 1));
	assert_int_equal(virtq_push(&t->vq, &t->elem, 30), 0);
	assert_int_equal(get32(t, USED + 4), 7);
}

static void test_indirect_full_queue_length(void **state)
{
	struct t *t = *state;

	/* An indirect table of exactly the queue size is legal. */
	for (uint16_t i = 0; i < QSZ; i++)
		desc_at(t, TABLE, i, BUF + i, 1, i + 1 < QSZ ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	desc(t, 0, TABLE, QSZ * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(t, 0);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_int_equal(t->elem.nr_out, QSZ);
}

static void test_zero_length(void **state)
{
	struct t *t = *state;

	/* Zero-length buffers are legal, map nothing, and their address is
	 * never looked at. */
	desc(t, 0, 0xffffffffffff0000ULL, 0, VIRTQ_DESC_F_NEXT, 1);
	desc(t, 1, BUF, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc(t, 2, 0, 0, VIRTQ_DESC_F_WRITE, 0);
	offer(t, 0);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_int_equal(t->elem.nr_out, 0);
	assert_int_equal(t->elem.nr_in, 1);
	assert_int_equal(t->elem.total_in, 4);
	assert_ptr_equal(t->iov[0].iov_base, guest_mem_ptr(&t->gm, BUF, 1));
}

static void test_max_iov(void **state)
{
	struct t *t = *state;

	t->elem.max_iov = 2;
	desc(t, 0, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
	desc(t, 1, BUF, 1, VIRTQ_DESC_F_NEXT, 2);
	desc(t, 2, BUF, 1, 0, 0);
	offer(t, 0);
	expect_guest_error(t, "more buffers");
}

static void test_unpop(void **state)
{
	struct t *t = *state;

	desc(t, 4, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
	offer(t, 4);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	virtq_unpop(&t->vq);
	assert_int_equal(t->vq.inflight, 0);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_int_equal(t->elem.head, 4);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 0);
}

/* --- notifications --- */

static void push_one(struct t *t)
{
	desc(t, 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	offer(t, 0);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_int_equal(virtq_push(&t->vq, &t->elem, 8), 0);
}

static void test_no_interrupt_flag(void **state)
{
	struct t *t = *state;

	push_one(t);
	assert_true(virtq_should_notify(&t->vq));
	put16(t, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	push_one(t);
	assert_false(virtq_should_notify(&t->vq));
	put16(t, AVAIL, 0);
	assert_true(virtq_should_notify(&t->vq));
}

static void test_event_idx_notify(void **state)
{
	struct t *t = *state;

	/* First decision after enable always notifies. */
	push_one(t); /* used idx 1 */
	assert_true(virtq_should_notify(&t->vq));
	/* Driver wants an interrupt when used idx passes 2 (entry 2 used). */
	set_used_event(t, 2);
	push_one(t); /* 2: event 2 not in [1, 2) */
	assert_false(virtq_should_notify(&t->vq));
	push_one(t); /* 3: event 2 in [2, 3) */
	assert_true(virtq_should_notify(&t->vq));
	push_one(t); /* 4: event 2 not in [3, 4) */
	assert_false(virtq_should_notify(&t->vq));
	/* Several pushes between decisions: event inside the batch fires. */
	set_used_event(t, 5);
	push_one(t);
	push_one(t);
	push_one(t); /* 7: 5 in [4, 7) */
	assert_true(virtq_should_notify(&t->vq));
	/* NO_INTERRUPT is ignored under EVENT_IDX (2.7.10). */
	put16(t, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	set_used_event(t, 7);
	push_one(t);
	assert_true(virtq_should_notify(&t->vq));
	/* Pop keeps asking for a kick at the next buffer. */
	assert_int_equal(avail_event(t), t->vq.last_avail);
}

static void test_event_idx_wrap(void **state)
{
	struct t *t = *state;

	/* Start both sides just below the 16-bit wrap. */
	t->vq.last_avail = t->vq.used_idx = 0xfffe;
	t->avail_idx = 0xfffe;
	put16(t, AVAIL + 2, 0xfffe);
	put16(t, USED + 2, 0xfffe);
	push_one(t);				  /* used idx 0xffff */
	assert_true(virtq_should_notify(&t->vq)); /* first decision */
	set_used_event(t, 0xffff);
	push_one(t); /* 0x0000: 0xffff in [0xffff, 0x0000) */
	assert_int_equal(get16(t, USED + 2), 0);
	assert_true(virtq_should_notify(&t->vq));
	set_used_event(t, 0x0001);
	push_one(t); /* 0x0001: event 1 not in [0, 1) */
	assert_false(virtq_should_notify(&t->vq));
	push_one(t); /* 0x0002: event 1 in [1, 2) */
	assert_true(virtq_should_notify(&t->vq));
	/* An event far behind (a stale driver value) never fires. */
	set_used_event(t, 0x8000);
	push_one(t);
	assert_false(virtq_should_notify(&t->vq));
	assert_int_equal(avail_event(t), 0x0003);
}

static void test_notify_suppression_plain(void **state)
{
	struct t *t = *state;

	virtq_disable_notify(&t->vq);
	assert_int_equal(get16(t, USED), VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_enable_notify(&t->vq));
	assert_int_equal(get16(t, USED), 0);
	virtq_disable_notify(&t->vq);
	desc(t, 0, BUF, 8, 0, 0);
	offer(t, 0); /* arrives while kicks are off */
	assert_true(virtq_enable_notify(&t->vq));
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_false(virtq_enable_notify(&t->vq));
}

static void test_notify_suppression_event_idx(void **state)
{
	struct t *t = *state;

	desc(t, 0, BUF, 8, 0, 0);
	offer(t, 0);
	virtq_disable_notify(&t->vq);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	/* Kicks off: avail_event was left behind. */
	assert_int_equal(avail_event(t), 0);
	assert_int_equal(get16(t, USED), 0); /* flags untouched under EVENT_IDX */
	assert_false(virtq_enable_notify(&t->vq));
	assert_int_equal(avail_event(t), 1);
	offer(t, 0);
	virtq_disable_notify(&t->vq);
	assert_true(virtq_enable_notify(&t->vq));
}

/* --- hostile driver --- */

static void test_loop(void **state)
{
	struct t *t = *state;

	desc(t, 2, BUF, 4, VIRTQ_DESC_F_NEXT, 3);
	desc(t, 3, BUF, 4, VIRTQ_DESC_F_NEXT, 2);
	offer(t, 2);
	expect_guest_error(t, "longer than the queue");
}

static void test_self_loop(void **state)
{
	struct t *t = *state;

	desc(t, 0, 0, 0, VIRTQ_DESC_F_NEXT, 0); /* zero-length still counts */
	offer(t, 0);
	expect_guest_error(t, "longer than the queue");
}

static void test_indirect_too_long(void **state)
{
	struct t *t = *state;

	for (uint16_t i = 0; i <= QSZ; i++)
		desc_at(t, TABLE, i, BUF, 1, VIRTQ_DESC_F_NEXT, i + 1);
	desc_at(t, TABLE, QSZ + 1, BUF, 1, 0, 0);
	desc(t, 0, TABLE, (QSZ + 2) * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(t, 0);
	expect_guest_error(t, "longer than the queue");
}

static void test_indirect_loop(void **state)
{
	struct t *t = *state;

	desc_at(t, TABLE, 0, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
	desc_at(t, TABLE, 1, BUF, 1, VIRTQ_DESC_F_NEXT, 0);
	desc(t, 0, TABLE, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(t, 0);
	expect_guest_error(t, "longer than the queue");
}

static void test_head_out_of_range(void **state)
{
	struct t *t = *state;

	offer(t, QSZ);
	expect_guest_error(t, "head");
}

static void test_next_out_of_range(void **state)
{
	struct t *t = *state;

	desc(t, 0, BUF, 4, VIRTQ_DESC_F_NEXT, QSZ);
	offer(t, 0);
	expect_guest_error(t, "next");
}

static void test_indirect_next_out_of_range(void **state)
{
	struct t *t = *state;

	/* In range for the queue, not for the 2-entry table. */
	desc_at(t, TABLE, 0, BUF, 1, VIRTQ_DESC_F_NEXT, 2);
	desc(t, 0, TABLE, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(t, 0);
	expect_guest_error(t, "next");
}

static void test_buffer_outside_ram(void **state)
{
	struct t *t = *state;

	desc(t, 0, RAM, 1, 0, 0);
	offer(t, 0);
	expect_guest_error(t, "outside guest RAM");
}

static void test_buffer_straddles_end(void **state)
{
	struct t *t = *state;

	desc(t, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
	desc(t, 1, RAM - 8, 9, VIRTQ_DESC_F_WRITE, 0);
	offer(t, 0);
	expect_guest_error(t, "outside guest RAM");
}

static void test_buffer_last_byte_ok(void **state)
{
	struct t *t = *state;

	desc(t, 0, RAM - 8, 8, VIRTQ_DESC_F_WRITE, 0);
	offer(t, 0);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_int_equal(t->elem.total_in, 8);
}

static void test_buffer_wraps(void **state)
{
	struct t *t = *state;

	desc(t, 0, 0xfffffffffffff000ULL, 0x2000, 0, 0);
	offer(t, 0);
	expect_guest_error(t, "outside guest RAM");
}

static void test_indirect_bad_length(void **state)
{
	struct t *t = *state;

	desc(t, 0, TABLE, 17, VIRTQ_DESC_F_INDIRECT, 0);
	offer(t, 0);
	expect_guest_error(t, "multiple of 16");
}

static void test_indirect_zero_length(void **state)
{
	struct t *t = *state;

	desc(t, 0, TABLE, 0, VIRTQ_DESC_F_INDIRECT, 0);
	offer(t, 0);
	expect_guest_error(t, "multiple of 16");
}

static void test_indirect_nested(void **state)
{
	struct t *t = *state;

	desc_at(t, TABLE, 0, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
	desc_at(t, TABLE, 1, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(t, 0, TABLE, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(t, 0);
	expect_guest_error(t, "nested indirect");
}

static void test_indirect_outside_ram(void **state)
{
	struct t *t = *state;

	desc(t, 0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(t, 0);
	expect_guest_error(t, "indirect table outside");
}

static void test_indirect_with_next(void **state)
{
	struct t *t = *state;

	desc_at(t, TABLE, 0, BUF, 1, 0, 0);
	desc(t, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	desc(t, 1, BUF, 1, 0, 0);
	offer(t, 0);
	expect_guest_error(t, "NEXT");
}

static void test_indirect_not_head(void **state)
{
	struct t *t = *state;

	desc_at(t, TABLE, 0, BUF, 1, 0, 0);
	desc(t, 0, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
	desc(t, 1, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(t, 0);
	expect_guest_error(t, "not at chain head");
}

static void test_out_after_in(void **state)
{
	struct t *t = *state;

	desc(t, 0, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(t, 1, BUF + 4, 4, 0, 0);
	offer(t, 0);
	expect_guest_error(t, "readable descriptor after a writable");
}

static void test_out_after_in_indirect(void **state)
{
	struct t *t = *state;

	desc_at(t, TABLE, 0, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc_at(t, TABLE, 1, 0, 0, 0, 0); /* even a zero-length one */
	desc(t, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(t, 0);
	expect_guest_error(t, "readable descriptor after a writable");
}

static void test_avail_idx_jump(void **state)
{
	struct t *t = *state;

	desc(t, 0, BUF, 4, 0, 0);
	put16(t, AVAIL + 2, QSZ); /* exactly a full ring: fine */
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	put16(t, AVAIL + 2, QSZ + 2); /* 17 ahead of last_avail 1 */
	assert_int_equal(virtq_pop(&t->vq, &t->elem), -EINVAL);
	assert_non_null(strstr(t->vq.error, "available index"));
	/* A push of the chain popped before the error is refused too. */
	assert_int_equal(virtq_push(&t->vq, &t->elem, 0), -EINVAL);
}

static void test_avail_idx_backwards(void **state)
{
	struct t *t = *state;

	put16(t, AVAIL + 2, 0xffff); /* "behind" = 65535 ahead */
	expect_guest_error(t, "available index");
}

static void test_chain_over_4g(void **state)
{
	struct t *t = *state;
	struct virtq vq;

	/* 300 * 16 MiB: every buffer is valid, the sum is not reportable. */
	assert_int_equal(virtq_init(&vq, &t->dma, 512), 0);
	assert_int_equal(virtq_set_addrs(&vq, DESC, AVAIL, USED), 0);
	assert_int_equal(virtq_enable(&vq, false), 0);
	for (uint16_t i = 0; i < 300; i++)
		desc_at(t, TABLE, i, 0, RAM, i < 299 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	desc(t, 0, TABLE, 300 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	put16(t, AVAIL + 4, 0);
	put16(t, AVAIL + 2, 1);
	assert_int_equal(virtq_pop(&vq, &t->elem), -EINVAL);
	assert_non_null(strstr(vq.error, "4 GiB"));
}

static void test_set_addrs_checks(void **state)
{
	struct t *t = *state;
	struct virtq *vq = &t->vq;
	static const struct {
		uint64_t d, a, u;
	} bad[] = {
	    {DESC + 8, AVAIL, USED},		  /* desc not 16-aligned */
	    {DESC, AVAIL + 1, USED},		  /* avail not 2-aligned */
	    {DESC, AVAIL, USED + 2},		  /* used not 4-aligned */
	    {RAM, AVAIL, USED},			  /* desc outside */
	    {RAM - 16 * QSZ + 16, AVAIL, USED},	  /* desc straddles the end */
	    {DESC, RAM - 6 - 2 * QSZ + 2, USED},  /* avail's used_event past the end */
	    {DESC, AVAIL, RAM - 6 - 8 * QSZ + 4}, /* used's avail_event past the end */
	    {DESC, AVAIL, 0xfffffffffffffff0ULL}, /* wraps */
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		virtq_reset(vq);
		assert_int_equal(virtq_set_addrs(vq, bad[i].d, bad[i].a, bad[i].u), -EINVAL);
		assert_non_null(vq->error);
		assert_false(vq->ready);
		assert_int_equal(virtq_enable(vq, false), -EINVAL);
		assert_int_equal(virtq_pop(vq, &t->elem), -EINVAL);
	}
	/* Rings ending at the very end of RAM are fine (the used ring's
	 * 4-byte alignment leaves 2 bytes after it). */
	virtq_reset(vq);
	assert_int_equal(
	    virtq_set_addrs(vq, RAM - 16 * QSZ, RAM - 6 - 2 * QSZ, RAM - 0x1000 - 8 - 8 * QSZ), 0);
	assert_null(vq->error);
}

static void test_usable_after_reset(void **state)
{
	struct t *t = *state;

	desc(t, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 0);
	offer(t, 0);
	expect_guest_error(t, "longer");
	assert_int_equal(virtq_push(&t->vq, &t->elem, 0), -EINVAL);

	/* Device reset; the driver rebuilds its rings from scratch. */
	virtq_reset(&t->vq);
	assert_null(t->vq.error);
	assert_false(t->vq.ready);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 0);
	memset(guest_mem_ptr(&t->gm, AVAIL, 0x100), 0, 0x100);
	memset(guest_mem_ptr(&t->gm, USED, 0x100), 0, 0x100);
	t->avail_idx = 0;
	assert_int_equal(virtq_set_addrs(&t->vq, DESC, AVAIL, USED), 0);
	assert_int_equal(virtq_enable(&t->vq, true), 0);
	desc(t, 0, BUF, 4, VIRTQ_DESC_F_WRITE, 0);
	offer(t, 0);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_int_equal(virtq_push(&t->vq, &t->elem, 4), 0);
	assert_int_equal(get16(t, USED + 2), 1);
	assert_true(virtq_should_notify(&t->vq));
}

static void test_invalidate_bounds(void **state)
{
	struct t *t = *state;
	uint8_t *avail = t->vq.avail_hva;

	/* Ranges that end right before a ring or start right after it leave it alone. */
	virtq_invalidate(&t->vq, DESC - 16, 16);
	virtq_invalidate(&t->vq, USED + 4 + 8 * QSZ + 2, 0x1000);
	virtq_invalidate(&t->vq, 0, 0);
	assert_false(t->vq.rings_stale);
	assert_ptr_equal(t->vq.avail_hva, avail);
	/* One byte of overlap (the avail ring's used_event) is enough. */
	virtq_invalidate(&t->vq, AVAIL + 4 + 2 * QSZ + 1, 1);
	assert_true(t->vq.rings_stale);
	assert_null(t->vq.avail_hva);
	/* The identity space still maps it: the next access translates it again. */
	desc(t, 2, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	offer(t, 2);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_false(t->vq.rings_stale);
	assert_ptr_equal(t->vq.avail_hva, avail);
	assert_int_equal(virtq_push(&t->vq, &t->elem, 8), 0);
	assert_int_equal(get16(t, USED + 2), 1);
	/* An unmap covering the whole address space, ending at 2^64. */
	virtq_invalidate(&t->vq, 0, UINT64_MAX);
	assert_true(t->vq.rings_stale);
	assert_true(virtq_should_notify(&t->vq));
	assert_false(t->vq.rings_stale);
}

/* --- DMA spaces: a paged space splits what is contiguous in IOVA --- */

#define PG	   DMA_PAGES_SIZE
#define SPLIT	   0x200000ULL /* two IOVA pages moved apart: */
#define SPLIT_GPA0 0x300000ULL /* SPLIT's page */
#define SPLIT_GPA1 0x500000ULL /* SPLIT + PG's page */

static void split_pages(struct t *t)
{
	dma_pages_map(&t->pages, SPLIT, SPLIT_GPA0, PG);
	dma_pages_map(&t->pages, SPLIT + PG, SPLIT_GPA1, PG);
}

static void test_dma_buffer_split(void **state)
{
	struct t *t = *state;
	uint8_t data[0x1000], back[0x1000];

	split_pages(t);
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	/* The copy helper follows the mapping: the bytes land in two distant pages. */
	assert_int_equal(dma_write(&t->pages.space, SPLIT + 0x800, data, sizeof(data)), 0);
	assert_memory_equal(guest_mem_ptr(&t->gm, SPLIT_GPA0 + 0x800, 0x800), data, 0x800);
	assert_memory_equal(guest_mem_ptr(&t->gm, SPLIT_GPA1, 0x800), data + 0x800, 0x800);

	desc(t, 0, SPLIT + 0x800, 0x1000, VIRTQ_DESC_F_NEXT, 1);
	desc(t, 1, SPLIT + 0x100, 0x1000, VIRTQ_DESC_F_WRITE, 0);
	offer(t, 0);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	/* Two descriptors, four host iovecs. */
	assert_int_equal(t->elem.nr_out, 2);
	assert_int_equal(t->elem.nr_in, 2);
	assert_int_equal(t->elem.total_out, 0x1000);
	assert_int_equal(t->elem.total_in, 0x1000);
	assert_ptr_equal(t->iov[0].iov_base, guest_mem_ptr(&t->gm, SPLIT_GPA0 + 0x800, 1));
	assert_int_equal(t->iov[0].iov_len, 0x800);
	assert_ptr_equal(t->iov[1].iov_base, guest_mem_ptr(&t->gm, SPLIT_GPA1, 1));
	assert_int_equal(t->iov[1].iov_len, 0x800);
	assert_ptr_equal(t->iov[2].iov_base, guest_mem_ptr(&t->gm, SPLIT_GPA0 + 0x100, 1));
	assert_int_equal(t->iov[2].iov_len, 0xf00);
	assert_ptr_equal(t->iov[3].iov_base, guest_mem_ptr(&t->gm, SPLIT_GPA1, 1));
	assert_int_equal(t->iov[3].iov_len, 0x100);
	/* The device reads the buffer in IOVA order. */
	assert_int_equal(virtq_iov_to_buf(t->iov, t->elem.nr_out, back, sizeof(back)),
			 sizeof(back));
	assert_memory_equal(back, data, sizeof(data));
	assert_int_equal(virtq_push(&t->vq, &t->elem, 0x1000), 0);
	assert_int_equal(get16(t, USED + 2), 1);
}

static void test_dma_chain_limit_counts_iovecs(void **state)
{
	struct t *t = *state;

	split_pages(t);
	t->elem.max_iov = 2;
	/* Two descriptors crossing a page boundary the space keeps contiguous: 2 iovecs. */
	desc(t, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(t, 1, BUF + PG - 0x10, 0x20, 0, 0);
	offer(t, 0);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_int_equal(t->elem.nr_out, 2);
	assert_int_equal(virtq_push(&t->vq, &t->elem, 0), 0);
	/* The same two descriptors, the second across the split: 3 iovecs, over the limit. */
	desc(t, 1, SPLIT + PG - 0x10, 0x20, 0, 0);
	offer(t, 0);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), -EINVAL);
	assert_non_null(strstr(t->vq.error, "more buffers"));
	assert_int_equal(t->vq.inflight, 0);
}

static void test_dma_indirect_split(void **state)
{
	struct t *t = *state;
	uint64_t table = SPLIT + PG - 24; /* entry 1 straddles the two host pages */
	uint8_t d[3][16];
	const struct {
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
	} e[3] = {
	    {BUF, 10, VIRTQ_DESC_F_NEXT, 1},
	    {BUF + 100, 20, VIRTQ_DESC_F_NEXT, 2},
	    {BUF + 200, 30, VIRTQ_DESC_F_WRITE, 0},
	};

	split_pages(t);
	for (unsigned i = 0; i < 3; i++) {
		memcpy(d[i], &e[i].addr, 8);
		memcpy(d[i] + 8, &e[i].len, 4);
		memcpy(d[i] + 12, &e[i].flags, 2);
		memcpy(d[i] + 14, &e[i].next, 2);
	}
	assert_int_equal(dma_write(&t->pages.space, table, d, sizeof(d)), 0);
	desc(t, 0, table, sizeof(d), VIRTQ_DESC_F_INDIRECT, 0);
	offer(t, 0);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_int_equal(t->elem.nr_out, 2);
	assert_int_equal(t->elem.nr_in, 1);
	assert_int_equal(t->elem.total_out, 30);
	assert_int_equal(t->elem.total_in, 30);
	assert_ptr_equal(t->iov[1].iov_base, guest_mem_ptr(&t->gm, BUF + 100, 1));
	assert_ptr_equal(t->iov[2].iov_base, guest_mem_ptr(&t->gm, BUF + 200, 1));
}

static void test_dma_ring_split_refused(void **state)
{
	struct t *t = *state;

	split_pages(t);
	virtq_reset(&t->vq);
	/* A descriptor ring across the split: not one host range, refused. */
	assert_int_equal(virtq_set_addrs(&t->vq, SPLIT + PG - 0x80, AVAIL, USED), -EINVAL);
	assert_non_null(strstr(t->vq.error, "not contiguous"));
	assert_int_equal(virtq_enable(&t->vq, false), -EINVAL);
	/* Unmapped is still the old reason. */
	virtq_reset(&t->vq);
	dma_pages_unmap(&t->pages, SPLIT, PG);
	assert_int_equal(virtq_set_addrs(&t->vq, SPLIT, AVAIL, USED), -EINVAL);
	assert_non_null(strstr(t->vq.error, "guest RAM"));
}

static void test_dma_unmap_ring_breaks_queue(void **state)
{
	struct t *t = *state;

	push_one(t);
	assert_int_equal(get16(t, USED + 2), 1);
	/* The driver (or a hostile vIOMMU user) unmaps the used ring under the running queue. */
	dma_pages_unmap(&t->pages, USED, PG);
	assert_int_equal(t->unmaps, 1);
	assert_true(t->vq.rings_stale);
	assert_null(t->vq.used_hva);
	desc(t, 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	offer(t, 0);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), -EINVAL);
	assert_non_null(strstr(t->vq.error, "ring no longer mapped"));
	assert_int_equal(virtq_pop(&t->vq, &t->elem), -EINVAL);
	assert_false(virtq_should_notify(&t->vq));
	assert_int_equal(t->vq.last_avail, 1);
	/* Nothing was written to the old used ring after the unmap. */
	assert_int_equal(get16(t, USED + 2), 1);
}

static void test_dma_remap_ring_follows(void **state)
{
	struct t *t = *state;
	const uint64_t moved = 0x600000;
	uint16_t five = 5, two = 2;

	push_one(t); /* avail idx 1, last_avail 1 */
	/* A copy of the available ring elsewhere, one entry further than the original. */
	memcpy(guest_mem_ptr(&t->gm, moved, PG), guest_mem_ptr(&t->gm, AVAIL, PG), PG);
	assert_int_equal(guest_mem_write(&t->gm, moved + 4 + 2 * 1, &five, 2), 0);
	assert_int_equal(guest_mem_write(&t->gm, moved + 2, &two, 2), 0);
	desc(t, 5, BUF, 4, 0, 0);
	/* The avail ring's IOVA now reaches the copy. */
	dma_pages_map(&t->pages, AVAIL, moved, PG);
	assert_true(t->vq.rings_stale);
	assert_int_equal(virtq_pop(&t->vq, &t->elem), 1);
	assert_int_equal(t->elem.head, 5);
	assert_false(t->vq.rings_stale);
	assert_ptr_equal(t->vq.avail_hva, guest_mem_ptr(&t->gm, moved, 1));
	assert_null(t->vq.error);
}

static void test_dma_unmap_elsewhere(void **state)
{
	struct t *t = *state;
	uint8_t *desc_hva = t->vq.desc_hva;

	dma_pages_unmap(&t->pages, SPLIT, PG);
	assert_int_equal(t->unmaps, 1);
	assert_false(t->vq.rings_stale);
	assert_ptr_equal(t->vq.desc_hva, desc_hva);
	/* But a buffer there is gone. */
	desc(t, 0, SPLIT + 8, 4, 0, 0);
	offer(t, 0);
	expect_guest_error(t, "buffer outside guest RAM");
}

#define T(f)  cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TE(f) cmocka_unit_test_setup_teardown(f, setup_event, teardown)
#define TP(f) cmocka_unit_test_setup_teardown(f, setup_pages, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_init_sizes),
	    T(test_simple_out),
	    T(test_out_in_chain),
	    T(test_used_ring_wraps),
	    T(test_indirect),
	    T(test_indirect_full_queue_length),
	    T(test_zero_length),
	    T(test_max_iov),
	    T(test_unpop),
	    T(test_no_interrupt_flag),
	    TE(test_event_idx_notify),
	    TE(test_event_idx_wrap),
	    T(test_notify_suppression_plain),
	    TE(test_notify_suppression_event_idx),
	    T(test_loop),
	    T(test_self_loop),
	    T(test_indirect_too_long),
	    T(test_indirect_loop),
	    T(test_head_out_of_range),
	    T(test_next_out_of_range),
	    T(test_indirect_next_out_of_range),
	    T(test_buffer_outside_ram),
	    T(test_buffer_straddles_end),
	    T(test_buffer_last_byte_ok),
	    T(test_buffer_wraps),
	    T(test_indirect_bad_length),
	    T(test_indirect_zero_length),
	    T(test_indirect_nested),
	    T(test_indirect_outside_ram),
	    T(test_indirect_with_next),
	    T(test_indirect_not_head),
	    T(test_out_after_in),
	    T(test_out_after_in_indirect),
	    T(test_avail_idx_jump),
	    T(test_avail_idx_backwards),
	    T(test_chain_over_4g),
	    T(test_set_addrs_checks),
	    T(test_usable_after_reset),
	    T(test_invalidate_bounds),
	    TP(test_dma_buffer_split),
	    TP(test_dma_chain_limit_counts_iovecs),
	    TP(test_dma_indirect_split),
	    TP(test_dma_ring_split_refused),
	    TP(test_dma_unmap_ring_breaks_queue),
	    TP(test_dma_remap_ring_follows),
	    TP(test_dma_unmap_elsewhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
