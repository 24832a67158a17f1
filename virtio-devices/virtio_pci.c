/* SPDX-License-Identifier: MIT */
#include "virtio_pci.h"
#include "log.h"
#include "virtio.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define VIRTIO_PCI_CAP_LEN	  16
#define VIRTIO_PCI_NOTIFY_CAP_LEN 20
#define VIRTIO_PCI_CFG_CAP_LEN	  20
#define VIRTIO_PCI_CFG_CAP_DATA	  16 /* pci_cfg_data inside the PCI_CFG capability */

/* What the transport itself supports on top of the device's bits. */
#define VIRTIO_PCI_TRANSPORT_FEATURES                                                              \
	(VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX) |            \
	 VIRTIO_FEATURE(VIRTIO_RING_F_INDIRECT_DESC))

static struct virtio_pci_dev *to_vdev(struct pci_device *pci)
{
	return (struct virtio_pci_dev *)((char *)pci - offsetof(struct virtio_pci_dev, pci));
}

static uint64_t get_le(const uint8_t *p, uint32_t len)
{
	uint64_t v = 0;

	memcpy(&v, p, len); /* x86 host: little-endian like the registers */
	return v;
}

static void put_le(uint8_t *p, uint64_t v, uint32_t len)
{
	memcpy(p, &v, len);
}

/* --- interrupts --- */

