/* SPDX-License-Identifier: MIT */
/*
 * virtio-pci modern transport (virtio 1.2 section 4.1): a PCI function
 * (vendor 0x1af4, device 0x1040 + virtio device ID, revision 1) whose
 * vendor capabilities point into one 64-bit memory BAR:
 *
 *   0x0000 common configuration   0x1000 ISR status
 *   0x2000 device configuration   0x3000 notifications (4 bytes per queue)
 *   0x4000 MSI-X table            0x6000 MSI-X PBA
 *
 * A device class is one const struct virtio_device_ops; what differs
 * between instances of a class (features, queue count) is a struct
 * virtio_pci_params, and what the VM provides (DMA space, event loop, GSI
 * router, VM fd) a struct virtio_env shared by every device. The transport
 * owns feature negotiation, device status and reset, the queues' registers
 * and struct virtq, notifications and interrupts.
 *
 * DMA: every queue translates through env->dma (virtqueue.c). The transport
 * listens to that space and drops a queue's cached ring pointers when an
 * unmap overlaps them (virtq_invalidate, under vdev->lock).
 *
 * Threads: BAR accesses arrive on vCPU threads, queue kicks on the event
 * loop (the queue's eventfd, bound by KVM_IOEVENTFD to its notify address
 * while the BAR is decoded). vdev->lock serialises both: ops->queue_notify,
 * ->reset and ->activate run with it held. INTx is raised and lowered only
 * from the event loop (through intx_efd) because a BAR handler runs under
 * the PCI root's map lock, which must not be held when taking the PCI
 * device mutex. A queue left in error by virtq_pop() puts the device in
 * NEEDS_RESET with a config interrupt; the VMM keeps running.
 */
#ifndef SLUICE_VIRTIO_PCI_H
#define SLUICE_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dma.h"
#include "evloop.h"
#include "irq.h"
#include "msix.h"
#include "pci.h"
#include "virtqueue.h"

#define VIRTIO_PCI_VENDOR_ID   0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + virtio device ID */
#define VIRTIO_PCI_NO_VECTOR   0xffff
#define VIRTIO_PCI_MAX_QUEUES  64
#define VIRTIO_PCI_CONFIG_MAX  0x1000 /* device config bytes the BAR can hold */
#define VIRTIO_PCI_NOTIFY_MULT 4      /* notify_off_multiplier */
#define VIRTIO_PCI_ISR_QUEUE   0x1
#define VIRTIO_PCI_ISR_CONFIG  0x2

/* BAR layout. */
#define VIRTIO_PCI_BAR		  0 /* 64-bit: BARs 0 and 1 */
#define VIRTIO_PCI_BAR_SIZE	  0x8000
#define VIRTIO_PCI_COMMON_OFF	  0x0000
#define VIRTIO_PCI_COMMON_SIZE	  0x38
#define VIRTIO_PCI_ISR_OFF	  0x1000
#define VIRTIO_PCI_DEVCFG_OFF	  0x2000
#define VIRTIO_PCI_NOTIFY_OFF	  0x3000
#define VIRTIO_PCI_MSIX_TABLE_OFF 0x4000
#define VIRTIO_PCI_MSIX_PBA_OFF	  0x6000

/* Common configuration registers (4.1.4.3). */
#define VIRTIO_PCI_COMMON_DFSELECT	0x00
#define VIRTIO_PCI_COMMON_DF		0x04
#define VIRTIO_PCI_COMMON_GFSELECT	0x08
#define VIRTIO_PCI_COMMON_GF		0x0c
#define VIRTIO_PCI_COMMON_MSIX		0x10
#define VIRTIO_PCI_COMMON_NUMQ		0x12
#define VIRTIO_PCI_COMMON_STATUS	0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT	0x16
#define VIRTIO_PCI_COMMON_Q_SIZE	0x18
#define VIRTIO_PCI_COMMON_Q_MSIX	0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE	0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF	0x1e
#define VIRTIO_PCI_COMMON_Q_DESC	0x20
#define VIRTIO_PCI_COMMON_Q_AVAIL	0x28
#define VIRTIO_PCI_COMMON_Q_USED	0x30

/* Vendor capability cfg_type (4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG	  3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG	  5

struct virtio_pci_dev;

/*
 * What a virtio device needs from the VM, built once per VM (by the
 * machine layer, vmm-core/machine/machine.c) and copied into each device;
 * what it points to must outlive the devices.
 */
struct virtio_env {
	struct dma_space *dma;	   /* the devices' DMA address space (identity over guest RAM) */
	struct evloop *loop;	   /* NULL (tests): kicks only through virtio_pci_kick() */
	struct gsi_router *router; /* MSI-X routing; NULL in tests */
	int vm_fd;		   /* -1: no KVM (tests); no ioeventfd/irqfd */
};

/* One instance's shape: what differs between devices of one class. */
struct virtio_pci_params {
	uint64_t features;	 /* device bits; the transport adds VERSION_1 and the ring bits */
	unsigned nr_queues;	 /* 1..VIRTIO_PCI_MAX_QUEUES */
	uint16_t queue_max_size; /* power of two, <= VIRTQ_MAX_SIZE */
	uint32_t config_size;	 /* bytes of device config (<= VIRTIO_PCI_CONFIG_MAX) */
};

