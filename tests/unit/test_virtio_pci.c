/* SPDX-License-Identifier: MIT */
/*
 * virtio-pci transport and virtio-rng, driven as a driver would: config
 * space through the PCI root, registers through the MMIO bus at the BAR,
 * rings in guest RAM, kicks by calling the event-loop handler body. The
 * "dma" tests give the device a paged DMA space (dma_pages.h) and change
 * its mappings under the running queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dma_pages.h"
#include "virtio_harness.h"
#include "virtio_rng.h"

#define RAM	   (16ULL << 20)
#define DESC	   VH_DESC(0)
#define AVAIL	   VH_AVAIL(0)
#define USED	   VH_USED(0)
#define BUF	   VH_SCRATCH_BASE
#define QSIZE	   16
#define NOTIFY_LEN 2

struct ctx {
	struct vh vh;
	struct virtio_rng rng;
	bool paged;
	struct dma_pages pages; /* the device's DMA space when paged */
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	vh_setup(&c->vh, RAM);
	assert_int_equal(virtio_rng_init(&c->rng, &c->vh.env), 0);
	vh_attach(&c->vh, &c->rng.vdev);
	*state = c;
	return 0;
}

/* The device on a paged DMA space (the identity over guest RAM until a test changes it). */
static int setup_pages(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct virtio_env env;

	assert_non_null(c);
	vh_setup(&c->vh, RAM);
	dma_pages_init(&c->pages, &c->vh.gm);
	c->paged = true;
	env = c->vh.env;
	env.dma = &c->pages.space;
	assert_int_equal(virtio_rng_init(&c->rng, &env), 0);
	vh_attach(&c->vh, &c->rng.vdev);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	virtio_rng_destroy(&c->rng);
	if (c->paged)
		dma_pages_destroy(&c->pages);
	vh_teardown(&c->vh);
	free(c);
	return 0;
}

static void test_config_space(void **state)
{
	struct ctx *c = *state;
	static const struct {
		uint8_t type;
		uint32_t off, min_len;
	} want[] = {
	    {VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_SIZE},
	    {VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF, VIRTIO_PCI_NOTIFY_MULT},
	    {VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1},
	};
	bool msix = false;

	assert_int_equal(vh_cfg_read(&c->vh, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(vh_cfg_read(&c->vh, PCI_DEVICE_ID, 2), 0x1044);
	assert_int_equal(vh_cfg_read(&c->vh, PCI_REVISION_ID, 1), 1);
	assert_int_equal(vh_cfg_read(&c->vh, PCI_SUBSYSTEM_ID, 2), 0x40);
	assert_int_equal(vh_cfg_read(&c->vh, PCI_BASE_ADDRESS_0, 4) & 0x7, PCI_BAR_MEM_TYPE_64);
	assert_int_equal(vh_cfg_read(&c->vh, PCI_INTERRUPT_PIN, 1), 1);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint32_t p = vh_find_cap(&c->vh, want[i].type);

		assert_int_not_equal(p, 0);
		assert_int_equal(vh_cfg_read(&c->vh, p + 4, 1), VIRTIO_PCI_BAR);
		assert_int_equal(vh_cfg_read(&c->vh, p + 8, 4), want[i].off);
		assert_true(vh_cfg_read(&c->vh, p + 12, 4) >= want[i].min_len);
	}
	assert_int_equal(
	    vh_cfg_read(&c->vh, vh_find_cap(&c->vh, VIRTIO_PCI_CAP_NOTIFY_CFG) + 16, 4),
	    VIRTIO_PCI_NOTIFY_MULT);
	/* virtio-rng has no device config: no DEVICE_CFG capability. */
	assert_int_equal(vh_find_cap(&c->vh, VIRTIO_PCI_CAP_DEVICE_CFG), 0);
	assert_int_not_equal(vh_find_cap(&c->vh, VIRTIO_PCI_CAP_PCI_CFG), 0);
	for (uint32_t p = vh_cfg_read(&c->vh, PCI_CAPABILITY_LIST, 1); p;
	     p = vh_cfg_read(&c->vh, p + 1, 1))
		msix |= vh_cfg_read(&c->vh, p, 1) == PCI_CAP_ID_MSIX;
	assert_true(msix);
}

static void test_features(void **state)
{
	struct ctx *c = *state;
	uint64_t f;

	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	f = vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_DF, 4);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	f |= vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_DF, 4) << 32;
	assert_true(f & VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
	assert_true(f & VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX));
	assert_false(f & VIRTIO_FEATURE(VIRTIO_F_ACCESS_PLATFORM));
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_DFSELECT, 7, 4);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_DF, 4), 0);

	assert_true(vh_negotiate(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1)) &
		    VIRTIO_STATUS_FEATURES_OK);
	/* Once FEATURES_OK is set the driver's features are fixed. */
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_GF, VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX), 4);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_GF, 4), 0);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_GF, 4), 1);
}

