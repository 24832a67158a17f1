/* SPDX-License-Identifier: MIT */
#include "guest_mmio.h"

#define PTE_P	   (1ULL << 0)
#define PTE_RW	   (1ULL << 1)
#define PTE_PWT	   (1ULL << 3)
#define PTE_PCD	   (1ULL << 4)
#define PTE_PS	   (1ULL << 7)
#define PTE_ADDR   0x000ffffffffff000ULL
#define PAGE_2M	   0x200000ULL
#define POOL_PAGES 4

/* Table pages handed out by guest_map_uc (zero in .bss, identity-mapped). */
static struct {
	uint64_t page[POOL_PAGES][512] __attribute__((aligned(4096)));
	unsigned used;
} pool;

static uint64_t *table_next(uint64_t *entry)
{
	if (!(*entry & PTE_P)) {
		if (pool.used == POOL_PAGES)
			return 0;
		*entry = (uint64_t)pool.page[pool.used++] | PTE_P | PTE_RW;
	} else if (*entry & PTE_PS) {
		return 0; /* a huge page where a table should be */
	}
	return (uint64_t *)(*entry & PTE_ADDR);
}

bool guest_map_uc(uint64_t addr, uint64_t len)
{
	uint64_t cr3, a, end = addr + len;

	if (!len || end < addr || end > (1ULL << 47))
		return false;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	for (a = addr & ~(PAGE_2M - 1); a < end; a += PAGE_2M) {
		uint64_t *pml4 = (uint64_t *)(cr3 & PTE_ADDR), *pdpt, *pd;

		if (!(pdpt = table_next(&pml4[(a >> 39) & 511])) ||
		    !(pd = table_next(&pdpt[(a >> 30) & 511])))
			return false;
		pd[(a >> 21) & 511] = a | PTE_P | PTE_RW | PTE_PS | PTE_PWT | PTE_PCD;
	}
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
	return true;
}
