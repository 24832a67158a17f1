/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration space as the guest sees it: 4 KiB of bytes (the first
 * 256 reachable through 0xCF8/0xCFC, all of it through ECAM) plus, per byte,
 * a mask of the bits the guest may write and a mask of the bits it clears by
 * writing 1 (the status register's error bits). Read-only bits are those in
 * neither mask, so a size probe of a BAR (write all-ones, read back) falls
 * out of the BAR's writable mask alone.
 *
 * Not locked: the owning pci_device serialises access.
 */
#ifndef SLUICE_PCI_CONFIG_H
#define SLUICE_PCI_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_CONFIG_SIZE	     256
#define PCI_CONFIG_EXT_SIZE  4096
#define PCI_CONFIG_CAP_START 0x40 /* capabilities live in [0x40, 0x100) */

/* Standard type-0 header (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a
#define PCI_CACHE_LINE_SIZE	0x0c
#define PCI_LATENCY_TIMER	0x0d
#define PCI_HEADER_TYPE		0x0e
#define PCI_BASE_ADDRESS_0	0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_ROM_ADDRESS		0x30
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_COMMAND_IO		 0x0001
#define PCI_COMMAND_MEMORY	 0x0002
#define PCI_COMMAND_MASTER	 0x0004
#define PCI_COMMAND_PARITY	 0x0040
#define PCI_COMMAND_SERR	 0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST  0x0010
/* Error bits the guest clears by writing 1. */
#define PCI_STATUS_W1C_MASK 0xf900

#define PCI_BAR_SPACE_IO     0x01
#define PCI_BAR_MEM_TYPE_64  0x04
#define PCI_BAR_MEM_PREFETCH 0x08

#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09

struct pci_config {
	uint8_t data[PCI_CONFIG_EXT_SIZE];
	uint8_t wmask[PCI_CONFIG_EXT_SIZE];
	uint8_t w1c[PCI_CONFIG_EXT_SIZE];
	uint8_t last_cap; /* 0: no capability yet */
	uint8_t cap_end;  /* first free byte for the next capability */
};

/* Zero everything; the header's writable bits are set by the caller. */
void pci_config_init(struct pci_config *cfg);

/* Host-side accessors (no masks). off + size must be <= 4096. */
uint8_t pci_config_get8(const struct pci_config *cfg, uint32_t off);
uint16_t pci_config_get16(const struct pci_config *cfg, uint32_t off);
uint32_t pci_config_get32(const struct pci_config *cfg, uint32_t off);
void pci_config_set8(struct pci_config *cfg, uint32_t off, uint8_t v);
void pci_config_set16(struct pci_config *cfg, uint32_t off, uint16_t v);
void pci_config_set32(struct pci_config *cfg, uint32_t off, uint32_t v);
/* Which bits of [off, off+size) the guest may write / clear with 1s. */
void pci_config_set_wmask(struct pci_config *cfg, uint32_t off, uint32_t mask, unsigned size);
void pci_config_set_w1c(struct pci_config *cfg, uint32_t off, uint32_t mask, unsigned size);

/*
 * Guest accesses of len 1, 2 or 4 inside the space; a write goes through
 * the masks. -EINVAL (nothing done) for a bad offset or length.
 */
int pci_config_read(const struct pci_config *cfg, uint32_t off, void *data, uint32_t len);
int pci_config_write(struct pci_config *cfg, uint32_t off, const void *data, uint32_t len);

/*
 * Append a capability of len bytes (>= 2: ID and next pointer, which stay
 * read-only) to the list in the first 256 bytes, dword-aligned, and set
 * STATUS.CAP_LIST. Returns its offset, or -ENOSPC / -EINVAL.
 */
int pci_config_add_capability(struct pci_config *cfg, uint8_t id, uint32_t len);

#endif
