/* SPDX-License-Identifier: MIT */
/*
 * Boot data every protocol needs (memory map, command line, initrd
 * placement) and the tail the loaders with fixed boot data share.
 */
#include "boot_priv.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <string.h>

#define PAGE 4096ULL

unsigned boot_memmap_build(const struct guest_mem *gm, struct boot_memmap_entry *map)
{
	uint64_t low = guest_mem_low_end(gm);
	unsigned n = 0;

	map[n++] = (struct boot_memmap_entry){
	    .addr = 0, .size = low < BOOT_EBDA_START ? low : BOOT_EBDA_START, .type = BOOT_MEM_RAM};
	/* EBDA, VGA hole, option ROMs, BIOS area and the ACPI tables. */
	if (low > BOOT_EBDA_START)
		map[n++] = (struct boot_memmap_entry){.addr = BOOT_EBDA_START,
						      .size = BOOT_HIGH_START - BOOT_EBDA_START,
						      .type = BOOT_MEM_RESERVED};
	if (low > BOOT_HIGH_START)
		map[n++] = (struct boot_memmap_entry){
		    .addr = BOOT_HIGH_START, .size = low - BOOT_HIGH_START, .type = BOOT_MEM_RAM};
	for (unsigned i = 1; i < gm->nr_regions && n < BOOT_MEMMAP_MAX; i++)
		map[n++] = (struct boot_memmap_entry){
		    .addr = gm->regions[i].gpa, .size = gm->regions[i].size, .type = BOOT_MEM_RAM};
	return n;
}

int boot_err_nofit(const struct guest_mem *gm, const char *what, uint64_t addr, uint64_t len)
{
	log_err("kernel does not fit in %llu MiB of RAM (%s needs 0x%llx bytes at 0x%llx)",
		(unsigned long long)(gm->size / MiB), what, (unsigned long long)len,
		(unsigned long long)addr);
	return -ENOMEM;
}

int boot_cmdline_write(struct guest_mem *gm, const char *cmdline, uint64_t max_len)
{
	size_t len;

	if (max_len > BOOT_CMDLINE_MAX - 1)
		max_len = BOOT_CMDLINE_MAX - 1;
	if (!cmdline)
		cmdline = "";
	len = strnlen(cmdline, BOOT_CMDLINE_MAX);
	if (len > max_len) {
		log_err("kernel command line is %s%zu bytes; this kernel accepts at most %llu",
			len == BOOT_CMDLINE_MAX ? "at least " : "", len,
			(unsigned long long)max_len);
		return -E2BIG;
	}
	if (guest_mem_write(gm, BOOT_CMDLINE_ADDR, cmdline, len) < 0 ||
	    guest_mem_write(gm, BOOT_CMDLINE_ADDR + len, "", 1) < 0)
		return boot_err_nofit(gm, "command line", BOOT_CMDLINE_ADDR, len + 1);
	return 0;
}

int boot_initrd_place(struct guest_mem *gm, const struct boot_input *in, uint64_t kernel_lo,
		      uint64_t kernel_hi, uint64_t limit, uint64_t *addr)
{
	uint64_t size = in->initrd_size;
	uint64_t end = guest_mem_low_end(gm);
	uint64_t cand;

	*addr = 0;
	if (!in->initrd || size == 0)
		return 0;
	if (end && limit < end - 1)
		end = limit + 1;
	if (size > end)
		goto nofit;
	cand = ALIGN_DOWN(end - size, PAGE);
	if (cand < kernel_hi && cand + size > kernel_lo) {
		if (kernel_lo < size)
			goto nofit;
		cand = ALIGN_DOWN(kernel_lo - size, PAGE);
	}
	if (cand < BOOT_HIGH_START)
		goto nofit;
	if (guest_mem_write(gm, cand, in->initrd, size) < 0)
		goto nofit;
	*addr = cand;
	return 0;
nofit:
	log_err("initrd of %llu bytes does not fit in guest RAM below 0x%llx next to the kernel at "
		"0x%llx-0x%llx",
		(unsigned long long)size, (unsigned long long)end, (unsigned long long)kernel_lo,
		(unsigned long long)kernel_hi);
	return -ENOMEM;
}

void boot_entry_set(struct boot_entry *entry, enum boot_cpu_mode mode, uint64_t rip, uint64_t rsp,
		    uint64_t info, uint64_t gdt_addr)
{
	entry->mode = mode;
	entry->rip = rip;
	entry->rsp = rsp;
	if (mode == BOOT_MODE_LONG64)
		entry->rsi = info;
	else
		entry->rbx = info;
	entry->cr3 = mode == BOOT_MODE_LONG64 ? BOOT_PML4_ADDR : 0;
	entry->gdt_base = gdt_addr;
	entry->gdt_limit = BOOT_GDT_SIZE - 1;
	entry->idt_base = gdt_addr + BOOT_GDT_SIZE;
	entry->idt_limit = BOOT_IDT_SIZE - 1;
}

int boot_finish(struct guest_mem *gm, const struct boot_input *in, const struct boot_tail *t,
		struct boot_entry *entry)
{
	bool long_mode = t->mode == BOOT_MODE_LONG64;
	uint64_t initrd = 0;
	int ret;

	if (long_mode) {
		ret = boot_zero_page_build(gm, in, &t->p);
	} else {
		ret = boot_cmdline_write(gm, in->cmdline, t->p.cmdline_max);
		if (!ret)
			ret = boot_initrd_place(gm, in, t->p.kernel_lo, t->p.kernel_hi,
						t->p.initrd_max, &initrd);
		if (!ret)
			ret = t->info_write(gm, in, initrd);
	}
	if (!ret)
		ret = boot_tables_write(gm, long_mode);
	if (ret < 0)
		return ret;
	boot_entry_set(entry, t->mode, t->rip, BOOT_STACK_TOP,
		       long_mode ? BOOT_ZERO_PAGE : BOOT_INFO_ADDR, BOOT_GDT_ADDR);
	return 0;
}
