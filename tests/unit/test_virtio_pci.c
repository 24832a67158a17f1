/* SPDX-License-Identifier: MIT */
/*
 * virtio-pci transport and virtio-rng, driven as a driver would: config
 * space through the PCI root, registers through the MMIO bus at the BAR,
 * rings in guest RAM, kicks by calling the event-loop handler body.
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

#include "bus.h"
#include "guest_mem.h"
#include "pci.h"
#include "virtio.h"
#include "virtio_pci.h"
#include "virtio_rng.h"

#define RAM	   (16ULL << 20)
#define DESC	   0x10000ULL
#define AVAIL	   0x11000ULL
#define USED	   0x12000ULL
#define BUF	   0x20000ULL
#define QSIZE	   16
#define M64_B	   0x8000000000ULL
#define NOTIFY_LEN 2

struct ctx {
	struct irq_sink irq; /* first: the sink callback recovers ctx from it */
	int intx_level;
	struct bus pio, mmio;
	struct pci_root root;
	struct guest_mem gm;
	struct virtio_rng rng;
	int slot;
	uint64_t bar;
};

static int sink_set_level(struct irq_sink *sink, uint32_t gsi, int level)
{
	struct ctx *c = (struct ctx *)sink;

	(void)gsi;
	c->intx_level = level;
	return 0;
}

static void cfg_write(struct ctx *c, uint32_t off, uint32_t v, uint32_t len)
{
	pci_root_config_write(&c->root, 0, (unsigned)c->slot, 0, off, &v, len);
}

static uint32_t cfg_read(struct ctx *c, uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	pci_root_config_read(&c->root, 0, (unsigned)c->slot, 0, off, &v, len);
	return v;
}

static uint64_t rd(struct ctx *c, uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	assert_true(bus_read(&c->mmio, c->bar + off, (uint8_t *)&v, len));
	return v;
}

