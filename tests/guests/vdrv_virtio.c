/* SPDX-License-Identifier: MIT */
#include "vdrv_virtio.h"
#include "guest_lib.h"
#include "guest_mmio.h"
#include "vdrv_pci.h"

/* Vendor capability (4.1.4): cfg_type at +3, bar at +4, offset at +8, length at +12. */
#define CAP_CFG_TYPE	3
#define CAP_BAR		4
#define CAP_OFFSET	8
#define CAP_LENGTH	12
#define CAP_NOTIFY_MULT 16
#define CFG_COMMON	1
#define CFG_NOTIFY	2
#define CFG_ISR		3
#define CFG_DEVICE	4

/* Common configuration (4.1.4.3). */
#define CC_DFSELECT	0x00
#define CC_DF		0x04
#define CC_GFSELECT	0x08
#define CC_GF		0x0c
#define CC_MSIX_CONFIG	0x10
#define CC_NUM_QUEUES	0x12
#define CC_STATUS	0x14
#define CC_GENERATION	0x15
#define CC_Q_SELECT	0x16
#define CC_Q_SIZE	0x18
#define CC_Q_MSIX	0x1a
#define CC_Q_ENABLE	0x1c
#define CC_Q_NOTIFY_OFF 0x1e
#define CC_Q_DESC	0x20
#define CC_Q_AVAIL	0x28
#define CC_Q_USED	0x30
#define CC_SIZE		0x38

/* MSI-X capability and table (PCI 3.0 6.8.2). */
#define MSIX_CTRL      2
#define MSIX_TABLE     4
#define MSIX_PBA       8
#define MSIX_ENABLE    0x8000
#define MSIX_MASKALL   0x4000
#define MSIX_ENTRY     16
#define MSIX_E_ADDR_LO 0
#define MSIX_E_ADDR_HI 4
#define MSIX_E_DATA    8
#define MSIX_E_CTRL    12
#define MSI_ADDR_BASE  0xfee00000u

#define RESET_SPINS 1000

