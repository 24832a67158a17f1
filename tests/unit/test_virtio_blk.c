/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk on a temporary image, driven as a driver would through the
 * virtio-pci transport: registers via the MMIO bus, rings in guest RAM,
 * kicks by calling the event-loop handler body, completions awaited on the
 * used ring (the I/O runs on the device's worker threads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio_blk.h"
#include "virtio_harness.h"

#define RAM	    (16ULL << 20)
#define HDR	    0x100000ULL
#define STATUS	    0x101000ULL
#define DATA	    0x200000ULL
#define DATA2	    0x400000ULL
#define QSIZE	    16
#define IMG_SECTORS 2048ULL

struct ctx {
	struct vh vh;
	struct virtio_blk blk;
	char path[64];
};

static int setup_common(void **state, bool readonly, unsigned nq)
{
	struct ctx *c = calloc(1, sizeof(*c));
	uint8_t *pattern = malloc(IMG_SECTORS * 512);
	int fd;

	assert_non_null(c);
	assert_non_null(pattern);
	strcpy(c->path, "/tmp/sluice-blk-testXXXXXX");
	fd = mkstemp(c->path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < IMG_SECTORS * 512; i++)
		pattern[i] = (uint8_t)(i / 512 + 1);
	assert_int_equal(write(fd, pattern, IMG_SECTORS * 512), IMG_SECTORS * 512);
	close(fd);
	free(pattern);

	vh_setup(&c->vh, RAM);
	assert_int_equal(virtio_blk_init(&c->blk, c->path, readonly, nq, &c->vh.env), 0);
	vh_attach(&c->vh, &c->blk.vdev);
	*state = c;
	return 0;
}

static int setup(void **state)
{
	return setup_common(state, false, 1);
}

static int setup_ro(void **state)
{
	return setup_common(state, true, 1);
}

static int setup_mq(void **state)
{
	return setup_common(state, false, 2);
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	virtio_blk_destroy(&c->blk);
	vh_teardown(&c->vh);
	unlink(c->path);
	free(c);
	return 0;
}

/* Every feature the device offers except EVENT_IDX (the test never suppresses notifications). */
static void bring_up(struct ctx *c, unsigned nq)
{
	vh_bring_up(&c->vh, vh_device_features(&c->vh) & ~VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX),
		    nq, QSIZE);
}

