/* SPDX-License-Identifier: MIT */
/*
 * Driver-side harness for virtio device unit tests: a PCI root on MMIO/PIO
 * buses, guest RAM and an INTx sink, and the steps a virtio driver takes
 * (config space, BAR registers, feature negotiation, queue bring-up, ring
 * descriptors, kicks, used-ring reads). Every step asserts with cmocka, so
 * a test reads as the driver's sequence of actions.
 *
 * Guest RAM layout: queue q's rings at VH_DESC(q)/VH_AVAIL(q)/VH_USED(q)
 * (queue sizes up to 256), below VH_SCRATCH_BASE; vh_alloc() hands out
 * buffers from VH_SCRATCH_BASE up.
 *
 * Use: vh_setup(), init the device with &h->env (its DMA space is the
 * identity over h->gm), vh_attach(h, &dev.vdev), ... ; at the end destroy
 * the device, then vh_teardown().
 */
#ifndef SLUICE_TEST_VIRTIO_HARNESS_H
#define SLUICE_TEST_VIRTIO_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "dma.h"
#include "guest_mem.h"
#include "irq.h"
#include "pci.h"
#include "virtio.h"
#include "virtio_pci.h"

#define VH_MAX_QUEUES	32
#define VH_MAX_QSIZE	256
#define VH_RING_BASE	0x10000ULL
#define VH_RING_STRIDE	0x4000ULL
#define VH_DESC(q)	(VH_RING_BASE + VH_RING_STRIDE * (q))
#define VH_AVAIL(q)	(VH_DESC(q) + 0x1000ULL)
#define VH_USED(q)	(VH_DESC(q) + 0x2000ULL)
#define VH_SCRATCH_BASE 0x100000ULL
#define VH_MEM64_BASE	0x8000000000ULL
#define VH_DEFAULT_MEM	(16ULL << 20)

struct vh {
	struct irq_sink irq; /* the sink callback recovers the harness from it */
	int intx_level;	     /* last level the PCI root drove on INTx */
	struct bus pio, mmio;
	struct pci_root root;
	struct guest_mem gm;
	struct dma_space dma;  /* identity over gm */
	struct virtio_env env; /* dma, no event loop, no KVM */
	struct virtio_pci_dev *vdev;
	int slot;
	uint64_t bar;
	uint16_t qsize;
	uint16_t avail_n[VH_MAX_QUEUES]; /* avail idx the driver has published */
	uint64_t scratch_next, scratch_end;
};

/* Buses, PCI root, mem_size bytes of guest RAM and the device environment over it. */
void vh_setup(struct vh *h, uint64_t mem_size);
/* Put the device on the root (slot 1), find its BAR, enable memory decoding and bus mastering. */
void vh_attach(struct vh *h, struct virtio_pci_dev *vdev);
/* After the device is destroyed. */
void vh_teardown(struct vh *h);

uint32_t vh_cfg_read(struct vh *h, uint32_t off, uint32_t len);
void vh_cfg_write(struct vh *h, uint32_t off, uint32_t v, uint32_t len);
/* Offset of the virtio vendor capability of cfg_type, or 0. */
uint32_t vh_find_cap(struct vh *h, uint8_t cfg_type);

/* BAR 0 register access at offset off; asserts the bus took it. */
uint64_t vh_bar_read(struct vh *h, uint64_t off, uint32_t len);
void vh_bar_write(struct vh *h, uint64_t off, uint64_t v, uint32_t len);
uint64_t vh_devcfg_read(struct vh *h, uint32_t off, uint32_t len);

uint8_t vh_status(struct vh *h);
uint64_t vh_device_features(struct vh *h);
/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns the status read back. */
uint8_t vh_negotiate(struct vh *h, uint64_t features);
/*
 * Full driver init: negotiate (asserting FEATURES_OK), queues 0..nr_queues-1
 * of qsize entries with zeroed avail/used rings at the fixed addresses,
 * DRIVER_OK (asserted). The avail counters start again at 0.
 */
void vh_bring_up(struct vh *h, uint64_t features, unsigned nr_queues, uint16_t qsize);

void vh_put_desc(struct vh *h, unsigned q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next);
/* Publish head as queue q's next avail entry; returns the new avail idx. */
uint16_t vh_offer(struct vh *h, unsigned q, uint16_t head);
/* The event-loop body of a kick of queue q. */
void vh_kick(struct vh *h, unsigned q);
uint16_t vh_used_idx(struct vh *h, unsigned q);
/* id/len of the n-th (0-based, mod qsize) used entry of queue q. */
uint32_t vh_used_id(struct vh *h, unsigned q, uint16_t n);
uint32_t vh_used_len(struct vh *h, unsigned q, uint16_t n);
/* Poll (up to ~5 s) until queue q's used idx reaches idx; false on NEEDS_RESET or timeout. */
bool vh_wait_used(struct vh *h, unsigned q, uint16_t idx);
/* Offer head, kick, wait for it to be used. */
bool vh_run(struct vh *h, unsigned q, uint16_t head);

/* len bytes (16-byte aligned, zeroed) of guest RAM from the scratch area. */
uint64_t vh_alloc(struct vh *h, uint64_t len);

#endif
