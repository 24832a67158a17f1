/* SPDX-License-Identifier: MIT */
#include "pgwalk.h"
#include "log.h"
#include "util.h"

#include <endian.h>
#include <errno.h>

#define PTE_P  (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_PS (1ULL << 7)
#define PTE_XD (1ULL << 63)

/* Bits 51:12: MAXPHYADDR 52, so bits 63:52 (XD, protection keys) drop out. */
#define PHYS_MASK_4K 0x000ffffffffff000ULL

#define PAGE_4K 0x1000ULL
#define PAGE_4M 0x400000ULL
#define PAGE_2M 0x200000ULL
#define PAGE_1G 0x40000000ULL

/* Indexed by level: 1 is the page table, 5 the PML5. */
static const char *const level_name[] = {"", "PTE", "PDE", "PDPTE", "PML4E", "PML5E"};

static void result_init(struct pgwalk_result *r)
{
	*r = (struct pgwalk_result){.writable = true, .user = true};
}

static int entry_read(const struct guest_mem *gm, uint64_t table, uint64_t index, unsigned size,
		      unsigned level, uint64_t gva, uint64_t *entry)
{
	uint64_t gpa = table + index * size;

	if (size == 4) {
		uint32_t e;
		if (guest_mem_read(gm, gpa, &e, sizeof(e)) < 0)
			goto outside;
		*entry = le32toh(e);
	} else {
		uint64_t e;
		if (guest_mem_read(gm, gpa, &e, sizeof(e)) < 0)
			goto outside;
		*entry = le64toh(e);
	}
	if (!(*entry & PTE_P)) {
		log_debug("pgwalk: gva 0x%llx not present at level %u (%s at gpa 0x%llx = 0x%llx)",
			  (unsigned long long)gva, level, level_name[level],
			  (unsigned long long)gpa, (unsigned long long)*entry);
		return -EFAULT;
	}
	return 0;
outside:
	log_debug(
	    "pgwalk: gva 0x%llx: level %u table entry (%s) at gpa 0x%llx is outside guest RAM",
	    (unsigned long long)gva, level, level_name[level], (unsigned long long)gpa);
	return -EFAULT;
}

static void accumulate(struct pgwalk_result *r, uint64_t entry, bool nxe)
{
	r->writable = r->writable && (entry & PTE_RW);
	r->user = r->user && (entry & PTE_US);
	r->nx = r->nx || (nxe && (entry & PTE_XD));
}

static int walk_32bit(const struct guest_mem *gm, const struct pgwalk_cpu *cpu, uint64_t gva,
		      struct pgwalk_result *r)
{
	uint64_t table = cpu->cr3 & 0xfffff000ULL;
	uint64_t pde, pte;
	int ret;

	ret = entry_read(gm, table, (gva >> 22) & 0x3ff, 4, 2, gva, &pde);
	if (ret)
		return ret;
	r->levels = 1;
	accumulate(r, pde, false);
	if ((pde & PTE_PS) && (cpu->cr4 & PGWALK_CR4_PSE)) {
		/* PSE-36: PDE bits 20:13 are physical address bits 39:32. */
		r->gpa =
		    (pde & 0xffc00000ULL) | ((pde & 0x1fe000ULL) << 19) | (gva & (PAGE_4M - 1));
		r->page_size = PAGE_4M;
		return 0;
	}
	ret = entry_read(gm, pde & 0xfffff000ULL, (gva >> 12) & 0x3ff, 4, 1, gva, &pte);
	if (ret)
		return ret;
	r->levels = 2;
	accumulate(r, pte, false);
	r->gpa = (pte & 0xfffff000ULL) | (gva & (PAGE_4K - 1));
	r->page_size = PAGE_4K;
	return 0;
}

/*
 * PAE and long mode share the 8-byte entry format. PAE's top level is the
 * 4-entry PDPT, whose entries carry no access rights.
 */
