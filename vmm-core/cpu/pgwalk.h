/* SPDX-License-Identifier: MIT */
/*
 * Guest page-table walker: GVA -> GPA from a vCPU's control registers, for
 * dumping a crashed guest (the bytes at RIP, the stack). It reads the
 * guest's own tables, so every entry is hostile: each one is fetched through
 * guest_mem_read() and a table outside guest RAM ends the walk.
 *
 * Modes, chosen from the registers the way the CPU chooses them:
 *   CR0.PG = 0                 identity (linear addresses are 32-bit)
 *   CR4.PAE = 0                32-bit paging, 4 KiB and (CR4.PSE) 4 MiB pages
 *   CR4.PAE = 1, EFER.LMA = 0  PAE, 3 levels, 4 KiB and 2 MiB pages
 *   EFER.LMA = 1               4 levels, or 5 with CR4.LA57; 4 KiB/2 MiB/1 GiB
 *
 * It translates, it does not check access rights: the rights the guest
 * would get are reported in the result. PAE PDPTEs are read from memory, not
 * from the CPU's PDPTE registers, which is what a dump wants anyway.
 * Physical addresses are taken with MAXPHYADDR = 52.
 */
#ifndef SLUICE_PGWALK_H
#define SLUICE_PGWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

#define PGWALK_CR0_PG	(1ULL << 31)
#define PGWALK_CR4_PSE	(1ULL << 4)
#define PGWALK_CR4_PAE	(1ULL << 5)
#define PGWALK_CR4_LA57 (1ULL << 12)
#define PGWALK_EFER_LMA (1ULL << 10)
#define PGWALK_EFER_NXE (1ULL << 11)

struct pgwalk_cpu {
	uint64_t cr0, cr3, cr4, efer;
};

struct pgwalk_result {
	uint64_t gpa;
	unsigned levels;    /* paging-structure entries read (0 with paging off) */
	uint64_t page_size; /* of the mapping found; 4 KiB with paging off */
	bool writable;	    /* AND of R/W over the walk */
	bool user;	    /* AND of U/S over the walk */
	bool nx;	    /* OR of XD over the walk (only with EFER.NXE) */
};

/*
 * Translate gva. Returns 0 and fills *out, or: -EINVAL for an address the
 * mode cannot produce (non-canonical, above 4 GiB outside long mode) or
 * inconsistent registers; -EFAULT for a not-present entry or a table outside
 * guest RAM. *out is written only on success. The resulting GPA itself is
 * not checked: it may be MMIO.
 */
int pgwalk_translate(const struct guest_mem *gm, const struct pgwalk_cpu *cpu, uint64_t gva,
		     struct pgwalk_result *out);

/*
 * Read len bytes of guest-virtual memory at gva, page by page (adjacent
 * pages may map anywhere). Returns 0, or the error of the first page that
 * does not translate (above) or is not RAM (-EFAULT); -EINVAL if gva + len
 * wraps. On error buf holds the bytes of the pages before the failing one.
 */
int pgwalk_read(const struct guest_mem *gm, const struct pgwalk_cpu *cpu, uint64_t gva, void *buf,
		size_t len);

#endif