/* header, optional data (written by the device if dev_writes), status byte: the status. */
static uint8_t request_q(struct ctx *c, unsigned q, uint32_t type, uint64_t sector, uint64_t data,
			 uint32_t len, bool dev_writes)
{
	uint8_t hdr[16] = {0}, st = 0xee;
	uint16_t next = 1;

	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	assert_int_equal(guest_mem_write(&c->vh.gm, HDR, hdr, sizeof(hdr)), 0);
	assert_int_equal(guest_mem_write(&c->vh.gm, STATUS, &st, 1), 0);
	vh_put_desc(&c->vh, q, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	if (len) {
		vh_put_desc(&c->vh, q, 1, data, len,
			    VIRTQ_DESC_F_NEXT | (dev_writes ? VIRTQ_DESC_F_WRITE : 0), 2);
		next = 2;
	}
	vh_put_desc(&c->vh, q, next, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	assert_true(vh_run(&c->vh, q, 0));
	assert_int_equal(guest_mem_read(&c->vh.gm, STATUS, &st, 1), 0);
	return st;
}

static uint8_t request(struct ctx *c, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
		       bool dev_writes)
{
	return request_q(c, 0, type, sector, data, len, dev_writes);
}

static uint32_t cfg32(struct ctx *c, uint32_t off)
{
	return (uint32_t)vh_bar_read(&c->vh, VIRTIO_PCI_DEVCFG_OFF + off, 4);
}

static void fill(struct ctx *c, uint64_t gpa, uint8_t seed, size_t len)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
	assert_int_equal(guest_mem_write(&c->vh.gm, gpa, p, len), 0);
	free(p);
}

static bool same(struct ctx *c, uint64_t a, uint64_t b, size_t len)
{
	uint8_t *p = malloc(len), *q = malloc(len);
	bool eq;

	assert_non_null(p);
	assert_non_null(q);
	assert_int_equal(guest_mem_read(&c->vh.gm, a, p, len), 0);
	assert_int_equal(guest_mem_read(&c->vh.gm, b, q, len), 0);
	eq = !memcmp(p, q, len);
	free(p);
	free(q);
	return eq;
}

static bool zeros(struct ctx *c, uint64_t a, size_t len)
{
	uint8_t *p = malloc(len);
	bool z = true;

	assert_non_null(p);
	assert_int_equal(guest_mem_read(&c->vh.gm, a, p, len), 0);
	for (size_t i = 0; i < len; i++)
		z &= p[i] == 0;
	free(p);
	return z;
}

static void test_config(void **state)
{
	struct ctx *c = *state;
	uint64_t f = vh_device_features(&c->vh);

	assert_int_equal(vh_cfg_read(&c->vh, PCI_DEVICE_ID, 2), 0x1042);
	assert_true(f & VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX));
	assert_true(f & VIRTIO_FEATURE(VIRTIO_BLK_F_BLK_SIZE));
	assert_true(f & VIRTIO_FEATURE(VIRTIO_BLK_F_FLUSH));
	assert_true(f & VIRTIO_FEATURE(VIRTIO_BLK_F_MQ));
	assert_true(f & VIRTIO_FEATURE(VIRTIO_BLK_F_DISCARD));
	assert_true(f & VIRTIO_FEATURE(VIRTIO_BLK_F_WRITE_ZEROES));
	assert_false(f & VIRTIO_FEATURE(VIRTIO_BLK_F_RO));
	assert_true(f & VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_DEVCFG_OFF + VIRTIO_BLK_CFG_CAPACITY, 8),
			 IMG_SECTORS);
	assert_int_equal(cfg32(c, VIRTIO_BLK_CFG_SEG_MAX), VIRTIO_BLK_SEG_MAX);
	assert_int_equal(cfg32(c, VIRTIO_BLK_CFG_BLK_SIZE), 512);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_DEVCFG_OFF + VIRTIO_BLK_CFG_NUM_QUEUES, 2),
			 1);
	assert_int_equal(cfg32(c, VIRTIO_BLK_CFG_MAX_DISCARD_SEG), VIRTIO_BLK_MAX_DISCARD_SEG);
	assert_true(cfg32(c, VIRTIO_BLK_CFG_MAX_DISCARD_SECT) > 0);
	assert_true(cfg32(c, VIRTIO_BLK_CFG_MAX_WZ_SECT) > 0);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_NUMQ, 2), 1);
}

static void test_rw_roundtrip(void **state)
{
	struct ctx *c = *state;
	static const uint64_t sectors[] = {0, 7, 1000, IMG_SECTORS - 8};
	uint8_t first;
	int fd;

	bring_up(c, 1);
	/* The image as created: sector s holds s + 1. */
	assert_int_equal(request(c, VIRTIO_BLK_T_IN, 5, DATA, 512, true), VIRTIO_BLK_S_OK);
	assert_int_equal(vh_used_len(&c->vh, 0, 0), 513);
	assert_int_equal(guest_mem_read(&c->vh.gm, DATA + 511, &first, 1), 0);
	assert_int_equal(first, 6);
	for (unsigned i = 0; i < sizeof(sectors) / sizeof(sectors[0]); i++) {
		fill(c, DATA, (uint8_t)(i * 31 + 1), 4096);
		assert_int_equal(request(c, VIRTIO_BLK_T_OUT, sectors[i], DATA, 4096, false),
				 VIRTIO_BLK_S_OK);
		assert_int_equal(request(c, VIRTIO_BLK_T_IN, sectors[i], DATA2, 4096, true),
				 VIRTIO_BLK_S_OK);
		assert_true(same(c, DATA, DATA2, 4096));
	}
	/* And it really is in the file. */
	fd = open(c->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &first, 1, (off_t)(sectors[3] * 512)), 1);
	close(fd);
	assert_int_equal(first, (uint8_t)(3 * 31 + 1));
}

