/* SPDX-License-Identifier: MIT */
/*
 * BAR address allocator: hands out naturally aligned ranges (a BAR of size
 * S sits at a multiple of S, as the BAR's read-only low bits require) from
 * the host bridge's windows: I/O ports, 32-bit MMIO below 4 GiB and 64-bit
 * MMIO above RAM. Allocation only moves forward (devices are never
 * unplugged yet); a request that does not fit fails with -ENOSPC.
 */
#ifndef SLUICE_PCI_BAR_H
#define SLUICE_PCI_BAR_H

#include <stdbool.h>
#include <stdint.h>

enum pci_bar_type {
	PCI_BAR_NONE = 0,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,
	PCI_BAR_UPPER, /* second half of a 64-bit BAR */
};

enum pci_window_kind { PCI_WINDOW_IO, PCI_WINDOW_MEM32, PCI_WINDOW_MEM64, PCI_NR_WINDOWS };

struct pci_window {
	uint64_t base, size; /* size 0: the window does not exist */
	uint64_t next;	     /* first unallocated address */
};

struct pci_bar_allocator {
	struct pci_window win[PCI_NR_WINDOWS];
};

/* -EINVAL if a window wraps or its base is not 4 KiB (I/O: 4-byte) aligned. */
int pci_bar_allocator_init(struct pci_bar_allocator *a, uint64_t io_base, uint64_t io_size,
			   uint64_t mem32_base, uint64_t mem32_size, uint64_t mem64_base,
			   uint64_t mem64_size);

/*
 * Allocate size bytes (a power of two; at least 4 for I/O, 16 for memory,
 * at most 256 for I/O) from the window that kind names. -EINVAL for a bad
 * size, -ENOSPC when the window is full.
 */
int pci_bar_alloc(struct pci_bar_allocator *a, enum pci_window_kind kind, uint64_t size,
		  uint64_t *addr);

/* True if [addr, addr+size) lies inside the window. */
bool pci_window_contains(const struct pci_window *w, uint64_t addr, uint64_t size);

#endif
