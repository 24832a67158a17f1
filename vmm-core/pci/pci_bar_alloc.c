/* SPDX-License-Identifier: MIT */
#include "pci_bar_alloc.h"
#include "log.h"

#include <errno.h>
#include <string.h>

static const char *const window_name[PCI_NR_WINDOWS] = {"I/O", "32-bit MMIO", "64-bit MMIO"};

int pci_bar_allocator_init(struct pci_bar_allocator *a, uint64_t io_base, uint64_t io_size,
			   uint64_t mem32_base, uint64_t mem32_size, uint64_t mem64_base,
			   uint64_t mem64_size)
{
	const uint64_t base[] = {io_base, mem32_base, mem64_base};
	const uint64_t size[] = {io_size, mem32_size, mem64_size};

	memset(a, 0, sizeof(*a));
	for (unsigned i = 0; i < PCI_NR_WINDOWS; i++) {
		uint64_t align = i == PCI_WINDOW_IO ? 4 : 4096;

		if (size[i] && (base[i] + size[i] < base[i] || base[i] % align ||
				(i == PCI_WINDOW_IO && base[i] + size[i] > 0x10000) ||
				(i == PCI_WINDOW_MEM32 && base[i] + size[i] > 0x100000000ULL))) {
			log_err("pci: bad %s window 0x%llx+0x%llx", window_name[i],
				(unsigned long long)base[i], (unsigned long long)size[i]);
			return -EINVAL;
		}
		a->win[i].base = base[i];
		a->win[i].size = size[i];
		a->win[i].next = base[i];
	}
	return 0;
}

int pci_bar_alloc(struct pci_bar_allocator *a, enum pci_window_kind kind, uint64_t size,
		  uint64_t *addr)
{
	struct pci_window *w;
	uint64_t start;

	if ((unsigned)kind >= PCI_NR_WINDOWS || size == 0 || (size & (size - 1)) ||
	    size < (kind == PCI_WINDOW_IO ? 4 : 16) || (kind == PCI_WINDOW_IO && size > 256)) {
		log_err("pci: cannot allocate a BAR of 0x%llx bytes", (unsigned long long)size);
		return -EINVAL;
	}
	w = &a->win[kind];
	start = (w->next + size - 1) & ~(size - 1);
	if (w->size == 0 || start < w->next || !pci_window_contains(w, start, size)) {
		log_err("pci: the %s window has no room for a BAR of 0x%llx bytes",
			window_name[kind], (unsigned long long)size);
		return -ENOSPC;
	}
	w->next = start + size;
	*addr = start;
	return 0;
}

bool pci_window_contains(const struct pci_window *w, uint64_t addr, uint64_t size)
{
	return w->size && size && addr >= w->base && size <= w->size &&
	       addr - w->base <= w->size - size;
}