static void test_flush_get_id(void **state)
{
	struct ctx *c = *state;
	char id[VIRTIO_BLK_ID_BYTES + 1] = {0};
	const char *base = strrchr(c->path, '/') + 1;

	bring_up(c, 1);
	assert_int_equal(request(c, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
	assert_int_equal(request(c, VIRTIO_BLK_T_GET_ID, 0, DATA, 64, true), VIRTIO_BLK_S_OK);
	assert_int_equal(vh_used_len(&c->vh, 0, 1), VIRTIO_BLK_ID_BYTES + 1);
	assert_int_equal(guest_mem_read(&c->vh.gm, DATA, id, VIRTIO_BLK_ID_BYTES), 0);
	/* The image's file name, cut to 20 bytes (this one has 21). */
	assert_int_equal(strlen(base), 21);
	assert_int_equal(strlen(id), VIRTIO_BLK_ID_BYTES);
	assert_memory_equal(id, base, VIRTIO_BLK_ID_BYTES);
}

static void put_seg(struct ctx *c, uint64_t gpa, uint64_t sector, uint32_t n, uint32_t flags)
{
	uint8_t s[16];

	memcpy(s, &sector, 8);
	memcpy(s + 8, &n, 4);
	memcpy(s + 12, &flags, 4);
	assert_int_equal(guest_mem_write(&c->vh.gm, gpa, s, 16), 0);
}

static void test_discard_write_zeroes(void **state)
{
	struct ctx *c = *state;

	bring_up(c, 1);
	/* Discard sectors 16..23, write zeroes to 40..43 and (unmap) 48..55. */
	put_seg(c, DATA2, 16, 8, 0);
	assert_int_equal(request(c, VIRTIO_BLK_T_DISCARD, 0, DATA2, 16, false), VIRTIO_BLK_S_OK);
	assert_int_equal(request(c, VIRTIO_BLK_T_IN, 16, DATA, 4096, true), VIRTIO_BLK_S_OK);
	assert_true(zeros(c, DATA, 4096));
	put_seg(c, DATA2, 40, 4, 0);
	put_seg(c, DATA2 + 16, 48, 8, VIRTIO_BLK_WZ_F_UNMAP);
	assert_int_equal(request(c, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA2, 32, false),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(request(c, VIRTIO_BLK_T_IN, 40, DATA, 2048, true), VIRTIO_BLK_S_OK);
	assert_true(zeros(c, DATA, 2048));
	assert_int_equal(request(c, VIRTIO_BLK_T_IN, 48, DATA, 4096, true), VIRTIO_BLK_S_OK);
	assert_true(zeros(c, DATA, 4096));
	/* Neighbours untouched: sector 44 still holds 45. */
	assert_int_equal(request(c, VIRTIO_BLK_T_IN, 44, DATA, 512, true), VIRTIO_BLK_S_OK);
	assert_false(zeros(c, DATA, 512));

	/* Bad segments: out of range, overflowing, unknown flags, ragged list. */
	put_seg(c, DATA2, IMG_SECTORS - 2, 4, 0);
	assert_int_equal(request(c, VIRTIO_BLK_T_DISCARD, 0, DATA2, 16, false), VIRTIO_BLK_S_IOERR);
	put_seg(c, DATA2, UINT64_MAX - 1, 4, 0);
	assert_int_equal(request(c, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA2, 16, false),
			 VIRTIO_BLK_S_IOERR);
	put_seg(c, DATA2, 0, 4, VIRTIO_BLK_WZ_F_UNMAP);
	assert_int_equal(request(c, VIRTIO_BLK_T_DISCARD, 0, DATA2, 16, false),
			 VIRTIO_BLK_S_UNSUPP);
	put_seg(c, DATA2, 0, 4, 0x80);
	assert_int_equal(request(c, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA2, 16, false),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(request(c, VIRTIO_BLK_T_DISCARD, 0, DATA2, 24, false), VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(c, VIRTIO_BLK_T_DISCARD, 0, 0, 0, false), VIRTIO_BLK_S_IOERR);
}

static void test_bad_requests(void **state)
{
	struct ctx *c = *state;

	bring_up(c, 1);
	/* Past the end, straddling the end, overflowing sector * 512, not whole sectors. */
	assert_int_equal(request(c, VIRTIO_BLK_T_IN, IMG_SECTORS, DATA, 512, true),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(c, VIRTIO_BLK_T_IN, IMG_SECTORS - 1, DATA, 1024, true),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(c, VIRTIO_BLK_T_OUT, UINT64_MAX, DATA, 512, false),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(c, VIRTIO_BLK_T_OUT, 1ULL << 55, DATA, 512, false),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(c, VIRTIO_BLK_T_IN, 0, DATA, 100, true), VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(c, 99, 0, DATA, 512, true), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(request(c, 3, 0, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
	/* The queue still works. */
	assert_int_equal(request(c, VIRTIO_BLK_T_IN, IMG_SECTORS - 1, DATA, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_readonly(void **state)
{
	struct ctx *c = *state;

	assert_true(vh_device_features(&c->vh) & VIRTIO_FEATURE(VIRTIO_BLK_F_RO));
	assert_false(vh_device_features(&c->vh) & VIRTIO_FEATURE(VIRTIO_BLK_F_DISCARD));
	bring_up(c, 1);
	fill(c, DATA, 9, 512);
	assert_int_equal(request(c, VIRTIO_BLK_T_OUT, 3, DATA, 512, false), VIRTIO_BLK_S_IOERR);
	put_seg(c, DATA2, 3, 1, 0);
	assert_int_equal(request(c, VIRTIO_BLK_T_WRITE_ZEROES, 0, DATA2, 16, false),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(c, VIRTIO_BLK_T_IN, 3, DATA, 512, true), VIRTIO_BLK_S_OK);
	for (int i = 0; i < 512; i += 97) {
		uint8_t b;

		assert_int_equal(guest_mem_read(&c->vh.gm, DATA + (uint64_t)i, &b, 1), 0);
		assert_int_equal(b, 4);
	}
}

static void test_short_header(void **state)
{
	struct ctx *c = *state;

	bring_up(c, 1);
	vh_put_desc(&c->vh, 0, 0, HDR, 8, VIRTQ_DESC_F_NEXT, 1);
	vh_put_desc(&c->vh, 0, 1, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	assert_false(vh_run(&c->vh, 0, 0));
	assert_true(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(vh_used_idx(&c->vh, 0), 0);
}

static void test_missing_status(void **state)
{
	struct ctx *c = *state;

	bring_up(c, 1);
	vh_put_desc(&c->vh, 0, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	vh_put_desc(&c->vh, 0, 1, DATA, 512, 0, 0);
	assert_false(vh_run(&c->vh, 0, 0));
	assert_true(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	/* A reset brings the device back. */
	bring_up(c, 1);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(request(c, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
}

static void test_multiqueue(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_DEVCFG_OFF + VIRTIO_BLK_CFG_NUM_QUEUES, 2),
			 2);
	bring_up(c, 2);
	fill(c, DATA, 77, 8192);
	assert_int_equal(request_q(c, 1, VIRTIO_BLK_T_OUT, 100, DATA, 8192, false),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(request_q(c, 0, VIRTIO_BLK_T_IN, 100, DATA2, 8192, true), VIRTIO_BLK_S_OK);
	assert_true(same(c, DATA, DATA2, 8192));
	assert_int_equal(vh_used_idx(&c->vh, 0), 1);
	assert_int_equal(vh_used_idx(&c->vh, 1), 1);
}

static void test_reset_in_flight(void **state)
{
	struct ctx *c = *state;
	uint16_t idx;

	bring_up(c, 1);
	/* Several chains offered at once, then a reset right after the kick: no crash, no leak. */
	for (uint16_t i = 0; i < 4; i++) {
		uint16_t h = (uint16_t)(3 * i);

		vh_put_desc(&c->vh, 0, h, HDR, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(h + 1));
		vh_put_desc(&c->vh, 0, (uint16_t)(h + 1), DATA + 65536ULL * i, 65536,
			    VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (uint16_t)(h + 2));
		vh_put_desc(&c->vh, 0, (uint16_t)(h + 2), STATUS + i, 1, VIRTQ_DESC_F_WRITE, 0);
		assert_int_equal(guest_mem_write(&c->vh.gm, VH_AVAIL(0) + 4 + 2ULL * i, &h, 2), 0);
	}
	idx = 4;
	assert_int_equal(guest_mem_write(&c->vh.gm, VH_AVAIL(0) + 2, &idx, 2), 0);
	vh_kick(&c->vh, 0);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(vh_status(&c->vh), 0);
	bring_up(c, 1);
	assert_int_equal(request(c, VIRTIO_BLK_T_IN, 0, DATA, 512, true), VIRTIO_BLK_S_OK);
	assert_int_equal(vh_used_idx(&c->vh, 0), 1);
}

static void test_open_errors(void **state)
{
	struct ctx *c = *state;
	struct virtio_blk b;

	(void)c;
	assert_int_equal(virtio_blk_init(&b, "/nonexistent/disk.img", false, 1, &c->vh.env),
			 -ENOENT);
	assert_int_equal(virtio_blk_init(&b, c->path, false, 0, &c->vh.env), -EINVAL);
	assert_int_equal(virtio_blk_init(&b, c->path, false, 17, &c->vh.env), -EINVAL);
	assert_int_equal(virtio_blk_init(&b, "/tmp", false, 1, &c->vh.env), -EISDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rw_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_get_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_discard_write_zeroes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readonly, setup_ro, teardown),
	    cmocka_unit_test_setup_teardown(test_short_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_multiqueue, setup_mq, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_in_flight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