static void wr(struct ctx *c, uint64_t off, uint64_t v, uint32_t len)
{
	assert_true(bus_write(&c->mmio, c->bar + off, (const uint8_t *)&v, len));
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct pci_root_config cfg = {
	    .ecam_base = 0xe0000000ULL,
	    .mem32_base = 0xc0000000ULL,
	    .mem32_size = 0x20000000ULL,
	    .mem64_base = M64_B,
	    .mem64_size = 1ULL << 30,
	};

	assert_non_null(c);
	c->irq.set_level = sink_set_level;
	assert_int_equal(guest_mem_init(&c->gm, RAM, false), 0);
	assert_int_equal(bus_init(&c->pio, "pio"), 0);
	assert_int_equal(bus_init(&c->mmio, "mmio"), 0);
	assert_int_equal(pci_root_init(&c->root, &cfg, &c->irq), 0);
	assert_int_equal(pci_root_attach(&c->root, &c->pio, &c->mmio), 0);
	assert_int_equal(virtio_rng_init(&c->rng, &c->gm, NULL, NULL, -1), 0);
	c->slot = pci_root_add_device(&c->root, &c->rng.vdev.pci);
	assert_int_equal(c->slot, 1);
	c->bar = (cfg_read(c, PCI_BASE_ADDRESS_0, 4) & ~0xfULL) |
		 (uint64_t)cfg_read(c, PCI_BASE_ADDRESS_0 + 4, 4) << 32;
	assert_true(c->bar >= M64_B);
	cfg_write(c, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	virtio_rng_destroy(&c->rng);
	pci_root_destroy(&c->root);
	bus_destroy(&c->pio);
	bus_destroy(&c->mmio);
	guest_mem_destroy(&c->gm);
	free(c);
	return 0;
}

static uint8_t status(struct ctx *c)
{
	return (uint8_t)rd(c, VIRTIO_PCI_COMMON_STATUS, 1);
}

/* Driver init up to FEATURES_OK with the given features; returns the status read back. */
static uint8_t negotiate(struct ctx *c, uint64_t features)
{
	wr(c, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	wr(c, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	wr(c, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	wr(c, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	wr(c, VIRTIO_PCI_COMMON_GF, (uint32_t)features, 4);
	wr(c, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	wr(c, VIRTIO_PCI_COMMON_GF, features >> 32, 4);
	wr(c, VIRTIO_PCI_COMMON_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK, 1);
	return status(c);
}

/* A full driver bring-up of queue 0 (QSIZE entries at DESC/AVAIL/USED) and DRIVER_OK. */
static void bring_up(struct ctx *c, uint64_t features)
{
	assert_true(negotiate(c, features) & VIRTIO_STATUS_FEATURES_OK);
	wr(c, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	wr(c, VIRTIO_PCI_COMMON_Q_SIZE, QSIZE, 2);
	wr(c, VIRTIO_PCI_COMMON_Q_DESC, DESC, 4);
	wr(c, VIRTIO_PCI_COMMON_Q_DESC + 4, 0, 4);
	wr(c, VIRTIO_PCI_COMMON_Q_AVAIL, AVAIL, 8);
	wr(c, VIRTIO_PCI_COMMON_Q_USED, USED, 4);
	wr(c, VIRTIO_PCI_COMMON_Q_USED + 4, 0, 4);
	wr(c, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	wr(c, VIRTIO_PCI_COMMON_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
	       VIRTIO_STATUS_DRIVER_OK,
	   1);
	assert_true(status(c) & VIRTIO_STATUS_DRIVER_OK);
}

static void put_desc(struct ctx *c, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t d[16];

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	assert_int_equal(guest_mem_write(&c->gm, DESC + 16ULL * i, d, 16), 0);
}

/* Make head available as the n-th (0-based) avail entry. */
static void offer(struct ctx *c, uint16_t n, uint16_t head)
{
	uint16_t idx = (uint16_t)(n + 1);

	assert_int_equal(guest_mem_write(&c->gm, AVAIL + 4 + 2ULL * (n % QSIZE), &head, 2), 0);
	assert_int_equal(guest_mem_write(&c->gm, AVAIL + 2, &idx, 2), 0);
}

static uint16_t used_idx(struct ctx *c)
{
	uint16_t v;

	assert_int_equal(guest_mem_read(&c->gm, USED + 2, &v, 2), 0);
	return v;
}

static uint32_t used_len(struct ctx *c, uint16_t n)
{
	uint32_t v;

	assert_int_equal(guest_mem_read(&c->gm, USED + 4 + 8ULL * (n % QSIZE) + 4, &v, 4), 0);
	return v;
}

/* Offset of the vendor capability of cfg_type, or 0. */
static uint32_t find_cap(struct ctx *c, uint8_t type)
{
	for (uint32_t p = cfg_read(c, PCI_CAPABILITY_LIST, 1); p; p = cfg_read(c, p + 1, 1))
		if (cfg_read(c, p, 1) == PCI_CAP_ID_VNDR && cfg_read(c, p + 3, 1) == type)
			return p;
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

	assert_int_equal(cfg_read(c, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_read(c, PCI_DEVICE_ID, 2), 0x1044);
	assert_int_equal(cfg_read(c, PCI_REVISION_ID, 1), 1);
	assert_int_equal(cfg_read(c, PCI_SUBSYSTEM_ID, 2), 0x40);
	assert_int_equal(cfg_read(c, PCI_BASE_ADDRESS_0, 4) & 0x7, PCI_BAR_MEM_TYPE_64);
	assert_int_equal(cfg_read(c, PCI_INTERRUPT_PIN, 1), 1);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint32_t p = find_cap(c, want[i].type);

		assert_int_not_equal(p, 0);
		assert_int_equal(cfg_read(c, p + 4, 1), VIRTIO_PCI_BAR);
		assert_int_equal(cfg_read(c, p + 8, 4), want[i].off);
		assert_true(cfg_read(c, p + 12, 4) >= want[i].min_len);
	}
	assert_int_equal(cfg_read(c, find_cap(c, VIRTIO_PCI_CAP_NOTIFY_CFG) + 16, 4),
			 VIRTIO_PCI_NOTIFY_MULT);
	/* virtio-rng has no device config: no DEVICE_CFG capability. */
	assert_int_equal(find_cap(c, VIRTIO_PCI_CAP_DEVICE_CFG), 0);
	assert_int_not_equal(find_cap(c, VIRTIO_PCI_CAP_PCI_CFG), 0);
	for (uint32_t p = cfg_read(c, PCI_CAPABILITY_LIST, 1); p; p = cfg_read(c, p + 1, 1))
		msix |= cfg_read(c, p, 1) == PCI_CAP_ID_MSIX;
	assert_true(msix);
}

static void test_features(void **state)
{
	struct ctx *c = *state;
	uint64_t f;

	wr(c, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	f = rd(c, VIRTIO_PCI_COMMON_DF, 4);
	wr(c, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	f |= rd(c, VIRTIO_PCI_COMMON_DF, 4) << 32;
	assert_true(f & VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
	assert_true(f & VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX));
	assert_false(f & VIRTIO_FEATURE(VIRTIO_F_ACCESS_PLATFORM));
	wr(c, VIRTIO_PCI_COMMON_DFSELECT, 7, 4);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_DF, 4), 0);

	assert_true(negotiate(c, VIRTIO_FEATURE(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
	/* Once FEATURES_OK is set the driver's features are fixed. */
	wr(c, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	wr(c, VIRTIO_PCI_COMMON_GF, VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX), 4);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_GF, 4), 0);
	wr(c, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_GF, 4), 1);
}

static void test_features_refused(void **state)
{
	struct ctx *c = *state;

	/* Bit 0 is not offered by virtio-rng. */
	assert_false(negotiate(c, VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | 1) &
		     VIRTIO_STATUS_FEATURES_OK);
	/* No VERSION_1: a legacy driver. */
	assert_false(negotiate(c, VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX)) &
		     VIRTIO_STATUS_FEATURES_OK);
	/* DRIVER_OK without FEATURES_OK is not taken either. */
	wr(c, VIRTIO_PCI_COMMON_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK, 1);
	assert_false(status(c) & VIRTIO_STATUS_DRIVER_OK);
	/* Bits above 63 (feature select 2) do not exist. */
	wr(c, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	wr(c, VIRTIO_PCI_COMMON_GFSELECT, 2, 4);
	wr(c, VIRTIO_PCI_COMMON_GF, 1, 4);
	wr(c, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	wr(c, VIRTIO_PCI_COMMON_GF, 1, 4);
	wr(c, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_FEATURES_OK, 1);
	assert_false(status(c) & VIRTIO_STATUS_FEATURES_OK);
	/* After a reset the same driver may try again properly. */
	assert_true(negotiate(c, VIRTIO_FEATURE(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
}

static void test_queue_setup(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_NUMQ, 2), 1);
	wr(c, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_SIZE, 2), VIRTIO_RNG_QUEUE_SIZE);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
	wr(c, VIRTIO_PCI_COMMON_Q_SIZE, 100, 2); /* not a power of two */
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_SIZE, 2), VIRTIO_RNG_QUEUE_SIZE);
	wr(c, VIRTIO_PCI_COMMON_Q_SIZE, 2 * VIRTIO_RNG_QUEUE_SIZE, 2); /* above the maximum */
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_SIZE, 2), VIRTIO_RNG_QUEUE_SIZE);

	bring_up(c, VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_DESC, 8), DESC);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_AVAIL, 4), AVAIL);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_AVAIL + 4, 4), 0);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_USED, 8), USED);
	assert_true(c->rng.vdev.queues[0].vq.ready);
	/* The layout is fixed while the queue runs; disabling is not a thing. */
	wr(c, VIRTIO_PCI_COMMON_Q_DESC, 0x40000, 8);
	wr(c, VIRTIO_PCI_COMMON_Q_SIZE, 4, 2);
	wr(c, VIRTIO_PCI_COMMON_Q_ENABLE, 0, 2);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_DESC, 8), DESC);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);

	/* A queue that does not exist: size 0, writes go nowhere. */
	wr(c, VIRTIO_PCI_COMMON_Q_SELECT, 5, 2);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_SELECT, 2), 5);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	wr(c, VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
	wr(c, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_PCI_NO_VECTOR);
	assert_false(status(c) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_queue_bad_rings(void **state)
{
	struct ctx *c = *state;
	uint8_t gen;

	assert_true(negotiate(c, VIRTIO_FEATURE(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
	gen = (uint8_t)rd(c, VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	wr(c, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	wr(c, VIRTIO_PCI_COMMON_Q_DESC, RAM - 16, 8); /* the table runs past RAM */
	wr(c, VIRTIO_PCI_COMMON_Q_AVAIL, AVAIL, 8);
	wr(c, VIRTIO_PCI_COMMON_Q_USED, USED, 8);
	wr(c, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_true(status(c) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_not_equal(rd(c, VIRTIO_PCI_COMMON_CFGGENERATION, 1), gen);
}

static void test_bad_accesses(void **state)
{
	struct ctx *c = *state;
	uint64_t v;

	/* Wrong widths for a field read 0 and write nothing. */
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_NUMQ, 4), 0);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_DF + 1, 1), 0);
	wr(c, VIRTIO_PCI_COMMON_Q_SELECT, 0x0303, 1);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	wr(c, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 4);
	assert_int_equal(status(c), 0);
	wr(c, VIRTIO_PCI_COMMON_Q_DESC + 2, 0x1234, 4); /* misaligned half of a 64-bit field */
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_DESC, 8), 0);
	/* Read-only registers. */
	wr(c, VIRTIO_PCI_COMMON_NUMQ, 9, 2);
	wr(c, VIRTIO_PCI_COMMON_CFGGENERATION, 9, 1);
	wr(c, VIRTIO_PCI_COMMON_DF, 0xffffffff, 4);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_NUMQ, 2), 1);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_CFGGENERATION, 1), 0);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_DF, 4) & 1, 0);
	/* Past the common config, the ISR byte, the (absent) device config, the notify area. */
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_SIZE, 4), 0);
	assert_int_equal(rd(c, VIRTIO_PCI_ISR_OFF, 4), 0);
	assert_int_equal(rd(c, VIRTIO_PCI_DEVCFG_OFF, 4), 0);
	assert_int_equal(rd(c, VIRTIO_PCI_NOTIFY_OFF + 0x100, 4), 0);
	wr(c, VIRTIO_PCI_NOTIFY_OFF + 0x100, 0, 2);
	v = 0;
	assert_int_equal(read(c->rng.vdev.queues[0].kick_fd, &v, 8), -1); /* no kick */
	/* Eight bytes of a 16-bit register. */
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_MSIX, 8), 0);
}

