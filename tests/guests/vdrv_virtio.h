/* SPDX-License-Identifier: MIT */
/*
 * A minimal virtio 1.x PCI driver for the test guest, written from the
 * spec (virtio 1.2 sections 2, 3.1 and 4.1), not from sluice's device
 * side: the transport is found through the vendor capabilities, split
 * virtqueues of VQ_SIZE entries, MSI-X. Requests go one at a time in
 * the chain at descriptor 0; receive queues post one buffer per descriptor.
 * Functions that can fail return NULL or a short reason to print.
 */
#ifndef SLUICE_VDRV_VIRTIO_H
#define SLUICE_VDRV_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_VENDOR	   0x1af4
#define VIRTIO_DEV_NET	   0x1041
#define VIRTIO_DEV_BLK	   0x1042
#define VIRTIO_DEV_RNG	   0x1044
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_NO_VECTOR   0xffff
#define VQ_SIZE		   8
#define VQ_DESC_F_NEXT	   1
#define VQ_DESC_F_WRITE	   2

/* Device status bits (2.1). */
#define VIRTIO_S_ACK	     1
#define VIRTIO_S_DRIVER	     2
#define VIRTIO_S_DRIVER_OK   4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_NEEDS_RESET 64
#define VIRTIO_S_FAILED	     128

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* One queue's rings, in guest memory the device reads and writes. */
struct vring {
	struct vq_desc desc[VQ_SIZE];
	struct {
		uint16_t flags, idx, ring[VQ_SIZE], used_event;
	} avail;
	struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[VQ_SIZE];
		uint16_t avail_event;
	} used __attribute__((aligned(4)));
} __attribute__((aligned(4096)));

struct vdrv_vq {
	struct vring *ring;
	uint16_t index, size, avail_idx, last_used;
	uint16_t msix_entry;
	uint64_t notify_addr;
};

struct vdrv_dev {
	unsigned slot;
	uint16_t device_id;
	uint64_t bar_addr[6];
	bool bar_mapped[6];
	uint64_t common, isr, devcfg, notify;
	uint32_t notify_mult, devcfg_len;
	uint8_t msix_cap;
	uint16_t msix_nr;
	uint64_t msix_table, msix_pba;
	uint64_t features; /* negotiated */
};

/* Find the transport (vendor caps, BARs, MSI-X), map it, enable MEM and bus mastering. */
const char *vdrv_probe(struct vdrv_dev *d, unsigned slot);
/*
 * Reset, ACKNOWLEDGE, DRIVER, accept VERSION_1 plus the wanted bits the
 * device offers, FEATURES_OK (checked), and set up the queues.
 */
const char *vdrv_init(struct vdrv_dev *d, uint64_t want);
/* Queue index of d on mem, interrupting through MSI-X table entry msix_entry. */
const char *vdrv_queue_setup(struct vdrv_dev *d, struct vdrv_vq *q, uint16_t index,
			     struct vring *mem, uint16_t msix_entry);
/* DRIVER_OK, then check the device did not fail. */
const char *vdrv_driver_ok(struct vdrv_dev *d);
uint8_t vdrv_status(struct vdrv_dev *d);
/* Device config (0 beyond its length); 64-bit fields consistent across generations. */
uint32_t vdrv_config_read32(struct vdrv_dev *d, uint32_t off);
uint64_t vdrv_config_read64(struct vdrv_dev *d, uint32_t off);

/* MSI-X: enable the function, program entry (fixed delivery to apic_id), mask/unmask it. */
void vdrv_msix_enable(struct vdrv_dev *d);
void vdrv_msix_program(struct vdrv_dev *d, unsigned entry, uint8_t apic_id, uint8_t vector);
void vdrv_msix_mask(struct vdrv_dev *d, unsigned entry, bool masked);
bool vdrv_msix_pending(struct vdrv_dev *d, unsigned entry);

/* Descriptor i of the next chain (i < VQ_SIZE; chained to i + 1 unless last). */
void vq_set_desc(struct vdrv_vq *q, unsigned i, const void *buf, uint32_t len, bool device_writes,
		 bool last);
/* Publish the chain starting at descriptor head, without notifying the device. */
void vq_post(struct vdrv_vq *q, uint16_t head);
void vq_notify(struct vdrv_vq *q);
/* Publish the chain starting at descriptor 0 and notify the device. */
void vq_kick(struct vdrv_vq *q);
/* A used element is there: consume it, returning its head and length. */
bool vq_take_used(struct vdrv_vq *q, uint32_t *id, uint32_t *len);
/* A used element is waiting (not consumed). */
bool vq_has_used(struct vdrv_vq *q);

#endif
