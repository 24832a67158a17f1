/* SPDX-License-Identifier: MIT */
#include "vdrv_pci.h"
#include "guest_lib.h"
#include "guest_mmio.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA	   0xcfc
#define PCI_CAP_WALK_MAX   48 /* (256 - 64) / 4 capabilities at most */

static void pci_cf8_select(unsigned slot, unsigned off)
{
	outl(PCI_CONFIG_ADDRESS, 0x80000000u | (slot & 31) << 11 | (off & 0xfc));
}

uint32_t pci_cf8_read32(unsigned slot, unsigned off)
{
	pci_cf8_select(slot, off);
	return inl(PCI_CONFIG_DATA);
}

uint16_t pci_cf8_read16(unsigned slot, unsigned off)
{
	pci_cf8_select(slot, off);
	return inw((uint16_t)(PCI_CONFIG_DATA + (off & 2)));
}

uint8_t pci_cf8_read8(unsigned slot, unsigned off)
{
	pci_cf8_select(slot, off);
	return inb((uint16_t)(PCI_CONFIG_DATA + (off & 3)));
}

void pci_cf8_write16(unsigned slot, unsigned off, uint16_t v)
{
	pci_cf8_select(slot, off);
	outw((uint16_t)(PCI_CONFIG_DATA + (off & 2)), v);
}

uint32_t pci_ecam_read32(unsigned slot, unsigned off)
{
	return mmio_read32(PCI_ECAM_BASE + ((slot & 31) << 15) + (off & 0xffc));
}

uint8_t pci_find_cap(unsigned slot, uint8_t id, uint8_t from)
{
	uint8_t off;

	if (from)
		off = pci_cf8_read8(slot, from + 1u);
	else if (pci_cf8_read16(slot, PCI_STATUS) & PCI_STATUS_CAPS)
		off = pci_cf8_read8(slot, PCI_CAP_PTR);
	else
		return PCI_NO_CAP;
	for (unsigned n = 0; n < PCI_CAP_WALK_MAX && off >= 0x40; n++) {
		off &= 0xfc;
		if (pci_cf8_read8(slot, off) == id)
			return off;
		off = pci_cf8_read8(slot, off + 1u);
	}
	return PCI_NO_CAP;
}

bool pci_bar_addr(unsigned slot, unsigned n, uint64_t *addr)
{
	uint32_t lo;

	if (n > 5)
		return false;
	lo = pci_cf8_read32(slot, PCI_BAR0 + 4 * n);
	if (lo & 1)
		return false; /* I/O BAR */
	*addr = lo & ~0xfULL;
	if ((lo & 6) == 4) { /* 64-bit */
		if (n == 5)
			return false;
		*addr |= (uint64_t)pci_cf8_read32(slot, PCI_BAR0 + 4 * (n + 1)) << 32;
	}
	return true;
}
