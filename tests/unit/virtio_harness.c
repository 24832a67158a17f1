/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "virtio_harness.h"

static int vh_set_level(struct irq_sink *sink, uint32_t gsi, int level)
{
	struct vh *h = container_of(sink, struct vh, irq);

	(void)gsi;
	h->intx_level = level;
	return 0;
}

void vh_setup(struct vh *h, uint64_t mem_size)
{
	struct pci_root_config cfg = {
	    .ecam_base = 0xe0000000ULL,
	    .mem32_base = 0xc0000000ULL,
	    .mem32_size = 0x20000000ULL,
	    .mem64_base = VH_MEM64_BASE,
	    .mem64_size = 1ULL << 30,
	};

	memset(h, 0, sizeof(*h));
	assert_true(mem_size > VH_SCRATCH_BASE);
	h->irq.set_level = vh_set_level;
	h->slot = -1;
	h->scratch_next = VH_SCRATCH_BASE;
	h->scratch_end = mem_size;
	assert_int_equal(guest_mem_init(&h->gm, mem_size, false), 0);
	assert_int_equal(dma_space_identity_init(&h->dma, &h->gm), 0);
	h->env = (struct virtio_env){.dma = &h->dma, .vm_fd = -1};
	assert_int_equal(bus_init(&h->pio, "pio"), 0);
	assert_int_equal(bus_init(&h->mmio, "mmio"), 0);
	assert_int_equal(pci_root_init(&h->root, &cfg, &h->irq), 0);
	assert_int_equal(pci_root_attach(&h->root, &h->pio, &h->mmio), 0);
}