static inline void barrier_full(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

/* The BAR a capability points to, mapped once; 0 if it is not a usable memory BAR. */
static uint64_t vdrv_bar(struct vdrv_dev *d, unsigned bar)
{
	uint64_t addr;

	if (bar > 5)
		return 0;
	if (!d->bar_mapped[bar]) {
		/* 64 KiB covers the largest BAR the transport can have (virtio_pci.h: 32 KiB). */
		if (!pci_bar_addr(d->slot, bar, &addr) || !addr || !guest_map_uc(addr, 0x10000))
			return 0;
		d->bar_addr[bar] = addr;
		d->bar_mapped[bar] = true;
	}
	return d->bar_addr[bar];
}

static const char *vdrv_vendor_caps(struct vdrv_dev *d)
{
	uint8_t cap = 0;

	while ((cap = pci_find_cap(d->slot, PCI_CAP_ID_VNDR, cap)) != PCI_NO_CAP) {
		uint8_t type = pci_cf8_read8(d->slot, cap + CAP_CFG_TYPE);
		uint8_t bar = pci_cf8_read8(d->slot, cap + CAP_BAR);
		uint32_t off = pci_cf8_read32(d->slot, cap + CAP_OFFSET);
		uint32_t len = pci_cf8_read32(d->slot, cap + CAP_LENGTH);
		uint64_t base;

		if (type < CFG_COMMON || type > CFG_DEVICE)
			continue; /* PCI_CFG access window and vendor-specific ones: unused */
		/* The first capability of each type is the one to use (4.1.4.1). */
		if ((type == CFG_COMMON && d->common) || (type == CFG_NOTIFY && d->notify) ||
		    (type == CFG_ISR && d->isr) || (type == CFG_DEVICE && d->devcfg))
			continue;
		if (!(base = vdrv_bar(d, bar)))
			return "a virtio capability names an unusable BAR";
		if (off >= 0x10000 || len > 0x10000 - off)
			return "a virtio capability points outside the mapped BAR";
		con_printf("  cap 0x%x: type %u bar %u offset 0x%x length 0x%x\n", cap, type, bar,
			   off, len);
		switch (type) {
		case CFG_COMMON:
			if (len < CC_SIZE)
				return "common config capability too short";
			d->common = base + off;
			break;
		case CFG_NOTIFY:
			d->notify = base + off;
			d->notify_mult = pci_cf8_read32(d->slot, cap + CAP_NOTIFY_MULT);
			break;
		case CFG_ISR:
			d->isr = base + off;
			break;
		case CFG_DEVICE:
			d->devcfg = base + off;
			d->devcfg_len = len;
			break;
		}
	}
	/* Device config is there only for devices that have one (virtio-rng has none). */
	if (!d->common || !d->notify || !d->isr)
		return "a virtio capability (common/notify/ISR) is missing";
	return NULL;
}

static const char *vdrv_msix_caps(struct vdrv_dev *d)
{
	uint32_t table, pba;
	uint64_t tbase, pbase;

	d->msix_cap = pci_find_cap(d->slot, PCI_CAP_ID_MSIX, 0);
	if (d->msix_cap == PCI_NO_CAP)
		return "no MSI-X capability";
	d->msix_nr = (uint16_t)((pci_cf8_read16(d->slot, d->msix_cap + MSIX_CTRL) & 0x7ff) + 1);
	table = pci_cf8_read32(d->slot, d->msix_cap + MSIX_TABLE);
	pba = pci_cf8_read32(d->slot, d->msix_cap + MSIX_PBA);
	if (!(tbase = vdrv_bar(d, table & 7)) || !(pbase = vdrv_bar(d, pba & 7)))
		return "MSI-X table or PBA in an unusable BAR";
	if ((table & ~7u) + d->msix_nr * MSIX_ENTRY > 0x10000 || (pba & ~7u) >= 0x10000)
		return "MSI-X table or PBA outside the mapped BAR";
	d->msix_table = tbase + (table & ~7u);
	d->msix_pba = pbase + (pba & ~7u);
	con_printf("  MSI-X cap 0x%x: %u vectors, table bar %u + 0x%x, PBA bar %u + 0x%x\n",
		   d->msix_cap, d->msix_nr, table & 7, table & ~7u, pba & 7, pba & ~7u);
	return NULL;
}

const char *vdrv_probe(struct vdrv_dev *d, unsigned slot)
{
	const char *err;
	uint16_t cmd;

	d->slot = slot;
	d->device_id = pci_cf8_read16(slot, 2);
	if ((err = vdrv_vendor_caps(d)) || (err = vdrv_msix_caps(d)))
		return err;
	for (unsigned b = 0; b < 6; b++)
		if (d->bar_mapped[b])
			con_printf("  BAR%u at 0x%lx\n", b, d->bar_addr[b]);
	cmd = pci_cf8_read16(slot, PCI_COMMAND);
	pci_cf8_write16(slot, PCI_COMMAND, cmd | PCI_CMD_MEM | PCI_CMD_MASTER);
	if ((pci_cf8_read16(slot, PCI_COMMAND) & (PCI_CMD_MEM | PCI_CMD_MASTER)) !=
	    (PCI_CMD_MEM | PCI_CMD_MASTER))
		return "COMMAND.MEM/MASTER did not stick";
	return NULL;
}

uint8_t vdrv_status(struct vdrv_dev *d)
{
	return mmio_read8(d->common + CC_STATUS);
}

static void vdrv_set_status(struct vdrv_dev *d, uint8_t bits)
{
	mmio_write8(d->common + CC_STATUS, (uint8_t)(vdrv_status(d) | bits));
}

const char *vdrv_init(struct vdrv_dev *d, uint64_t want)
{
	uint64_t offered;
	unsigned i;

	mmio_write8(d->common + CC_STATUS, 0);
	for (i = 0; i < RESET_SPINS && vdrv_status(d); i++)
		cpu_relax();
	if (vdrv_status(d))
		return "device status not 0 after reset";
	vdrv_set_status(d, VIRTIO_S_ACK);
	vdrv_set_status(d, VIRTIO_S_DRIVER);

	mmio_write32(d->common + CC_DFSELECT, 0);
	offered = mmio_read32(d->common + CC_DF);
	mmio_write32(d->common + CC_DFSELECT, 1);
	offered |= (uint64_t)mmio_read32(d->common + CC_DF) << 32;
	con_printf("  device features 0x%lx\n", offered);
	if (!(offered & (1ULL << VIRTIO_F_VERSION_1)))
		return "device does not offer VERSION_1";
	d->features = (offered & want) | 1ULL << VIRTIO_F_VERSION_1;
	mmio_write32(d->common + CC_GFSELECT, 0);
	mmio_write32(d->common + CC_GF, (uint32_t)d->features);
	mmio_write32(d->common + CC_GFSELECT, 1);
	mmio_write32(d->common + CC_GF, (uint32_t)(d->features >> 32));
	vdrv_set_status(d, VIRTIO_S_FEATURES_OK);
	if (!(vdrv_status(d) & VIRTIO_S_FEATURES_OK))
		return "device refused FEATURES_OK";
	/* No config-change interrupts: this driver never looks for them. */
	mmio_write16(d->common + CC_MSIX_CONFIG, VIRTIO_NO_VECTOR);
	return NULL;
}

const char *vdrv_queue_setup(struct vdrv_dev *d, struct vdrv_vq *q, uint16_t index,
			     struct vring *mem, uint16_t msix_entry)
{
	uint16_t max, noff;

	if (index >= mmio_read16(d->common + CC_NUM_QUEUES))
		return "queue index beyond num_queues";
	mmio_write16(d->common + CC_Q_SELECT, index);
	max = mmio_read16(d->common + CC_Q_SIZE);
	if (max < VQ_SIZE)
		return "queue smaller than the driver's ring";
	if (mmio_read16(d->common + CC_Q_ENABLE))
		return "queue enabled right after reset";
	mmio_write16(d->common + CC_Q_SIZE, VQ_SIZE);
	mmio_write64_split(d->common + CC_Q_DESC, (uint64_t)mem->desc);
	mmio_write64_split(d->common + CC_Q_AVAIL, (uint64_t)&mem->avail);
	mmio_write64_split(d->common + CC_Q_USED, (uint64_t)&mem->used);
	mmio_write16(d->common + CC_Q_MSIX, msix_entry);
	if (mmio_read16(d->common + CC_Q_MSIX) != msix_entry)
		return "device did not take the queue's MSI-X vector";
	noff = mmio_read16(d->common + CC_Q_NOTIFY_OFF);
	mmio_write16(d->common + CC_Q_ENABLE, 1);
	if (mmio_read16(d->common + CC_Q_ENABLE) != 1)
		return "queue did not enable";
	q->ring = mem;
	q->index = index;
	q->size = VQ_SIZE;
	q->avail_idx = 0;
	q->last_used = 0;
	q->msix_entry = msix_entry;
	q->notify_addr = d->notify + (uint64_t)noff * d->notify_mult;
	con_printf("  queue %u: size %u (max %u), notify at 0x%lx, MSI-X entry %u\n", index,
		   VQ_SIZE, max, q->notify_addr, msix_entry);
	return NULL;
}

const char *vdrv_driver_ok(struct vdrv_dev *d)
{
	uint8_t s;

	vdrv_set_status(d, VIRTIO_S_DRIVER_OK);
	s = vdrv_status(d);
	if (s & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED) || !(s & VIRTIO_S_DRIVER_OK))
		return "device status bad after DRIVER_OK";
	return NULL;
}