static void virtio_pci_kick_intx(struct virtio_pci_dev *vdev)
{
	uint64_t one = 1;

	if (write(vdev->intx_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("virtio-pci: %s: INTx eventfd: %s", vdev->pci.name, strerror(errno));
}

/* vdev->lock held. MSI-X vector, or the ISR bit + INTA# when MSI-X is off. */
static void virtio_pci_signal(struct virtio_pci_dev *vdev, uint16_t vector, uint8_t isr_bit)
{
	if (msix_enabled(&vdev->msix)) {
		if (vector != VIRTIO_PCI_NO_VECTOR)
			msix_notify(&vdev->msix, vector);
		return;
	}
	if (!(vdev->isr & isr_bit)) {
		vdev->isr |= isr_bit;
		virtio_pci_kick_intx(vdev);
	}
}

void virtio_pci_intx_sync(struct virtio_pci_dev *vdev)
{
	int level;

	pthread_mutex_lock(&vdev->lock);
	level = vdev->isr != 0;
	pthread_mutex_unlock(&vdev->lock);
	/* Only this thread changes INTx, so the level cannot go stale in between. */
	pci_device_set_intx(&vdev->pci, level);
}

static void virtio_pci_config_irq(struct virtio_pci_dev *vdev)
{
	vdev->config_generation++;
	virtio_pci_signal(vdev, vdev->msix_config, VIRTIO_PCI_ISR_CONFIG);
}

void virtio_pci_config_changed(struct virtio_pci_dev *vdev)
{
	virtio_pci_config_irq(vdev);
}

/* vdev->lock held: the device can no longer work until the driver resets it. */
static void virtio_pci_needs_reset(struct virtio_pci_dev *vdev, const char *why)
{
	if (vdev->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_warn("virtio-pci: %s: device needs reset: %s", vdev->pci.name, why);
	vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_pci_config_irq(vdev);
	else
		vdev->config_generation++;
}

struct virtq *virtio_pci_vq(struct virtio_pci_dev *vdev, unsigned q)
{
	return q < vdev->nr_queues ? &vdev->queues[q].vq : NULL;
}

void virtio_pci_queue_used(struct virtio_pci_dev *vdev, unsigned q)
{
	if (q < vdev->nr_queues && virtq_should_notify(&vdev->queues[q].vq))
		virtio_pci_signal(vdev, vdev->queues[q].msix_vector, VIRTIO_PCI_ISR_QUEUE);
}

/* --- notifications --- */

void virtio_pci_kick(struct virtio_pci_dev *vdev, unsigned q)
{
	struct virtio_pci_queue *vq;

	if (q >= vdev->nr_queues)
		return;
	vq = &vdev->queues[q];
	pthread_mutex_lock(&vdev->lock);
	if ((vdev->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
		VIRTIO_STATUS_DRIVER_OK &&
	    vq->enabled) {
		vdev->ops->queue_notify(vdev, q);
		if (vq->vq.error)
			virtio_pci_needs_reset(vdev, vq->vq.error);
	}
	pthread_mutex_unlock(&vdev->lock);
}

static void virtio_pci_on_kick(void *opaque, int fd, uint32_t events)
{
	struct virtio_pci_queue *vq = opaque;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	virtio_pci_kick(vq->vdev, vq->index);
}

/* An external queue's backend used buffers and the queue has no live vector fd. */
static void virtio_pci_on_call(void *opaque, int fd, uint32_t events)
{
	struct virtio_pci_queue *vq = opaque;
	struct virtio_pci_dev *vdev = vq->vdev;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0)
		return;
	pthread_mutex_lock(&vdev->lock);
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_pci_signal(vdev, vq->msix_vector, VIRTIO_PCI_ISR_QUEUE);
	pthread_mutex_unlock(&vdev->lock);
}

int virtio_pci_queue_set_external(struct virtio_pci_dev *vdev, unsigned q)
{
	struct virtio_pci_queue *vq;
	int ret;

	if (q >= vdev->nr_queues)
		return -EINVAL;
	vq = &vdev->queues[q];
	if (vq->external)
		return 0;
	vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->call_fd < 0) {
		ret = -errno;
		log_err("virtio-pci: %s: eventfd: %s", vdev->pci.name, strerror(errno));
		return ret;
	}
	if (vdev->env.loop) {
		evloop_del(vdev->env.loop, vq->kick_fd);
		if ((ret = evloop_add(vdev->env.loop, vq->call_fd, EPOLLIN, virtio_pci_on_call,
				      vq))) {
			close(vq->call_fd);
			vq->call_fd = -1;
			evloop_add(vdev->env.loop, vq->kick_fd, EPOLLIN, virtio_pci_on_kick, vq);
			return ret;
		}
	}
	vq->external = true;
	return 0;
}

int virtio_pci_queue_kick_fd(struct virtio_pci_dev *vdev, unsigned q)
{
	return q < vdev->nr_queues ? vdev->queues[q].kick_fd : -EINVAL;
}

int virtio_pci_queue_call_fd(struct virtio_pci_dev *vdev, unsigned q)
{
	struct virtio_pci_queue *vq;
	int fd;

	if (q >= vdev->nr_queues || !vdev->queues[q].external)
		return -EINVAL;
	vq = &vdev->queues[q];
	if (msix_enabled(&vdev->msix) && vq->msix_vector != VIRTIO_PCI_NO_VECTOR &&
	    (fd = msix_vector_eventfd(&vdev->msix, vq->msix_vector)) >= 0)
		return fd;
	return vq->call_fd;
}

static void virtio_pci_on_intx(void *opaque, int fd, uint32_t events)
{
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	virtio_pci_intx_sync(opaque);
}

static void virtio_pci_bind_kicks(struct virtio_pci_dev *vdev, uint64_t bar_addr)
{
	for (unsigned q = 0; q < vdev->nr_queues && vdev->env.vm_fd >= 0; q++) {
		struct virtio_pci_queue *vq = &vdev->queues[q];
		uint64_t addr = bar_addr + VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULT;

		/* Unbound, the kick still works: the BAR write handler signals the eventfd. */
		if (ioeventfd_assign(vdev->env.vm_fd, vq->kick_fd, addr, 2, false, false, 0) == 0) {
			vq->kick_bound = true;
			vq->kick_addr = addr;
		}
	}
}

static void virtio_pci_unbind_kicks(struct virtio_pci_dev *vdev)
{
	for (unsigned q = 0; q < vdev->nr_queues; q++) {
		struct virtio_pci_queue *vq = &vdev->queues[q];

		if (vq->kick_bound)
			ioeventfd_deassign(vdev->env.vm_fd, vq->kick_fd, vq->kick_addr, 2, false,
					   false, 0);
		vq->kick_bound = false;
	}
}

/* PCI core, device mutex held: only kick binding changes here, never vdev->lock. */
static void virtio_pci_bar_mapped(struct pci_device *pci, unsigned bar, uint64_t addr,
				  uint64_t size)
{
	(void)size;
	if (bar == VIRTIO_PCI_BAR)
		virtio_pci_bind_kicks(to_vdev(pci), addr);
}

static void virtio_pci_bar_unmapped(struct pci_device *pci, unsigned bar, uint64_t addr,
				    uint64_t size)
{
	(void)addr;
	(void)size;
	if (bar == VIRTIO_PCI_BAR)
		virtio_pci_unbind_kicks(to_vdev(pci));
}

/* --- common configuration --- */

/* vdev->lock held. */
static void virtio_pci_reset(struct virtio_pci_dev *vdev)
{
	for (unsigned q = 0; q < vdev->nr_queues; q++) {
		struct virtio_pci_queue *vq = &vdev->queues[q];

		virtq_reset(&vq->vq);
		vq->size = vdev->queue_max_size;
		vq->msix_vector = VIRTIO_PCI_NO_VECTOR;
		vq->enabled = false;
		vq->desc = vq->avail = vq->used = 0;
	}
	vdev->driver_features = 0;
	vdev->driver_features_bad = false;
	vdev->dfselect = vdev->gfselect = 0;
	vdev->msix_config = VIRTIO_PCI_NO_VECTOR;
	vdev->queue_select = 0;
	vdev->status = 0;
	if (vdev->isr) {
		vdev->isr = 0;
		virtio_pci_kick_intx(vdev);
	}
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
}

static bool virtio_pci_features_ok(struct virtio_pci_dev *vdev)
{
	if (vdev->driver_features_bad || (vdev->driver_features & ~vdev->device_features)) {
		log_warn("virtio-pci: %s: driver accepted features 0x%llx not offered (0x%llx)",
			 vdev->pci.name, (unsigned long long)vdev->driver_features,
			 (unsigned long long)vdev->device_features);
		return false;
	}
	if (!(vdev->driver_features & VIRTIO_FEATURE(VIRTIO_F_VERSION_1))) {
		log_warn("virtio-pci: %s: driver did not accept VERSION_1 (legacy drivers are "
			 "not supported)",
			 vdev->pci.name);
		return false;
	}
	return true;
}

static void virtio_pci_write_status(struct virtio_pci_dev *vdev, uint8_t val)
{
	uint8_t old = vdev->status, set;

	if (val == 0) {
		virtio_pci_reset(vdev);
		return;
	}
	/* NEEDS_RESET is the device's; the driver cannot set or clear it. */
	val = (uint8_t)((val & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
	set = val & ~old;
	if ((set & VIRTIO_STATUS_FEATURES_OK) && !virtio_pci_features_ok(vdev))
		val &= ~VIRTIO_STATUS_FEATURES_OK;
	if ((set & VIRTIO_STATUS_DRIVER_OK) && !(val & VIRTIO_STATUS_FEATURES_OK)) {
		log_warn("virtio-pci: %s: DRIVER_OK without FEATURES_OK ignored", vdev->pci.name);
		val &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	vdev->status = val;
	if ((val & VIRTIO_STATUS_DRIVER_OK) && (set & VIRTIO_STATUS_DRIVER_OK) &&
	    vdev->ops->activate && vdev->ops->activate(vdev))
		virtio_pci_needs_reset(vdev, "device activation failed");
}

static void virtio_pci_enable_queue(struct virtio_pci_dev *vdev, struct virtio_pci_queue *vq)
{
	bool event_idx = vdev->driver_features & VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX);

	if (vq->enabled)
		return;
	if (virtq_init(&vq->vq, vdev->env.dma, vq->size) ||
	    virtq_set_addrs(&vq->vq, vq->desc, vq->avail, vq->used) ||
	    virtq_enable(&vq->vq, event_idx)) {
		virtio_pci_needs_reset(vdev, "queue enabled with an invalid size or rings");
		return;
	}
	vq->enabled = true;
}

/* The register at off of width len: true if the access is well-formed. */
static bool virtio_pci_common_field(uint32_t off, uint32_t len, uint32_t *field, uint32_t *fw)
{
	static const struct {
		uint8_t off, width;
	} fields[] = {
	    {VIRTIO_PCI_COMMON_DFSELECT, 4}, {VIRTIO_PCI_COMMON_DF, 4},
	    {VIRTIO_PCI_COMMON_GFSELECT, 4}, {VIRTIO_PCI_COMMON_GF, 4},
	    {VIRTIO_PCI_COMMON_MSIX, 2},     {VIRTIO_PCI_COMMON_NUMQ, 2},
	    {VIRTIO_PCI_COMMON_STATUS, 1},   {VIRTIO_PCI_COMMON_CFGGENERATION, 1},
	    {VIRTIO_PCI_COMMON_Q_SELECT, 2}, {VIRTIO_PCI_COMMON_Q_SIZE, 2},
	    {VIRTIO_PCI_COMMON_Q_MSIX, 2},   {VIRTIO_PCI_COMMON_Q_ENABLE, 2},
	    {VIRTIO_PCI_COMMON_Q_NOFF, 2},   {VIRTIO_PCI_COMMON_Q_DESC, 8},
	    {VIRTIO_PCI_COMMON_Q_AVAIL, 8},  {VIRTIO_PCI_COMMON_Q_USED, 8},
	};

	for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint32_t fo = fields[i].off, w = fields[i].width;

		if (off < fo || off >= fo + w)
			continue;
		/* The field's own width; 64-bit fields also as two dwords. */
		if ((off == fo && len == w) || (w == 8 && len == 4 && (off - fo) % 4 == 0)) {
			*field = fo;
			*fw = w;
			return true;
		}
		return false;
	}
	return false;
}

static uint64_t virtio_pci_common_read(struct virtio_pci_dev *vdev, uint32_t field)
{
	struct virtio_pci_queue *vq =
	    vdev->queue_select < vdev->nr_queues ? &vdev->queues[vdev->queue_select] : NULL;

	switch (field) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		return vdev->dfselect;
	case VIRTIO_PCI_COMMON_DF:
		return vdev->dfselect < 2
			   ? (uint32_t)(vdev->device_features >> (32 * vdev->dfselect))
			   : 0;
	case VIRTIO_PCI_COMMON_GFSELECT:
		return vdev->gfselect;
	case VIRTIO_PCI_COMMON_GF:
		return vdev->gfselect < 2
			   ? (uint32_t)(vdev->driver_features >> (32 * vdev->gfselect))
			   : 0;
	case VIRTIO_PCI_COMMON_MSIX:
		return vdev->msix_config;
	case VIRTIO_PCI_COMMON_NUMQ:
		return vdev->nr_queues;
	case VIRTIO_PCI_COMMON_STATUS:
		return vdev->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return vdev->config_generation;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return vdev->queue_select;
	}
	/* Queue registers of a queue that does not exist read as 0 (size 0: no queue). */
	if (!vq)
		return field == VIRTIO_PCI_COMMON_Q_MSIX ? VIRTIO_PCI_NO_VECTOR : 0;
	switch (field) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return vq->size;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return vq->msix_vector;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return vq->enabled;
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return vdev->queue_select;
	case VIRTIO_PCI_COMMON_Q_DESC:
		return vq->desc;
	case VIRTIO_PCI_COMMON_Q_AVAIL:
		return vq->avail;
	case VIRTIO_PCI_COMMON_Q_USED:
		return vq->used;
	}
	return 0;
}

static uint16_t virtio_pci_vector(struct virtio_pci_dev *vdev, uint64_t v)
{
	/* A vector the function does not have maps to nothing; the driver reads that back. */
	return v < vdev->msix.nr ? (uint16_t)v : VIRTIO_PCI_NO_VECTOR;
}

static void virtio_pci_set_64(uint64_t *reg, uint32_t part_off, uint32_t len, uint64_t v)
{
	if (len == 8)
		*reg = v;
	else if (part_off == 0)
		*reg = (*reg & 0xffffffff00000000ULL) | (uint32_t)v;
	else
		*reg = (*reg & 0xffffffffULL) | (v << 32);
}

static void virtio_pci_common_write(struct virtio_pci_dev *vdev, uint32_t off, uint32_t field,
				    uint32_t len, uint64_t v)
{
	struct virtio_pci_queue *vq =
	    vdev->queue_select < vdev->nr_queues ? &vdev->queues[vdev->queue_select] : NULL;
	bool feat_locked = vdev->status & VIRTIO_STATUS_FEATURES_OK;

	switch (field) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vdev->dfselect = (uint32_t)v;
		return;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vdev->gfselect = (uint32_t)v;
		return;
	case VIRTIO_PCI_COMMON_GF:
		if (feat_locked)
			break;
		if (vdev->gfselect < 2) {
			unsigned sh = 32 * vdev->gfselect;

			vdev->driver_features =
			    (vdev->driver_features & ~(0xffffffffULL << sh)) | (v << sh);
		} else if (v) {
			vdev->driver_features_bad = true;
		}
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		vdev->msix_config = virtio_pci_vector(vdev, v);
		return;
	case VIRTIO_PCI_COMMON_STATUS:
		virtio_pci_write_status(vdev, (uint8_t)v);
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vdev->queue_select = (uint16_t)v;
		return;
	}
	if (!vq)
		goto ignored;
	if (field == VIRTIO_PCI_COMMON_Q_MSIX) {
		uint16_t old = vq->msix_vector;

		vq->msix_vector = virtio_pci_vector(vdev, v);
		if (vq->external && old != vq->msix_vector && vdev->ops->queue_vector_changed)
			vdev->ops->queue_vector_changed(vdev, vdev->queue_select);
		return;
	}
	if (field == VIRTIO_PCI_COMMON_Q_ENABLE) {
		if (v == 1)
			virtio_pci_enable_queue(vdev, vq);
		else
			goto ignored; /* only a reset disables a queue */
		return;
	}
	if (vq->enabled)
		goto ignored; /* the ring layout is fixed while the queue runs */
	switch (field) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if (!v || v > vdev->queue_max_size || (v & (v - 1)))
			goto ignored;
		vq->size = (uint16_t)v;
		return;
	case VIRTIO_PCI_COMMON_Q_DESC:
		virtio_pci_set_64(&vq->desc, off - field, len, v);
		return;
	case VIRTIO_PCI_COMMON_Q_AVAIL:
		virtio_pci_set_64(&vq->avail, off - field, len, v);
		return;
	case VIRTIO_PCI_COMMON_Q_USED:
		virtio_pci_set_64(&vq->used, off - field, len, v);
		return;
	}
