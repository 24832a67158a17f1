/* SPDX-License-Identifier: MIT */
/*
 * PCI: one root bus (bus 0, 32 single-function slots) behind a host bridge
 * at 0:0.0, reached through configuration mechanism #1 (0xCF8 address,
 * 0xCFC-0xCFF data) and ECAM (memory-mapped, 4 KiB per function).
 *
 * A device is a struct pci_device (config space, BARs, interrupt state)
 * embedded in the device model, with one ops struct per device class. The
 * default config handling covers the standard header, so a device overrides
 * only what it needs and calls pci_device_config_{read,write}_default for
 * the rest.
 *
 * BARs: the root allocates each BAR an address from its windows when the
 * device is added and programs the BAR register (the guest may move it).
 * A BAR is decoded while COMMAND.IO/MEM is set and its address lies inside
 * the matching window, as a real host bridge forwards only its windows. The
 * root registers each window once on the pio/mmio bus and dispatches to the
 * decoded BARs itself: BARs move on config writes, which arrive from inside
 * a bus handler, where the bus cannot be re-registered. On every change the
 * device gets bar_unmapped/bar_mapped (where VFIO can put a BAR into a KVM
 * memslot, which then takes precedence over the MMIO exit path).
 *
 * Locking: each device has a mutex held around its config ops; the root's
 * BAR map is an rwlock (read for BAR accesses, write when a BAR moves),
 * always taken after a device mutex, never before.
 */
#ifndef SLUICE_PCI_H
#define SLUICE_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "irq.h"
#include "pci_bar_alloc.h"
#include "pci_config.h"

#define PCI_NR_SLOTS	   32
#define PCI_NR_BARS	   6
#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA	   0xcfc
#define PCI_ECAM_SIZE	   (1ULL << 20) /* bus 0 only */
#define PCI_INTX_GSI_BASE  16		/* IOAPIC pins 16..23 */
#define PCI_INTX_NR_GSIS   8

#define PCI_HOST_VENDOR_ID 0x1b36 /* Red Hat, Inc. (QEMU's PCIe host bridge ID) */
#define PCI_HOST_DEVICE_ID 0x0008

/* Class codes (base class, subclass, programming interface) of sluice's devices. */
#define PCI_CLASS_STORAGE_SCSI	   0x010000
#define PCI_CLASS_NETWORK_ETHERNET 0x020000
#define PCI_CLASS_BRIDGE_HOST	   0x060000
#define PCI_CLASS_COMM_OTHER	   0x078000
#define PCI_CLASS_OTHERS	   0xff0000

struct pci_device;
struct pci_root;
struct msix;

/* Called with the device's mutex held. */
struct pci_device_ops {
	/* NULL: the default. Return 0 or a negative errno (the access is dropped). */
	int (*config_read)(struct pci_device *dev, uint32_t off, void *data, uint32_t len);
	int (*config_write)(struct pci_device *dev, uint32_t off, const void *data, uint32_t len);
	/* The BAR is now decoded at addr / no longer decoded. Optional. */
	void (*bar_mapped)(struct pci_device *dev, unsigned bar, uint64_t addr, uint64_t size);
	void (*bar_unmapped)(struct pci_device *dev, unsigned bar, uint64_t addr, uint64_t size);
};

struct pci_bar {
	enum pci_bar_type type;
	bool prefetch;
	uint64_t size;
	/* Guest accesses at offsets into the BAR; NULL: reads all-ones. */
	const struct bus_dev_ops *ops;
	void *opaque;
	bool mapped; /* decoded at addr (written under the root's map lock) */
	uint64_t addr;
};

struct pci_device {
	const struct pci_device_ops *ops;
	const char *name;
	struct pci_root *root; /* NULL until added */
	int slot;
	pthread_mutex_t lock;
	struct pci_config cfg;
	struct pci_bar bars[PCI_NR_BARS];
	struct msix *msix; /* set by msix_init: told about message-control writes */
	uint32_t intx_gsi;
	bool intx_level;
};

struct pci_root_config {
	uint64_t ecam_base; /* PCI_ECAM_SIZE bytes, bus 0 */
	uint64_t io_base, io_size;
	uint64_t mem32_base, mem32_size;
	uint64_t mem64_base, mem64_size; /* size 0: no 64-bit window */
};

struct pci_root_window {
	struct pci_root *root;
	enum pci_window_kind kind;
};

struct pci_root {
	struct pci_root_config cfg;
	struct irq_sink *irq;
	pthread_mutex_t lock; /* cf8 and the slot table */
	uint32_t cf8;
	struct pci_device *slots[PCI_NR_SLOTS];
	pthread_rwlock_t map_lock;
	struct pci_bar_allocator alloc;
	struct pci_root_window win[PCI_NR_WINDOWS];
	struct pci_device host_bridge;
	struct bus *pio, *mmio; /* set by pci_root_attach */
};

/*
 * Device lifecycle. class_code is the 24-bit class/subclass/prog-if. BARs
 * and capabilities are set up after init and before pci_root_add_device.
 */
int pci_device_init(struct pci_device *dev, const struct pci_device_ops *ops, const char *name,
		    uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision);
void pci_device_destroy(struct pci_device *dev);
/*
 * Describe BAR n: size a power of two (I/O 4..256 bytes, memory >= 16; a
 * 64-bit BAR also takes n + 1). ops/opaque serve the guest's accesses.
 */
int pci_device_set_bar(struct pci_device *dev, unsigned n, enum pci_bar_type type, bool prefetch,
		       uint64_t size, const struct bus_dev_ops *ops, void *opaque);
/* Append a capability to the config space list; returns its offset. */
int pci_add_capability(struct pci_device *dev, uint8_t id, uint32_t len);
/* INTA#: raise/lower the device's GSI (unless COMMAND.INTX_DISABLE). */
int pci_device_set_intx(struct pci_device *dev, int level);

/* The standard header semantics; callable from a device's own config ops. */
int pci_device_config_read_default(struct pci_device *dev, uint32_t off, void *data, uint32_t len);
int pci_device_config_write_default(struct pci_device *dev, uint32_t off, const void *data,
				    uint32_t len);

/* The GSI (IOAPIC pin) that INTA#..INTD# (pin 0..3) of a slot drives; the ACPI _PRT agrees. */
uint32_t pci_intx_gsi(unsigned slot, unsigned pin);

/* Host bridge at 0:0.0 plus the windows; nothing registered yet. */
int pci_root_init(struct pci_root *root, const struct pci_root_config *cfg, struct irq_sink *irq);
void pci_root_destroy(struct pci_root *root);
/* Register 0xCF8, 0xCFC, ECAM and the BAR windows on the buses. */
int pci_root_attach(struct pci_root *root, struct bus *pio, struct bus *mmio);
/*
 * Put dev in the first free slot, allocate and program its BARs, and wire
 * INTA# (if its interrupt pin is set) to a GSI in 16..23. Returns the slot.
 */
int pci_root_add_device(struct pci_root *root, struct pci_device *dev);

/*
 * A configuration access to bus:slot.fn, register off, as the guest makes
 * it: len 1, 2 or 4 without crossing a dword. Reads of nothing (no device,
 * bus != 0, fn != 0, bad access) return all-ones.
 */
void pci_root_config_read(struct pci_root *root, unsigned bus, unsigned slot, unsigned fn,
			  uint32_t off, void *data, uint32_t len);
void pci_root_config_write(struct pci_root *root, unsigned bus, unsigned slot, unsigned fn,
			   uint32_t off, const void *data, uint32_t len);

#endif