void vh_attach(struct vh *h, struct virtio_pci_dev *vdev)
{
	h->vdev = vdev;
	h->slot = pci_root_add_device(&h->root, &vdev->pci);
	assert_int_equal(h->slot, 1);
	h->bar = (vh_cfg_read(h, PCI_BASE_ADDRESS_0, 4) & ~0xfULL) |
		 (uint64_t)vh_cfg_read(h, PCI_BASE_ADDRESS_0 + 4, 4) << 32;
	assert_true(h->bar >= VH_MEM64_BASE);
	vh_cfg_write(h, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

void vh_teardown(struct vh *h)
{
	pci_root_destroy(&h->root);
	bus_destroy(&h->pio);
	bus_destroy(&h->mmio);
	dma_space_destroy(&h->dma);
	guest_mem_destroy(&h->gm);
}

uint32_t vh_cfg_read(struct vh *h, uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	pci_root_config_read(&h->root, 0, (unsigned)h->slot, 0, off, &v, len);
	return v;
}

void vh_cfg_write(struct vh *h, uint32_t off, uint32_t v, uint32_t len)
{
	pci_root_config_write(&h->root, 0, (unsigned)h->slot, 0, off, &v, len);
}

uint32_t vh_find_cap(struct vh *h, uint8_t cfg_type)
{
	for (uint32_t p = vh_cfg_read(h, PCI_CAPABILITY_LIST, 1); p; p = vh_cfg_read(h, p + 1, 1))
		if (vh_cfg_read(h, p, 1) == PCI_CAP_ID_VNDR && vh_cfg_read(h, p + 3, 1) == cfg_type)
			return p;
	return 0;
}

uint64_t vh_bar_read(struct vh *h, uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	assert_true(bus_read(&h->mmio, h->bar + off, (uint8_t *)&v, len));
	return v;
}

void vh_bar_write(struct vh *h, uint64_t off, uint64_t v, uint32_t len)
{
	assert_true(bus_write(&h->mmio, h->bar + off, (const uint8_t *)&v, len));
}

uint64_t vh_devcfg_read(struct vh *h, uint32_t off, uint32_t len)
{
	return vh_bar_read(h, VIRTIO_PCI_DEVCFG_OFF + off, len);
}

uint8_t vh_status(struct vh *h)
{
	return (uint8_t)vh_bar_read(h, VIRTIO_PCI_COMMON_STATUS, 1);
}

uint64_t vh_device_features(struct vh *h)
{
	uint64_t f;

	vh_bar_write(h, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	f = vh_bar_read(h, VIRTIO_PCI_COMMON_DF, 4);
	vh_bar_write(h, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	return f | vh_bar_read(h, VIRTIO_PCI_COMMON_DF, 4) << 32;
}

uint8_t vh_negotiate(struct vh *h, uint64_t features)
{
	const uint8_t ad = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	vh_bar_write(h, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	vh_bar_write(h, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	vh_bar_write(h, VIRTIO_PCI_COMMON_STATUS, ad, 1);
	vh_bar_write(h, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	vh_bar_write(h, VIRTIO_PCI_COMMON_GF, (uint32_t)features, 4);
	vh_bar_write(h, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	vh_bar_write(h, VIRTIO_PCI_COMMON_GF, features >> 32, 4);
	vh_bar_write(h, VIRTIO_PCI_COMMON_STATUS, ad | VIRTIO_STATUS_FEATURES_OK, 1);
	return vh_status(h);
}

void vh_bring_up(struct vh *h, uint64_t features, unsigned nr_queues, uint16_t qsize)
{
	static const uint8_t zero[0x2000];
	const uint8_t fok =
	    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;

	assert_true(nr_queues <= VH_MAX_QUEUES);
	assert_true(qsize > 0 && qsize <= VH_MAX_QSIZE);
	assert_true(vh_negotiate(h, features) & VIRTIO_STATUS_FEATURES_OK);
	h->qsize = qsize;
	for (unsigned q = 0; q < nr_queues; q++) {
		/* Fresh avail/used rings; descriptors are the test's to write. */
		assert_int_equal(guest_mem_write(&h->gm, VH_AVAIL(q), zero, 0x1000), 0);
		assert_int_equal(guest_mem_write(&h->gm, VH_USED(q), zero, sizeof(zero)), 0);
		h->avail_n[q] = 0;
		vh_bar_write(h, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		vh_bar_write(h, VIRTIO_PCI_COMMON_Q_SIZE, qsize, 2);
		/* Mixed widths on purpose: drivers write 64-bit fields as one or two accesses. */
		vh_bar_write(h, VIRTIO_PCI_COMMON_Q_DESC, (uint32_t)VH_DESC(q), 4);
		vh_bar_write(h, VIRTIO_PCI_COMMON_Q_DESC + 4, VH_DESC(q) >> 32, 4);
		vh_bar_write(h, VIRTIO_PCI_COMMON_Q_AVAIL, VH_AVAIL(q), 8);
		vh_bar_write(h, VIRTIO_PCI_COMMON_Q_USED, (uint32_t)VH_USED(q), 4);
		vh_bar_write(h, VIRTIO_PCI_COMMON_Q_USED + 4, VH_USED(q) >> 32, 4);
		vh_bar_write(h, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
		assert_int_equal(vh_bar_read(h, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	}
	vh_bar_write(h, VIRTIO_PCI_COMMON_STATUS, fok | VIRTIO_STATUS_DRIVER_OK, 1);
	assert_true(vh_status(h) & VIRTIO_STATUS_DRIVER_OK);
}

void vh_put_desc(struct vh *h, unsigned q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	uint8_t d[16];

	assert_true(q < VH_MAX_QUEUES && i < VH_MAX_QSIZE);
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	assert_int_equal(guest_mem_write(&h->gm, VH_DESC(q) + 16ULL * i, d, 16), 0);
}

uint16_t vh_offer(struct vh *h, unsigned q, uint16_t head)
{
	uint16_t n, idx;

	assert_true(q < VH_MAX_QUEUES && h->qsize);
	n = h->avail_n[q];
	idx = (uint16_t)(n + 1);
	assert_int_equal(guest_mem_write(&h->gm, VH_AVAIL(q) + 4 + 2ULL * (n % h->qsize), &head, 2),
			 0);
	assert_int_equal(guest_mem_write(&h->gm, VH_AVAIL(q) + 2, &idx, 2), 0);
	h->avail_n[q] = idx;
	return idx;
}

void vh_kick(struct vh *h, unsigned q)
{
	virtio_pci_kick(h->vdev, q);
}

uint16_t vh_used_idx(struct vh *h, unsigned q)
{
	uint16_t v;

	assert_int_equal(guest_mem_read(&h->gm, VH_USED(q) + 2, &v, 2), 0);
	return v;
}

static uint32_t vh_used_field(struct vh *h, unsigned q, uint16_t n, unsigned field)
{
	uint32_t v;

	assert_true(h->qsize);
	assert_int_equal(
	    guest_mem_read(&h->gm, VH_USED(q) + 4 + 8ULL * (n % h->qsize) + field, &v, 4), 0);
	return v;
}

uint32_t vh_used_id(struct vh *h, unsigned q, uint16_t n)
{
	return vh_used_field(h, q, n, 0);
}

uint32_t vh_used_len(struct vh *h, unsigned q, uint16_t n)
{
	return vh_used_field(h, q, n, 4);
}

bool vh_wait_used(struct vh *h, unsigned q, uint16_t idx)
{
	struct timespec ts = {0, 1000000};

	for (int i = 0; i < 5000; i++) {
		if (vh_used_idx(h, q) == idx)
			return true;
		if (vh_status(h) & VIRTIO_STATUS_NEEDS_RESET)
			return false;
		nanosleep(&ts, NULL);
	}
	return false;
}

bool vh_run(struct vh *h, unsigned q, uint16_t head)
{
	uint16_t idx = vh_offer(h, q, head);

	vh_kick(h, q);
	return vh_wait_used(h, q, idx);
}

uint64_t vh_alloc(struct vh *h, uint64_t len)
{
	uint64_t gpa = h->scratch_next;
	void *p;

	assert_true(len > 0 && len <= h->scratch_end - gpa);
	h->scratch_next = ALIGN_UP(gpa + len, 16ULL);
	if (h->scratch_next > h->scratch_end)
		h->scratch_next = h->scratch_end;
	p = guest_mem_ptr(&h->gm, gpa, len);
	assert_non_null(p);
	memset(p, 0, len);
	return gpa;
}