ignored:
	log_debug("virtio-pci: %s: write 0x%llx to common register 0x%x ignored", vdev->pci.name,
		  (unsigned long long)v, off);
}

/* --- the BAR --- */

static void virtio_pci_bar_access(struct virtio_pci_dev *vdev, uint64_t off, uint8_t *rdata,
				  const uint8_t *wdata, uint32_t len)
{
	uint32_t field, fw;

	if (rdata)
		memset(rdata, 0, len);
	if (len == 0 || len > 8)
		return;
	if (off < VIRTIO_PCI_COMMON_SIZE) {
		if (!virtio_pci_common_field((uint32_t)off, len, &field, &fw)) {
			log_debug("virtio-pci: %s: %u-byte access to common config 0x%llx ignored",
				  vdev->pci.name, len, (unsigned long long)off);
			return;
		}
		pthread_mutex_lock(&vdev->lock);
		if (rdata)
			put_le(rdata, virtio_pci_common_read(vdev, field) >> (8 * (off - field)),
			       len);
		else
			virtio_pci_common_write(vdev, (uint32_t)off, field, len,
						get_le(wdata, len));
		pthread_mutex_unlock(&vdev->lock);
	} else if (off == VIRTIO_PCI_ISR_OFF && len == 1) {
		if (!rdata)
			return;
		pthread_mutex_lock(&vdev->lock);
		rdata[0] = vdev->isr;
		if (vdev->isr) {
			vdev->isr = 0; /* read to clear, and INTA# goes low */
			virtio_pci_kick_intx(vdev);
		}
		pthread_mutex_unlock(&vdev->lock);
	} else if (off >= VIRTIO_PCI_DEVCFG_OFF && off < VIRTIO_PCI_DEVCFG_OFF + 0x1000) {
		uint32_t c = (uint32_t)(off - VIRTIO_PCI_DEVCFG_OFF);

		if (c + len > vdev->config_size)
			return;
		pthread_mutex_lock(&vdev->lock);
		if (rdata && vdev->ops->config_read)
			vdev->ops->config_read(vdev, c, rdata, len);
		else if (rdata && vdev->config)
			memcpy(rdata, vdev->config + c, len);
		else if (wdata && vdev->ops->config_write)
			vdev->ops->config_write(vdev, c, wdata, len);
		pthread_mutex_unlock(&vdev->lock);
	} else if (off >= VIRTIO_PCI_NOTIFY_OFF &&
		   off < VIRTIO_PCI_NOTIFY_OFF + vdev->nr_queues * VIRTIO_PCI_NOTIFY_MULT) {
		uint64_t one = 1;
		unsigned q = (unsigned)(off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT;

		/* No ioeventfd (or an odd width): hand the kick to the event loop ourselves. */
		if (wdata && write(vdev->queues[q].kick_fd, &one, sizeof(one)) < 0 &&
		    errno != EAGAIN)
			log_warn("virtio-pci: %s: kick eventfd: %s", vdev->pci.name,
				 strerror(errno));
	} else if (rdata) {
		if (!msix_bar_read(&vdev->msix, VIRTIO_PCI_BAR, off, rdata, len))
			log_debug("virtio-pci: %s: read of unused BAR offset 0x%llx",
				  vdev->pci.name, (unsigned long long)off);
	} else if (!msix_bar_write(&vdev->msix, VIRTIO_PCI_BAR, off, wdata, len)) {
		log_debug("virtio-pci: %s: write to unused BAR offset 0x%llx", vdev->pci.name,
			  (unsigned long long)off);
	}
}

static void virtio_pci_bar_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	virtio_pci_bar_access(opaque, off, data, NULL, len);
}

