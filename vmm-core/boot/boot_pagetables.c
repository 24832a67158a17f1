/* SPDX-License-Identifier: MIT */
/*
 * Descriptor tables and page tables the VMM provides for protected and long
 * mode entries. The kernel replaces all of them early; they only have to be
 * valid until then.
 */
#include "boot_priv.h"
#include "util.h"

#include <string.h>

#define GDT_ENTRIES (BOOT_GDT_SIZE / 8)

#define PDPT_ADDR (BOOT_PML4_ADDR + 0x1000)
#define PD_ADDR	  (BOOT_PML4_ADDR + 0x2000)
#define PD_COUNT  4 /* 4 x 1 GiB */
#define PT_SIZE	  (0x2000 + PD_COUNT * 0x1000)

#define PTE_P  (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)

/* flags: the access byte in bits 0-7 and G/DB/L/AVL in bits 12-15. */
static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ffu) << 40) |
	       ((uint64_t)(limit & 0x000f0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (uint64_t)(limit & 0xffffu);
}

int boot_descriptors_write(struct guest_mem *gm, uint64_t gdt_addr, uint64_t idt_addr)
{
	uint8_t gdt[BOOT_GDT_SIZE];
	const uint64_t entries[GDT_ENTRIES] = {
	    0, gdt_entry(0xa09b, 0, 0xfffff), /* BOOT_SEL_CODE64: G, L, P, code r/x */
	    gdt_entry(0xc09b, 0, 0xfffff),    /* BOOT_SEL_CODE32: G, D, P, code r/x */
	    gdt_entry(0xc093, 0, 0xfffff),    /* BOOT_SEL_DATA: G, B, P, data r/w */
	};

	for (unsigned i = 0; i < GDT_ENTRIES; i++)
		boot_wr64(gdt + i * 8, entries[i]);
	if (guest_mem_write(gm, gdt_addr, gdt, sizeof(gdt)) < 0)
		return boot_err_nofit(gm, "GDT", gdt_addr, sizeof(gdt));
	uint8_t *idt = guest_mem_ptr(gm, idt_addr, BOOT_IDT_SIZE);
	if (!idt)
		return boot_err_nofit(gm, "IDT", idt_addr, BOOT_IDT_SIZE);
	memset(idt, 0, BOOT_IDT_SIZE);
	return 0;
}

int boot_tables_write(struct guest_mem *gm, bool long_mode)
{
	uint8_t *pt;
	int ret = boot_descriptors_write(gm, BOOT_GDT_ADDR, BOOT_IDT_ADDR);

	if (ret < 0 || !long_mode)
		return ret;

	pt = guest_mem_ptr(gm, BOOT_PML4_ADDR, PT_SIZE);
	if (!pt)
		return boot_err_nofit(gm, "page tables", BOOT_PML4_ADDR, PT_SIZE);
	memset(pt, 0, PT_SIZE);
	boot_wr64(pt, PDPT_ADDR | PTE_P | PTE_RW);
	for (unsigned i = 0; i < PD_COUNT; i++) {
		uint8_t *pd = pt + (PD_ADDR - BOOT_PML4_ADDR) + i * 0x1000;

		boot_wr64(pt + 0x1000 + i * 8, (PD_ADDR + i * 0x1000) | PTE_P | PTE_RW);
		for (unsigned j = 0; j < 512; j++)
			boot_wr64(pd + j * 8,
				  (((uint64_t)i * 512 + j) << 21) | PTE_P | PTE_RW | PTE_PS);
	}
	return 0;
}
