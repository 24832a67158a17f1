/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM, in one host mapping (its host addresses never move for the VM's
 * lifetime, so KVM memslots point into it and VFIO can pin it for DMA by
 * virtual address, whatever backs it). Three backings:
 *
 *   private anonymous memory (the default): no fd. The host's transparent
 *     huge pages apply as to any process (Debian's default enabled=always,
 *     or madvise: guest RAM is MADV_HUGEPAGE), so KVM maps guest RAM with
 *     2 MiB pages on a default host.
 *   a memfd (GUEST_MEM_SHARED): for whatever must map guest RAM from another
 *     process, such as a vhost-user backend (fd + offset in SET_MEM_TABLE).
 *     shmem gets transparent huge pages only where the host allows them
 *     (/sys/kernel/mm/transparent_hugepage/shmem_enabled; Debian: never).
 *   a hugetlbfs memfd (GUEST_MEM_HUGETLB, shared too): 2 MiB pages reserved
 *     at init.
 *
 * The mapping starts on a 2 MiB boundary: a huge page (THP or KVM's 2 MiB
 * stage-2 mapping) needs the host address aligned like the guest address.
 * Private memory is MADV_DONTFORK: a child process (sluice forks none
 * today) would otherwise share it copy-on-write, and every later guest
 * write would copy a page under KVM.
 *
 * Layout (x86): RAM starts at GPA 0 and runs up to the 32-bit PCI hole at
 * GUEST_MEM_HOLE_START; whatever does not fit below the hole continues at
 * 4 GiB. So there are one or two regions, both in the one mapping.
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
	uint64_t fd_offset; /* offset of gpa in the memfd (in the mapping without one) */
};

/* guest_mem_init flags. */
#define GUEST_MEM_HUGETLB (1U << 0) /* hugetlbfs memfd (implies GUEST_MEM_SHARED) */
#define GUEST_MEM_SHARED  (1U << 1) /* a memfd other processes can map */

enum guest_mem_backing {
	GUEST_MEM_ANON,	    /* private anonymous, no fd */
	GUEST_MEM_MEMFD,    /* shmem memfd */
	GUEST_MEM_HUGETLBFS /* MFD_HUGETLB memfd */
};

struct guest_mem {
	int fd;		    /* memfd, or -1 for private anonymous memory */
	uint8_t *base;	    /* host mapping of all of guest RAM, 2 MiB aligned */
	uint64_t size;	    /* total RAM bytes */
	uint64_t page_size; /* 4 KiB, or the huge page size */
	bool hugepages;
	enum guest_mem_backing backing;
	unsigned nr_regions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
};

/*
 * Create guest RAM of `size` bytes (a multiple of 4 KiB; of the huge page
 * size with GUEST_MEM_HUGETLB). flags: 0 for private anonymous memory,
 * GUEST_MEM_SHARED for a memfd, GUEST_MEM_HUGETLB for a hugetlbfs memfd,
 * which fails with a clear error if the host has too few free huge pages.
 * (A bool `hugepages` argument keeps its old meaning: true is
 * GUEST_MEM_HUGETLB.) On failure *gm is left empty (fd -1, no regions).
 */
int guest_mem_init(struct guest_mem *gm, uint64_t size, unsigned flags);
void guest_mem_destroy(struct guest_mem *gm);

/* Whether guest RAM has an fd another process can map (gm->fd). */
bool guest_mem_has_fd(const struct guest_mem *gm);
/* "anonymous", "memfd" or "hugetlbfs", for messages. */
const char *guest_mem_backing_name(const struct guest_mem *gm);

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