static void virtio_pci_bar_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	virtio_pci_bar_access(opaque, off, NULL, data, len);
}

static const struct bus_dev_ops virtio_pci_bar_ops = {.read = virtio_pci_bar_read,
						      .write = virtio_pci_bar_write};

/* --- PCI configuration: the PCI_CFG capability's window into the BAR --- */

static uint8_t virtio_pci_cfg_cap(struct virtio_pci_dev *vdev)
{
	/* The last capability added: see virtio_pci_init. */
	return vdev->pci.cfg.last_cap;
}

/* pci_cfg_data as one access of cap.length bytes at cap.offset of cap.bar. */
static bool virtio_pci_cfg_window(struct virtio_pci_dev *vdev, uint32_t off, uint32_t len,
				  uint64_t *bar_off, uint32_t *blen)
{
	uint8_t cap = virtio_pci_cfg_cap(vdev);
	uint32_t data = cap + VIRTIO_PCI_CFG_CAP_DATA;
	uint32_t o = pci_config_get32(&vdev->pci.cfg, cap + 8);
	uint32_t l = pci_config_get32(&vdev->pci.cfg, cap + 12);

	if (off != data || len < l)
		return false;
	if (pci_config_get8(&vdev->pci.cfg, cap + 4) != VIRTIO_PCI_BAR ||
	    (l != 1 && l != 2 && l != 4) || o % l || o + l > VIRTIO_PCI_BAR_SIZE) {
		log_debug("virtio-pci: %s: PCI_CFG access (bar %u, 0x%x+%u) ignored",
			  vdev->pci.name, pci_config_get8(&vdev->pci.cfg, cap + 4), o, l);
		return false;
	}
	*bar_off = o;
	*blen = l;
	return true;
}