/* One per device class, const. Callbacks run with vdev->lock held. */
struct virtio_device_ops {
	const char *name;
	uint16_t device_id;  /* VIRTIO_ID_* */
	uint32_t class_code; /* PCI class/subclass/prog-if */
	/*
	 * Device config access, already bounds-checked against config_size.
	 * Optional: without config_read, reads come from vdev->config.
	 */
	void (*config_read)(struct virtio_pci_dev *vdev, uint32_t off, void *data, uint32_t len);
	void (*config_write)(struct virtio_pci_dev *vdev, uint32_t off, const void *data,
			     uint32_t len);
	/* The driver kicked queue q (ready, DRIVER_OK, not NEEDS_RESET). */
	void (*queue_notify)(struct virtio_pci_dev *vdev, unsigned q);
	/* Device reset (status 0 written); the transport has reset the queues. Optional. */
	void (*reset)(struct virtio_pci_dev *vdev);
	/* DRIVER_OK: negotiated features in vdev->driver_features. Optional. */
	int (*activate)(struct virtio_pci_dev *vdev);
	/*
	 * The driver wrote queue q's MSI-X vector (external queues only): the
	 * fd of virtio_pci_queue_call_fd() may have changed. Optional.
	 */
	void (*queue_vector_changed)(struct virtio_pci_dev *vdev, unsigned q);
};

struct virtio_pci_queue {
	struct virtio_pci_dev *vdev; /* back pointer for the kick handler */
	unsigned index;
	struct virtq vq;
	uint16_t size; /* driver's choice, <= queue_max_size */
	uint16_t msix_vector;
	bool enabled;
	uint64_t desc, avail, used;
	int kick_fd;	 /* eventfd: KVM_IOEVENTFD on the notify address */
	bool kick_bound; /* ioeventfd assigned at kick_addr */
	uint64_t kick_addr;
	bool external; /* data path served outside the VMM (virtio_pci_queue_set_external) */
	int call_fd;   /* external: eventfd the VMM relays to INTx or a vector-less queue */
};

struct virtio_pci_dev {
	struct pci_device pci;
	struct msix msix;
	const struct virtio_device_ops *ops;
	void *opaque;	       /* the device model */
	const uint8_t *config; /* config_size bytes the device keeps current (vdev->lock) */
	struct virtio_env env; /* env.vm_fd -1: kicks come only through BAR writes */
	struct dma_listener dma_listener; /* unmaps: drop cached ring pointers */
	uint16_t queue_max_size;
	uint32_t config_size;

	pthread_mutex_t lock;
	uint64_t device_features;
	uint64_t driver_features;
	bool driver_features_bad; /* bits written above 64 */
	uint32_t dfselect, gfselect;
	uint16_t msix_config;
	uint8_t status;
	uint8_t config_generation;
	uint16_t queue_select;
	uint8_t isr;
	int intx_efd; /* event loop: bring INTA# in line with isr */
	unsigned nr_queues;
	struct virtio_pci_queue queues[VIRTIO_PCI_MAX_QUEUES];
};

/*
 * Build the PCI function of class ops with params (not yet on the bus: the
 * caller adds vdev->pci to the root); opaque is the device model. Both
 * params and env are copied.
 */
int virtio_pci_init(struct virtio_pci_dev *vdev, const struct virtio_device_ops *ops,
		    const struct virtio_pci_params *params, void *opaque,
		    const struct virtio_env *env);
void virtio_pci_destroy(struct virtio_pci_dev *vdev);

/* For devices: queue q's ring (q < nr_queues). */
struct virtq *virtio_pci_vq(struct virtio_pci_dev *vdev, unsigned q);
/* For devices, after pushing to queue q: interrupt the driver if the ring asks for it. */
void virtio_pci_queue_used(struct virtio_pci_dev *vdev, unsigned q);
/* For devices: the device config changed (new generation, config interrupt). */
void virtio_pci_config_changed(struct virtio_pci_dev *vdev);

/*
 * Handing a queue's data path to another process (a vhost-user backend).
 *
 * virtio_pci_queue_set_external(), once after init and before the event loop
 * runs: the transport stops reading q's kick eventfd, so the process given
 * virtio_pci_queue_kick_fd() sees every kick (the KVM ioeventfd, or the BAR
 * write fallback, signals it). ops->queue_notify is no longer called for q.
 *
 * virtio_pci_queue_call_fd() (vdev->lock held) is the fd that process
 * signals when it has used buffers: the queue's MSI-X vector eventfd when
 * MSI-X is on and the queue has a vector (the irqfd delivers it without the
 * VMM; a masked vector keeps it pending, see msix.h), else a transport
 * eventfd the event loop relays to INTx/ISR. It changes when the driver
 * changes the vector (ops->queue_vector_changed), or turns MSI-X on or off
 * (not reported: drivers do that before DRIVER_OK, when activate reads it).
 */
int virtio_pci_queue_set_external(struct virtio_pci_dev *vdev, unsigned q);
int virtio_pci_queue_kick_fd(struct virtio_pci_dev *vdev, unsigned q);
int virtio_pci_queue_call_fd(struct virtio_pci_dev *vdev, unsigned q);

/* Event-loop handler bodies, exposed for tests: a kick of queue q; the INTx sync. */
void virtio_pci_kick(struct virtio_pci_dev *vdev, unsigned q);
void virtio_pci_intx_sync(struct virtio_pci_dev *vdev);

#endif
