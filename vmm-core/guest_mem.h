/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM. One memfd holds all of it, so the same pages can be handed to a
 * vhost-user backend (by fd + offset) and pinned by VFIO (stable host
 * addresses: the mapping never moves for the VM's lifetime).
 *
 * Layout (x86): RAM starts at GPA 0 and runs up to the 32-bit PCI hole at
 * GUEST_MEM_HOLE_START; whatever does not fit below the hole continues at
 * 4 GiB. So there are one or two regions, both backed by one contiguous host
 * mapping of the memfd.
 *
 * Every device access to guest memory (DMA, descriptor rings, boot data)
 * goes through guest_mem_ptr() or guest_mem_read/write(), which reject any
 * range that is not entirely inside one RAM region.
 */
#ifndef SLUICE_GUEST_MEM_H
#define SLUICE_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_HOLE_START  0xC0000000ULL  /* 3 GiB: PCI MMIO, LAPIC, IOAPIC, flash */
#define GUEST_MEM_HIGH_START  0x100000000ULL /* 4 GiB */
#define GUEST_MEM_MAX_REGIONS 2

struct guest_mem_region {
	uint64_t gpa;	    /* guest-physical start */
	uint64_t size;	    /* bytes */
	uint8_t *hva;	    /* host address of gpa */
	uint64_t fd_offset; /* offset of gpa in the memfd */
};

struct guest_mem {
	int fd;		    /* memfd (or hugetlbfs-backed memfd) */
	uint8_t *base;	    /* host mapping of the whole memfd */
	uint64_t size;	    /* total RAM bytes */
	uint64_t page_size; /* 4 KiB, or the huge page size */
	bool hugepages;
	unsigned nr_regions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
};

/*
 * Create guest RAM of `size` bytes (a multiple of 4 KiB; of the huge page
 * size with hugepages). With hugepages the memfd is MFD_HUGETLB and fails
 * with a clear error if the host has no free huge pages.
 */
int guest_mem_init(struct guest_mem *gm, uint64_t size, bool hugepages);
void guest_mem_destroy(struct guest_mem *gm);

/*
 * Host pointer for [gpa, gpa+len), or NULL if any byte of it is outside
 * guest RAM (including ranges that straddle the PCI hole, or that wrap).
 * len == 0 is treated as len == 1 for the bounds check.
 */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Checked copies; -EFAULT (and no partial copy) if the range is not RAM. */
int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *buf, uint64_t len);
int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *buf, uint64_t len);

/* Highest RAM address below the PCI hole, plus one (end of the low region). */
uint64_t guest_mem_low_end(const struct guest_mem *gm);

#endif