static void test_features_refused(void **state)
{
	struct ctx *c = *state;

	/* Bit 0 is not offered by virtio-rng. */
	assert_false(vh_negotiate(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | 1) &
		     VIRTIO_STATUS_FEATURES_OK);
	/* No VERSION_1: a legacy driver. */
	assert_false(vh_negotiate(&c->vh, VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX)) &
		     VIRTIO_STATUS_FEATURES_OK);
	/* DRIVER_OK without FEATURES_OK is not taken either. */
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_STATUS,
		     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK, 1);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_DRIVER_OK);
	/* Bits above 63 (feature select 2) do not exist. */
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_GFSELECT, 2, 4);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_GF, 1, 4);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_GF, 1, 4);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_FEATURES_OK, 1);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_FEATURES_OK);
	/* After a reset the same driver may try again properly. */
	assert_true(vh_negotiate(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1)) &
		    VIRTIO_STATUS_FEATURES_OK);
}

static void test_queue_setup(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_NUMQ, 2), 1);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_SIZE, 2), VIRTIO_RNG_QUEUE_SIZE);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_SIZE, 100, 2); /* not a power of two */
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_SIZE, 2), VIRTIO_RNG_QUEUE_SIZE);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_SIZE, 2 * VIRTIO_RNG_QUEUE_SIZE,
		     2); /* above the maximum */
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_SIZE, 2), VIRTIO_RNG_QUEUE_SIZE);

	vh_bring_up(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1), 1, QSIZE);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_DESC, 8), DESC);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_AVAIL, 4), AVAIL);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_AVAIL + 4, 4), 0);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_USED, 8), USED);
	assert_true(c->rng.vdev.queues[0].vq.ready);
	/* The layout is fixed while the queue runs; disabling is not a thing. */
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_DESC, 0x40000, 8);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_SIZE, 4, 2);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_ENABLE, 0, 2);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_DESC, 8), DESC);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);

	/* A queue that does not exist: size 0, writes go nowhere. */
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_SELECT, 5, 2);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_SELECT, 2), 5);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_PCI_NO_VECTOR);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_queue_bad_rings(void **state)
{
	struct ctx *c = *state;
	uint8_t gen;

	assert_true(vh_negotiate(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1)) &
		    VIRTIO_STATUS_FEATURES_OK);
	gen = (uint8_t)vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_DESC, RAM - 16, 8); /* the table runs past RAM */
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_AVAIL, AVAIL, 8);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_USED, USED, 8);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_true(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_not_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_CFGGENERATION, 1), gen);
}

static void test_bad_accesses(void **state)
{
	struct ctx *c = *state;
	uint64_t v;

	/* Wrong widths for a field read 0 and write nothing. */
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_NUMQ, 4), 0);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_DF + 1, 1), 0);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_SELECT, 0x0303, 1);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 4);
	assert_int_equal(vh_status(&c->vh), 0);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_DESC + 2, 0x1234,
		     4); /* misaligned half of a 64-bit field */
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_DESC, 8), 0);
	/* Read-only registers. */
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_NUMQ, 9, 2);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_CFGGENERATION, 9, 1);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_DF, 0xffffffff, 4);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_NUMQ, 2), 1);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_CFGGENERATION, 1), 0);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_DF, 4) & 1, 0);
	/* Past the common config, the ISR byte, the (absent) device config, the notify area. */
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_SIZE, 4), 0);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_ISR_OFF, 4), 0);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_DEVCFG_OFF, 4), 0);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_NOTIFY_OFF + 0x100, 4), 0);
	vh_bar_write(&c->vh, VIRTIO_PCI_NOTIFY_OFF + 0x100, 0, 2);
	v = 0;
	assert_int_equal(read(c->rng.vdev.queues[0].kick_fd, &v, 8), -1); /* no kick */
	/* Eight bytes of a 16-bit register. */
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_MSIX, 8), 0);
}

static void test_msix_vectors(void **state)
{
	struct ctx *c = *state;

	/* Two vectors: config + one queue. */
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_MSIX, 2), 0);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_MSIX, 2,
		     2); /* does not exist: NO_VECTOR reads back */
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_PCI_NO_VECTOR);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_MSIX, 77, 2);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_PCI_NO_VECTOR);
	/* Reset forgets the mapping. */
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_PCI_NO_VECTOR);
}