static int walk_64bit(const struct guest_mem *gm, const struct pgwalk_cpu *cpu, uint64_t gva,
		      unsigned top, bool pae, struct pgwalk_result *r)
{
	bool nxe = cpu->efer & PGWALK_EFER_NXE;
	uint64_t table = pae ? cpu->cr3 & 0xffffffe0ULL : cpu->cr3 & PHYS_MASK_4K;

	for (unsigned level = top; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t index = (gva >> shift) & (pae && level == top ? 0x3 : 0x1ff);
		uint64_t page = 1ULL << shift;
		uint64_t entry;
		int ret;

		ret = entry_read(gm, table, index, 8, level, gva, &entry);
		if (ret)
			return ret;
		r->levels++;
		if (!(pae && level == top))
			accumulate(r, entry, nxe);
		/* PS means a page only in a PDE, or a long-mode PDPTE (1 GiB). */
		if (level == 1 || ((entry & PTE_PS) && (level == 2 || (level == 3 && !pae)))) {
			r->gpa = (entry & PHYS_MASK_4K & ~(page - 1)) | (gva & (page - 1));
			r->page_size = page;
			return 0;
		}
		table = entry & PHYS_MASK_4K;
	}
	return -EFAULT; /* not reached: level 1 always returns */
}

static bool canonical(uint64_t gva, unsigned va_bits)
{
	int64_t s = (int64_t)(gva << (64 - va_bits)) >> (64 - va_bits);
	return (uint64_t)s == gva;
}

int pgwalk_translate(const struct guest_mem *gm, const struct pgwalk_cpu *cpu, uint64_t gva,
		     struct pgwalk_result *out)
{
	struct pgwalk_result r;
	bool long_mode = cpu->efer & PGWALK_EFER_LMA;
	int ret;

	result_init(&r);
	if (long_mode) {
		bool la57 = cpu->cr4 & PGWALK_CR4_LA57;

		if (!(cpu->cr0 & PGWALK_CR0_PG) || !(cpu->cr4 & PGWALK_CR4_PAE)) {
			log_debug("pgwalk: EFER.LMA set without CR0.PG and CR4.PAE (cr0 0x%llx cr4 "
				  "0x%llx)",
				  (unsigned long long)cpu->cr0, (unsigned long long)cpu->cr4);
			return -EINVAL;
		}
		if (!canonical(gva, la57 ? 57 : 48)) {
			log_debug("pgwalk: gva 0x%llx is not canonical for %u-level paging",
				  (unsigned long long)gva, la57 ? 5 : 4);
			return -EINVAL;
		}
		ret = walk_64bit(gm, cpu, gva, la57 ? 5 : 4, false, &r);
	} else {
		if (gva > UINT32_MAX) {
			log_debug("pgwalk: gva 0x%llx is above 4 GiB outside long mode",
				  (unsigned long long)gva);
			return -EINVAL;
		}
		if (!(cpu->cr0 & PGWALK_CR0_PG)) {
			r.gpa = gva;
			r.page_size = PAGE_4K;
			ret = 0;
		} else if (cpu->cr4 & PGWALK_CR4_PAE) {
			ret = walk_64bit(gm, cpu, gva, 3, true, &r);
		} else {
			ret = walk_32bit(gm, cpu, gva, &r);
		}
	}
	if (ret)
		return ret;
	*out = r;
	return 0;
}

int pgwalk_read(const struct guest_mem *gm, const struct pgwalk_cpu *cpu, uint64_t gva, void *buf,
		size_t len)
{
	uint8_t *dst = buf;
	uint64_t end;

	if (len && add_overflows_u64(gva, len - 1, &end)) {
		log_debug("pgwalk: read of 0x%zx bytes at gva 0x%llx wraps", len,
			  (unsigned long long)gva);
		return -EINVAL;
	}
	while (len) {
		struct pgwalk_result r;
		uint64_t chunk;
		int ret;

		ret = pgwalk_translate(gm, cpu, gva, &r);
		if (ret)
			return ret;
		chunk = r.page_size - (gva & (r.page_size - 1));
		if (chunk > len)
			chunk = len;
		ret = guest_mem_read(gm, r.gpa, dst, chunk);
		if (ret) {
			log_debug("pgwalk: gva 0x%llx maps to gpa 0x%llx, which is not guest RAM",
				  (unsigned long long)gva, (unsigned long long)r.gpa);
			return ret;
		}
		dst += chunk;
		gva += chunk;
		len -= chunk;
	}
	return 0;
}