uint32_t vdrv_config_read32(struct vdrv_dev *d, uint32_t off)
{
	return off + 4 <= d->devcfg_len ? mmio_read32(d->devcfg + off) : 0;
}

uint64_t vdrv_config_read64(struct vdrv_dev *d, uint32_t off)
{
	uint8_t gen;
	uint64_t v;

	/* Two dword reads: retry until config_generation says they are from one snapshot
	 * (4.1.4.3.1). */
	do {
		gen = mmio_read8(d->common + CC_GENERATION);
		v = vdrv_config_read32(d, off) | (uint64_t)vdrv_config_read32(d, off + 4) << 32;
	} while (gen != mmio_read8(d->common + CC_GENERATION));
	return v;
}

void vdrv_msix_enable(struct vdrv_dev *d)
{
	uint16_t ctrl = pci_cf8_read16(d->slot, d->msix_cap + MSIX_CTRL);

	pci_cf8_write16(d->slot, d->msix_cap + MSIX_CTRL,
			(uint16_t)((ctrl | MSIX_ENABLE) & ~MSIX_MASKALL));
}

void vdrv_msix_program(struct vdrv_dev *d, unsigned entry, uint8_t apic_id, uint8_t vector)
{
	uint64_t e = d->msix_table + (uint64_t)entry * MSIX_ENTRY;

	if (entry >= d->msix_nr)
		return;
	/* Physical destination, fixed delivery, edge. */
	mmio_write32(e + MSIX_E_ADDR_LO, MSI_ADDR_BASE | (uint32_t)apic_id << 12);
	mmio_write32(e + MSIX_E_ADDR_HI, 0);
	mmio_write32(e + MSIX_E_DATA, vector);
}