static void test_reset(void **state)
{
	struct ctx *c = *state;

	vh_bring_up(&c->vh,
		    VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX), 1,
		    QSIZE);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(vh_status(&c->vh), 0);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_SIZE, 2), VIRTIO_RNG_QUEUE_SIZE);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_DESC, 8), 0);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_GF, 4), 0);
	assert_false(c->rng.vdev.queues[0].vq.ready);
	/* The driver cannot set NEEDS_RESET itself. */
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_STATUS,
		     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_NEEDS_RESET, 1);
	assert_int_equal(vh_status(&c->vh), VIRTIO_STATUS_ACKNOWLEDGE);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_rng_fill(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[64];

	vh_bring_up(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1), 1, QSIZE);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(guest_mem_write(&c->vh.gm, BUF, buf, sizeof(buf)), 0);
	vh_put_desc(&c->vh, 0, 3, BUF, sizeof(buf), VIRTQ_DESC_F_WRITE, 0);
	vh_offer(&c->vh, 0, 3);
	/* A kick before DRIVER_OK would be ignored; here it is served. */
	vh_kick(&c->vh, 0);
	assert_int_equal(vh_used_idx(&c->vh, 0), 1);
	assert_int_equal(vh_used_len(&c->vh, 0, 0), sizeof(buf));
	assert_int_equal(guest_mem_read(&c->vh.gm, BUF, buf, sizeof(buf)), 0);
	assert_false(all_zero(buf, sizeof(buf)));
	assert_int_equal(c->rng.bytes_served, sizeof(buf));

	/* MSI-X is off: the ISR says "queue" and INTA# goes up, then the read clears both. */
	virtio_pci_intx_sync(&c->rng.vdev);
	assert_int_equal(c->vh.intx_level, 1);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_QUEUE);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_ISR_OFF, 1), 0);
	virtio_pci_intx_sync(&c->rng.vdev);
	assert_int_equal(c->vh.intx_level, 0);
}

static void test_rng_bounded(void **state)
{
	struct ctx *c = *state;
	uint32_t big = 2 * VIRTIO_RNG_MAX_PER_CHAIN;

	vh_bring_up(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1), 1, QSIZE);
	/* 128 KiB of writable buffers in one chain: only 64 KiB are filled. */
	vh_put_desc(&c->vh, 0, 0, BUF, big / 2, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vh_put_desc(&c->vh, 0, 1, BUF + big / 2, big / 2, VIRTQ_DESC_F_WRITE, 0);
	vh_offer(&c->vh, 0, 0);
	vh_kick(&c->vh, 0);
	assert_int_equal(vh_used_idx(&c->vh, 0), 1);
	assert_int_equal(vh_used_len(&c->vh, 0, 0), VIRTIO_RNG_MAX_PER_CHAIN);
}

static void test_notify_through_bar(void **state)
{
	struct ctx *c = *state;
	uint64_t v = 0;

	/* No KVM here, so no ioeventfd: the BAR write itself signals the queue's eventfd. */
	vh_bar_write(&c->vh, VIRTIO_PCI_NOTIFY_OFF, 0, NOTIFY_LEN);
	assert_int_equal(read(c->rng.vdev.queues[0].kick_fd, &v, 8), 8);
	assert_int_equal(v, 1);
}