static int virtio_pci_config_read(struct pci_device *pci, uint32_t off, void *data, uint32_t len)
{
	struct virtio_pci_dev *vdev = to_vdev(pci);
	uint64_t bo;
	uint32_t bl;
	int ret = pci_device_config_read_default(pci, off, data, len);

	if (ret == 0 && virtio_pci_cfg_window(vdev, off, len, &bo, &bl))
		virtio_pci_bar_access(vdev, bo, data, NULL, bl);
	return ret;
}

static int virtio_pci_config_write(struct pci_device *pci, uint32_t off, const void *data,
				   uint32_t len)
{
	struct virtio_pci_dev *vdev = to_vdev(pci);
	uint64_t bo;
	uint32_t bl;

	if (virtio_pci_cfg_window(vdev, off, len, &bo, &bl)) {
		virtio_pci_bar_access(vdev, bo, NULL, data, bl);
		return 0;
	}
	return pci_device_config_write_default(pci, off, data, len);
}

static const struct pci_device_ops virtio_pci_dev_ops = {
    .config_read = virtio_pci_config_read,
    .config_write = virtio_pci_config_write,
    .bar_mapped = virtio_pci_bar_mapped,
    .bar_unmapped = virtio_pci_bar_unmapped,
};

/* --- setup --- */

