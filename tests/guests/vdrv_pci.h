/* SPDX-License-Identifier: MIT */
/*
 * PCI for the virtio driver test guest: configuration mechanism #1
 * (0xCF8/0xCFC) and ECAM reads, capability walk, BAR decoding. Bus 0,
 * function 0 only (sluice has one root bus of single-function slots).
 */
#ifndef SLUICE_VDRV_PCI_H
#define SLUICE_VDRV_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_ECAM_BASE 0xe0000000ULL /* sluice's MCFG; the test does not parse ACPI */
#define PCI_ECAM_SIZE 0x100000ULL   /* bus 0 */

#define PCI_VENDOR_ID	0x00
#define PCI_COMMAND	0x04
#define PCI_STATUS	0x06
#define PCI_BAR0	0x10
#define PCI_CAP_PTR	0x34
#define PCI_CMD_MEM	0x0002
#define PCI_CMD_MASTER	0x0004
#define PCI_STATUS_CAPS 0x0010
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11
#define PCI_NO_CAP	0

uint32_t pci_cf8_read32(unsigned slot, unsigned off);
uint16_t pci_cf8_read16(unsigned slot, unsigned off);
uint8_t pci_cf8_read8(unsigned slot, unsigned off);
void pci_cf8_write16(unsigned slot, unsigned off, uint16_t v);
/* Needs guest_map_uc(PCI_ECAM_BASE, PCI_ECAM_SIZE) first. */
uint32_t pci_ecam_read32(unsigned slot, unsigned off);

/*
 * The next capability with ID id after the one at offset from (0: from the
 * start of the list); PCI_NO_CAP when there is none. The walk is bounded,
 * so a looping list ends.
 */
uint8_t pci_find_cap(unsigned slot, uint8_t id, uint8_t from);
/* Memory BAR n's address (64-bit BARs: n and n + 1); false if it is not a memory BAR. */
bool pci_bar_addr(unsigned slot, unsigned n, uint64_t *addr);

#endif