void vdrv_msix_mask(struct vdrv_dev *d, unsigned entry, bool masked)
{
	if (entry < d->msix_nr)
		mmio_write32(d->msix_table + (uint64_t)entry * MSIX_ENTRY + MSIX_E_CTRL, masked);
}

bool vdrv_msix_pending(struct vdrv_dev *d, unsigned entry)
{
	return entry < d->msix_nr &&
	       (mmio_read32(d->msix_pba + (entry / 32) * 4) >> (entry % 32)) & 1;
}

void vq_set_desc(struct vdrv_vq *q, unsigned i, const void *buf, uint32_t len, bool device_writes,
		 bool last)
{
	struct vq_desc *d;

	if (i >= q->size)
		return;
	d = &q->ring->desc[i];
	d->addr = (uint64_t)buf;
	d->len = len;
	d->flags = (uint16_t)((device_writes ? VQ_DESC_F_WRITE : 0) | (last ? 0 : VQ_DESC_F_NEXT));
	d->next = (uint16_t)(last ? 0 : i + 1);
}

void vq_post(struct vdrv_vq *q, uint16_t head)
{
	volatile struct vring *r = q->ring;

	r->avail.ring[q->avail_idx % q->size] = head;
	barrier_full(); /* descriptors and ring entry before the index */
	r->avail.idx = ++q->avail_idx;
}

void vq_notify(struct vdrv_vq *q)
{
	barrier_full(); /* the index before the notification */
	mmio_write16(q->notify_addr, q->index);
}

void vq_kick(struct vdrv_vq *q)
{
	vq_post(q, 0);
	vq_notify(q);
}

bool vq_has_used(struct vdrv_vq *q)
{
	return ((volatile struct vring *)q->ring)->used.idx != q->last_used;
}

bool vq_take_used(struct vdrv_vq *q, uint32_t *id, uint32_t *len)
{
	volatile struct vring *r = q->ring;
	unsigned slot;

	if (!vq_has_used(q))
		return false;
	barrier_full(); /* the index before the element */
	slot = q->last_used++ % q->size;
	*id = r->used.ring[slot].id;
	*len = r->used.ring[slot].len;
	return true;
}