static void test_msix_vectors(void **state)
{
	struct ctx *c = *state;

	/* Two vectors: config + one queue. */
	wr(c, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_MSIX, 2), 0);
	wr(c, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	wr(c, VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
	wr(c, VIRTIO_PCI_COMMON_Q_MSIX, 2, 2); /* does not exist: NO_VECTOR reads back */
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_PCI_NO_VECTOR);
	wr(c, VIRTIO_PCI_COMMON_MSIX, 77, 2);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_PCI_NO_VECTOR);
	/* Reset forgets the mapping. */
	wr(c, VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	wr(c, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_PCI_NO_VECTOR);
}

static void test_reset(void **state)
{
	struct ctx *c = *state;

	bring_up(c, VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX));
	wr(c, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(status(c), 0);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_SIZE, 2), VIRTIO_RNG_QUEUE_SIZE);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_DESC, 8), 0);
	wr(c, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_GF, 4), 0);
	assert_false(c->rng.vdev.queues[0].vq.ready);
	/* The driver cannot set NEEDS_RESET itself. */
	wr(c, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_NEEDS_RESET, 1);
	assert_int_equal(status(c), VIRTIO_STATUS_ACKNOWLEDGE);
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

	bring_up(c, VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
	memset(buf, 0, sizeof(buf));
	assert_int_equal(guest_mem_write(&c->gm, BUF, buf, sizeof(buf)), 0);
	put_desc(c, 3, BUF, sizeof(buf), VIRTQ_DESC_F_WRITE, 0);
	offer(c, 0, 3);
	/* A kick before DRIVER_OK would be ignored; here it is served. */
	virtio_pci_kick(&c->rng.vdev, 0);
	assert_int_equal(used_idx(c), 1);
	assert_int_equal(used_len(c, 0), sizeof(buf));
	assert_int_equal(guest_mem_read(&c->gm, BUF, buf, sizeof(buf)), 0);
	assert_false(all_zero(buf, sizeof(buf)));
	assert_int_equal(c->rng.bytes_served, sizeof(buf));

	/* MSI-X is off: the ISR says "queue" and INTA# goes up, then the read clears both. */
	virtio_pci_intx_sync(&c->rng.vdev);
	assert_int_equal(c->intx_level, 1);
	assert_int_equal(rd(c, VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_QUEUE);
	assert_int_equal(rd(c, VIRTIO_PCI_ISR_OFF, 1), 0);
	virtio_pci_intx_sync(&c->rng.vdev);
	assert_int_equal(c->intx_level, 0);
}

static void test_rng_bounded(void **state)
{
	struct ctx *c = *state;
	uint32_t big = 2 * VIRTIO_RNG_MAX_PER_CHAIN;

	bring_up(c, VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
	/* 128 KiB of writable buffers in one chain: only 64 KiB are filled. */
	put_desc(c, 0, BUF, big / 2, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	put_desc(c, 1, BUF + big / 2, big / 2, VIRTQ_DESC_F_WRITE, 0);
	offer(c, 0, 0);
	virtio_pci_kick(&c->rng.vdev, 0);
	assert_int_equal(used_idx(c), 1);
	assert_int_equal(used_len(c, 0), VIRTIO_RNG_MAX_PER_CHAIN);
}

static void test_notify_through_bar(void **state)
{
	struct ctx *c = *state;
	uint64_t v = 0;

	/* No KVM here, so no ioeventfd: the BAR write itself signals the queue's eventfd. */
	wr(c, VIRTIO_PCI_NOTIFY_OFF, 0, NOTIFY_LEN);
	assert_int_equal(read(c->rng.vdev.queues[0].kick_fd, &v, 8), 8);
	assert_int_equal(v, 1);
}

static void test_needs_reset(void **state)
{
	struct ctx *c = *state;
	uint8_t gen, buf[16] = {0};

	bring_up(c, VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
	gen = (uint8_t)rd(c, VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	/* A descriptor loop: 0 -> 1 -> 0. */
	put_desc(c, 0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	put_desc(c, 1, BUF + 16, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	offer(c, 0, 0);
	virtio_pci_kick(&c->rng.vdev, 0);
	assert_int_equal(used_idx(c), 0);
	assert_true(status(c) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(status(c) & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal((uint8_t)rd(c, VIRTIO_PCI_COMMON_CFGGENERATION, 1), (uint8_t)(gen + 1));
	assert_int_equal(rd(c, VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_CONFIG);
	/* Further kicks do nothing until the driver resets the device... */
	put_desc(c, 2, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
	offer(c, 1, 2);
	virtio_pci_kick(&c->rng.vdev, 0);
	assert_int_equal(used_idx(c), 0);
	/* ... after which it works again. */
	assert_int_equal(guest_mem_write(&c->gm, AVAIL, buf, sizeof(buf)), 0);
	assert_int_equal(guest_mem_write(&c->gm, USED, buf, sizeof(buf)), 0);
	bring_up(c, VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
	assert_false(status(c) & VIRTIO_STATUS_NEEDS_RESET);
	offer(c, 0, 2);
	virtio_pci_kick(&c->rng.vdev, 0);
	assert_int_equal(used_idx(c), 1);
	assert_int_equal(used_len(c, 0), 16);
}

static void test_pci_cfg_window(void **state)
{
	struct ctx *c = *state;
	uint32_t p = find_cap(c, VIRTIO_PCI_CAP_PCI_CFG);

	assert_int_not_equal(p, 0);
	cfg_write(c, p + 4, VIRTIO_PCI_BAR, 1);
	cfg_write(c, p + 8, VIRTIO_PCI_COMMON_NUMQ, 4);
	cfg_write(c, p + 12, 2, 4);
	assert_int_equal(cfg_read(c, p + 16, 4) & 0xffff, 1);
	/* A write through the window reaches the register. */
	cfg_write(c, p + 8, VIRTIO_PCI_COMMON_Q_SELECT, 4);
	cfg_write(c, p + 16, 7, 4);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_SELECT, 2), 7);
	/* A length that is not 1, 2 or 4 does nothing. */
	cfg_write(c, p + 12, 3, 4);
	cfg_write(c, p + 16, 2, 4);
	assert_int_equal(rd(c, VIRTIO_PCI_COMMON_Q_SELECT, 2), 7);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