static int virtio_pci_add_cap(struct virtio_pci_dev *vdev, uint8_t type, uint32_t len,
			      uint32_t bar_off, uint32_t bar_len)
{
	struct pci_config *cfg = &vdev->pci.cfg;
	int cap = pci_add_capability(&vdev->pci, PCI_CAP_ID_VNDR, len);

	if (cap < 0)
		return cap;
	pci_config_set8(cfg, (uint32_t)cap + 2, (uint8_t)len);
	pci_config_set8(cfg, (uint32_t)cap + 3, type);
	pci_config_set8(cfg, (uint32_t)cap + 4, VIRTIO_PCI_BAR);
	pci_config_set32(cfg, (uint32_t)cap + 8, bar_off);
	pci_config_set32(cfg, (uint32_t)cap + 12, bar_len);
	return cap;
}

static int virtio_pci_add_caps(struct virtio_pci_dev *vdev)
{
	int cap;

	if ((cap = virtio_pci_add_cap(vdev, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_LEN,
				      VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_SIZE)) < 0)
		return cap;
	if ((cap = virtio_pci_add_cap(vdev, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_CAP_LEN,
				      VIRTIO_PCI_NOTIFY_OFF,
				      vdev->nr_queues * VIRTIO_PCI_NOTIFY_MULT)) < 0)
		return cap;
	pci_config_set32(&vdev->pci.cfg, (uint32_t)cap + 16, VIRTIO_PCI_NOTIFY_MULT);
	if ((cap = virtio_pci_add_cap(vdev, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_LEN,
				      VIRTIO_PCI_ISR_OFF, 1)) < 0)
		return cap;
	if (vdev->config_size &&
	    (cap = virtio_pci_add_cap(vdev, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_CAP_LEN,
				      VIRTIO_PCI_DEVCFG_OFF, vdev->config_size)) < 0)
		return cap;
	/* Last, so virtio_pci_cfg_cap finds it: the driver picks bar/offset/length. */
	if ((cap = virtio_pci_add_cap(vdev, VIRTIO_PCI_CAP_PCI_CFG, VIRTIO_PCI_CFG_CAP_LEN, 0, 0)) <
	    0)
		return cap;
	pci_config_set8(&vdev->pci.cfg, (uint32_t)cap + 4, 0);
	pci_config_set_wmask(&vdev->pci.cfg, (uint32_t)cap + 4, 0xff, 1);
	pci_config_set_wmask(&vdev->pci.cfg, (uint32_t)cap + 8, 0xffffffff, 4);
	pci_config_set_wmask(&vdev->pci.cfg, (uint32_t)cap + 12, 0xffffffff, 4);
	return 0;
}