static void test_needs_reset(void **state)
{
	struct ctx *c = *state;
	uint8_t gen, buf[16] = {0};

	vh_bring_up(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1), 1, QSIZE);
	gen = (uint8_t)vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	/* A descriptor loop: 0 -> 1 -> 0. */
	vh_put_desc(&c->vh, 0, 0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vh_put_desc(&c->vh, 0, 1, BUF + 16, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	vh_offer(&c->vh, 0, 0);
	vh_kick(&c->vh, 0);
	assert_int_equal(vh_used_idx(&c->vh, 0), 0);
	assert_true(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(vh_status(&c->vh) & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal((uint8_t)vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_CFGGENERATION, 1),
			 (uint8_t)(gen + 1));
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_CONFIG);
	/* Further kicks do nothing until the driver resets the device... */
	vh_put_desc(&c->vh, 0, 2, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
	vh_offer(&c->vh, 0, 2);
	vh_kick(&c->vh, 0);
	assert_int_equal(vh_used_idx(&c->vh, 0), 0);
	/* ... after which it works again. */
	assert_int_equal(guest_mem_write(&c->vh.gm, AVAIL, buf, sizeof(buf)), 0);
	assert_int_equal(guest_mem_write(&c->vh.gm, USED, buf, sizeof(buf)), 0);
	vh_bring_up(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1), 1, QSIZE);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	vh_offer(&c->vh, 0, 2);
	vh_kick(&c->vh, 0);
	assert_int_equal(vh_used_idx(&c->vh, 0), 1);
	assert_int_equal(vh_used_len(&c->vh, 0, 0), 16);
}

static void test_pci_cfg_window(void **state)
{
	struct ctx *c = *state;
	uint32_t p = vh_find_cap(&c->vh, VIRTIO_PCI_CAP_PCI_CFG);

	assert_int_not_equal(p, 0);
	vh_cfg_write(&c->vh, p + 4, VIRTIO_PCI_BAR, 1);
	vh_cfg_write(&c->vh, p + 8, VIRTIO_PCI_COMMON_NUMQ, 4);
	vh_cfg_write(&c->vh, p + 12, 2, 4);
	assert_int_equal(vh_cfg_read(&c->vh, p + 16, 4) & 0xffff, 1);
	/* A write through the window reaches the register. */
	vh_cfg_write(&c->vh, p + 8, VIRTIO_PCI_COMMON_Q_SELECT, 4);
	vh_cfg_write(&c->vh, p + 16, 7, 4);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_SELECT, 2), 7);
	/* A length that is not 1, 2 or 4 does nothing. */
	vh_cfg_write(&c->vh, p + 12, 3, 4);
	vh_cfg_write(&c->vh, p + 16, 2, 4);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_SELECT, 2), 7);
}

/* One 64-byte rng request with descriptor 0 at BUF; the driver's avail idx after it. */
static uint16_t rng_request(struct ctx *c)
{
	uint16_t idx;

	vh_put_desc(&c->vh, 0, 0, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
	idx = vh_offer(&c->vh, 0, 0);
	vh_kick(&c->vh, 0);
	return idx;
}

static void test_dma_unmap_used_ring(void **state)
{
	struct ctx *c = *state;

	vh_bring_up(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1), 1, QSIZE);
	assert_int_equal(rng_request(c), 1);
	assert_int_equal(vh_used_idx(&c->vh, 0), 1);
	/* The used ring leaves the device's DMA space: the next kick breaks the device. */
	dma_pages_unmap(&c->pages, USED, DMA_PAGES_SIZE);
	assert_true(c->rng.vdev.queues[0].vq.rings_stale);
	rng_request(c);
	assert_true(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(vh_used_idx(&c->vh, 0), 1);
	assert_int_equal(c->rng.bytes_served, 64);
	/* Mapped back, a reset and a new queue setup serve requests again. */
	dma_pages_map(&c->pages, USED, USED, DMA_PAGES_SIZE);
	vh_bring_up(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1), 1, QSIZE);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	rng_request(c);
	assert_int_equal(vh_used_idx(&c->vh, 0), 1);
	assert_int_equal(c->rng.bytes_served, 128);
	/* Enabling a queue whose ring is not mapped fails at once. */
	dma_pages_unmap(&c->pages, USED, DMA_PAGES_SIZE);
	vh_negotiate(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_DESC, DESC, 8);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_AVAIL, AVAIL, 8);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_USED, USED, 8);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_true(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_dma_remap_used_ring(void **state)
{
	struct ctx *c = *state;
	const uint64_t moved = 0x800000;
	uint16_t idx;

	vh_bring_up(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1), 1, QSIZE);
	assert_int_equal(rng_request(c), 1);
	/* The used ring's IOVA now reaches another guest page (a copy of the ring). */
	memcpy(guest_mem_ptr(&c->vh.gm, moved, DMA_PAGES_SIZE),
	       guest_mem_ptr(&c->vh.gm, USED, DMA_PAGES_SIZE), DMA_PAGES_SIZE);
	dma_pages_map(&c->pages, USED, moved, DMA_PAGES_SIZE);
	rng_request(c);
	/* The completion lands in the new page; the old one is no longer written. */
	assert_int_equal(guest_mem_read(&c->vh.gm, moved + 2, &idx, 2), 0);
	assert_int_equal(idx, 2);
	assert_int_equal(vh_used_idx(&c->vh, 0), 1);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_features, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_features_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_setup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_bad_rings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_accesses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_msix_vectors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rng_fill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rng_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_through_bar, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_needs_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pci_cfg_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dma_unmap_used_ring, setup_pages, teardown),
	    cmocka_unit_test_setup_teardown(test_dma_remap_used_ring, setup_pages, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