/*
 * The DMA space unmapped a range: queues whose rings it overlaps translate
 * them again before their next access. Runs with the space's mutex held;
 * vdev->lock is what every ring access holds.
 */
static void virtio_pci_dma_unmap(struct dma_listener *l, uint64_t iova, uint64_t size)
{
	struct virtio_pci_dev *vdev =
	    (struct virtio_pci_dev *)((char *)l - offsetof(struct virtio_pci_dev, dma_listener));

	pthread_mutex_lock(&vdev->lock);
	for (unsigned q = 0; q < vdev->nr_queues; q++)
		virtq_invalidate(&vdev->queues[q].vq, iova, size);
	pthread_mutex_unlock(&vdev->lock);
}

int virtio_pci_init(struct virtio_pci_dev *vdev, const struct virtio_device_ops *ops,
		    const struct virtio_pci_params *params, void *opaque,
		    const struct virtio_env *env)
{
	struct evloop *loop = env->loop;
	unsigned nvec = params->nr_queues + 1;
	int ret;

	memset(vdev, 0, sizeof(*vdev));
	vdev->intx_efd = -1;
	for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++) {
		vdev->queues[q].vdev = vdev;
		vdev->queues[q].index = q;
		vdev->queues[q].kick_fd = -1;
		vdev->queues[q].call_fd = -1;
	}
	if (!params->nr_queues || params->nr_queues > VIRTIO_PCI_MAX_QUEUES ||
	    !params->queue_max_size || params->queue_max_size > VIRTQ_MAX_SIZE ||
	    (params->queue_max_size & (params->queue_max_size - 1)) ||
	    params->config_size > VIRTIO_PCI_CONFIG_MAX || !ops->queue_notify || !env->dma) {
		log_err("virtio-pci: %s: bad device description (%u queues of %u)", ops->name,
			params->nr_queues, params->queue_max_size);
		return -EINVAL;
	}
	vdev->ops = ops;
	vdev->opaque = opaque;
	vdev->env = *env;
	vdev->nr_queues = params->nr_queues;
	vdev->queue_max_size = params->queue_max_size;
	vdev->config_size = params->config_size;
	vdev->device_features = params->features | VIRTIO_PCI_TRANSPORT_FEATURES;
	if ((ret = -pthread_mutex_init(&vdev->lock, NULL))) {
		log_err("virtio-pci: %s: mutex init failed", ops->name);
		return ret;
	}
	ret = pci_device_init(&vdev->pci, &virtio_pci_dev_ops, ops->name, VIRTIO_PCI_VENDOR_ID,
			      (uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_id), ops->class_code,
			      1);
	if (ret)
		goto err_lock;
	/* Subsystem IDs: virtio 4.1.2.1 wants a non-zero subsystem device ID >= 0x40. */
	pci_config_set16(&vdev->pci.cfg, PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR_ID);
	pci_config_set16(&vdev->pci.cfg, PCI_SUBSYSTEM_ID, 0x40);
	pci_config_set8(&vdev->pci.cfg, PCI_INTERRUPT_PIN, 1);
	if ((ret = pci_device_set_bar(&vdev->pci, VIRTIO_PCI_BAR, PCI_BAR_MEM64, false,
				      VIRTIO_PCI_BAR_SIZE, &virtio_pci_bar_ops, vdev)))
		goto err_pci;
	if ((ret =
		 msix_init(&vdev->msix, &vdev->pci, nvec, VIRTIO_PCI_BAR, VIRTIO_PCI_MSIX_TABLE_OFF,
			   VIRTIO_PCI_BAR, VIRTIO_PCI_MSIX_PBA_OFF, env->router, env->vm_fd)))
		goto err_pci;
	if ((ret = virtio_pci_add_caps(vdev)))
		goto err_msix;
	vdev->intx_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vdev->intx_efd < 0) {
		ret = -errno;
		log_err("virtio-pci: %s: eventfd: %s", ops->name, strerror(errno));
		goto err_fds;
	}
	for (unsigned q = 0; q < vdev->nr_queues; q++) {
		vdev->queues[q].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vdev->queues[q].kick_fd < 0) {
			ret = -errno;
			log_err("virtio-pci: %s: eventfd: %s", ops->name, strerror(errno));
			goto err_fds;
		}
	}
	if (loop) {
		if ((ret = evloop_add(loop, vdev->intx_efd, EPOLLIN, virtio_pci_on_intx, vdev)))
			goto err_fds;
		for (unsigned q = 0; q < vdev->nr_queues; q++)
			if ((ret = evloop_add(loop, vdev->queues[q].kick_fd, EPOLLIN,
					      virtio_pci_on_kick, &vdev->queues[q])))
				goto err_fds;
	}
	pthread_mutex_lock(&vdev->lock);
	virtio_pci_reset(vdev);
	vdev->isr = 0;
	pthread_mutex_unlock(&vdev->lock);
	/* Last: from here an unmap may take vdev->lock. */
	vdev->dma_listener.unmap = virtio_pci_dma_unmap;
	if ((ret = dma_listener_register(env->dma, &vdev->dma_listener)))
		goto err_fds;
	return 0;
err_fds:
	if (loop) {
		evloop_del(loop, vdev->intx_efd);
		for (unsigned q = 0; q < vdev->nr_queues; q++)
			evloop_del(loop, vdev->queues[q].kick_fd);
	}
	for (unsigned q = 0; q < vdev->nr_queues; q++)
		if (vdev->queues[q].kick_fd >= 0)
			close(vdev->queues[q].kick_fd);
	if (vdev->intx_efd >= 0)
		close(vdev->intx_efd);
err_msix:
	msix_destroy(&vdev->msix);
err_pci:
	pci_device_destroy(&vdev->pci);
err_lock:
	pthread_mutex_destroy(&vdev->lock);
	vdev->ops = NULL;
	return ret;
}

void virtio_pci_destroy(struct virtio_pci_dev *vdev)
{
	if (!vdev->ops)
		return;
	dma_listener_unregister(vdev->env.dma, &vdev->dma_listener);
	pthread_mutex_lock(&vdev->pci.lock);
	virtio_pci_unbind_kicks(vdev);
	pthread_mutex_unlock(&vdev->pci.lock);
	for (unsigned q = 0; q < vdev->nr_queues; q++) {
		if (vdev->env.loop)
			evloop_del(vdev->env.loop, vdev->queues[q].kick_fd);
		close(vdev->queues[q].kick_fd);
		if (vdev->queues[q].call_fd >= 0) {
			if (vdev->env.loop)
				evloop_del(vdev->env.loop, vdev->queues[q].call_fd);
			close(vdev->queues[q].call_fd);
		}
	}
	if (vdev->env.loop)
		evloop_del(vdev->env.loop, vdev->intx_efd);
	close(vdev->intx_efd);
	msix_destroy(&vdev->msix);
	pci_device_destroy(&vdev->pci);
	pthread_mutex_destroy(&vdev->lock);
	vdev->ops = NULL;
}
