/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1: the kernel is loaded either by its a.out kludge addresses
 * (header flag 16) or as ELF, then entered in 32-bit protected mode with
 * eax = 0x2BADB002 and ebx = the multiboot information structure.
 */
#include "boot_priv.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <string.h>

#define MB_HDR_SIZE	  12
#define MB_AOUT_HDR_SIZE  32
#define MB_FLAG_ALIGN	  (1u << 0) /* page-align modules: we always do */
#define MB_FLAG_MEMINFO	  (1u << 1) /* mem_* fields: always provided */
#define MB_FLAG_AOUT	  (1u << 16)
#define MB_FLAGS_REQUIRED 0xffffu /* loader must fail on unknown bits here */
#define MB_MODSTR_ADDR	  (BOOT_MB_LOADER_ADDR + 0x20)
#define BELOW_4G	  0x100000000ULL

long boot_multiboot_find(const uint8_t *img, size_t size)
{
	size_t limit = size < BOOT_MB_SEARCH ? size : BOOT_MB_SEARCH;
	bool bad = false;

	for (size_t off = 0; off + MB_HDR_SIZE <= limit; off += 4) {
		uint32_t magic = boot_rd32(img + off);

		if (magic != BOOT_MB_MAGIC)
			continue;
		if ((uint32_t)(magic + boot_rd32(img + off + 4) + boot_rd32(img + off + 8)) == 0)
			return (long)off;
		bad = true;
	}
	return bad ? -EBADMSG : -ENOENT;
}

static int aout_load(struct guest_mem *gm, const struct boot_input *in, size_t off, uint64_t *lo,
		     uint64_t *hi, uint64_t *rip)
{
	const uint8_t *h = in->kernel + off;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
	uint64_t file_start, avail, load_len, load_end, bss_end;
	uint8_t *dst;

	if (off + MB_AOUT_HDR_SIZE > in->kernel_size) {
		log_err("multiboot: a.out header runs past the end of the file");
		return -ENOEXEC;
	}
	header_addr = boot_rd32(h + 12);
	load_addr = boot_rd32(h + 16);
	load_end_addr = boot_rd32(h + 20);
	bss_end_addr = boot_rd32(h + 24);
	entry_addr = boot_rd32(h + 28);
	if (load_addr > header_addr || header_addr - load_addr > off) {
		log_err("multiboot: load_addr 0x%x / header_addr 0x%x put the image start "
			"outside the file",
			load_addr, header_addr);
		return -ENOEXEC;
	}
	file_start = off - (header_addr - load_addr);
	avail = in->kernel_size - file_start;
	if (load_end_addr == 0) {
		load_len = avail;
	} else {
		if (load_end_addr < load_addr || load_end_addr - load_addr > avail) {
			log_err("multiboot: load_end_addr 0x%x is before load_addr or past the "
				"end of the file",
				load_end_addr);
			return -ENOEXEC;
		}
		load_len = load_end_addr - load_addr;
	}
	load_end = (uint64_t)load_addr + load_len;
	bss_end = bss_end_addr ? bss_end_addr : load_end;
	if (load_end > BELOW_4G || bss_end < load_end) {
		log_err("multiboot: bss_end_addr 0x%x is below the loaded image's end 0x%llx",
			bss_end_addr, (unsigned long long)load_end);
		return -ENOEXEC;
	}
	if (entry_addr < load_addr || entry_addr >= bss_end) {
		log_err("multiboot: entry_addr 0x%x is outside the image 0x%x-0x%llx", entry_addr,
			load_addr, (unsigned long long)bss_end);
		return -ENOEXEC;
	}
	if (load_addr < BOOT_HIGH_START) {
		log_err("multiboot: load_addr 0x%x overlaps the boot data below 1 MiB", load_addr);
		return -ENOEXEC;
	}
	dst = guest_mem_ptr(gm, load_addr, bss_end - load_addr);
	if (!dst)
		return boot_err_nofit(gm, "multiboot image", load_addr, bss_end - load_addr);
	memcpy(dst, in->kernel + file_start, load_len);
	memset(dst + load_len, 0, bss_end - load_end);
	*lo = load_addr;
	*hi = bss_end;
	*rip = entry_addr;
	return 0;
}

static int elf_load(struct guest_mem *gm, const struct boot_input *in, uint64_t *lo, uint64_t *hi,
		    uint64_t *rip)
{
	struct boot_elf elf;
	int ret = boot_elf_parse(in->kernel, in->kernel_size, &elf, false);

	if (ret < 0)
		return ret;
	if (elf.type != BOOT_ELF_ET_EXEC ||
	    elf.machine != (elf.is64 ? BOOT_ELF_EM_X86_64 : BOOT_ELF_EM_386)) {
		log_err("multiboot: ELF is not an x86 executable (e_machine %u, e_type %u)",
			elf.machine, elf.type);
		return -ENOEXEC;
	}
	ret = boot_elf_load_segments(gm, &elf, lo, hi);
	if (ret < 0)
		return ret;
	*rip = boot_elf_entry_phys(&elf);
	if (*rip >= BELOW_4G || !guest_mem_ptr(gm, *rip, 1)) {
		log_err("multiboot: ELF entry point 0x%llx is not in guest RAM below 4 GiB",
			(unsigned long long)*rip);
		return -ENOEXEC;
	}
	return 0;
}

static int info_write(struct guest_mem *gm, const struct boot_input *in, uint64_t initrd)
{
	static const char loader_name[] = "sluice";
	static const char mod_name[] = "initrd";
	struct boot_memmap_entry map[BOOT_MEMMAP_MAX];
	struct boot_mb_mmap_entry mmap[BOOT_MEMMAP_MAX];
	struct boot_mb_info mbi;
	unsigned n = boot_memmap_build(gm, map);
	uint64_t low = guest_mem_low_end(gm);
	uint64_t upper_kib = (low - BOOT_HIGH_START) / KiB;

	for (unsigned i = 0; i < n; i++)
		mmap[i] = (struct boot_mb_mmap_entry){.size = sizeof(mmap[0]) - 4,
						      .addr = map[i].addr,
						      .len = map[i].size,
						      .type = map[i].type};
	mbi = (struct boot_mb_info){
	    .flags = BOOT_MB_INFO_MEMORY | BOOT_MB_INFO_CMDLINE | BOOT_MB_INFO_MMAP |
		     BOOT_MB_INFO_LOADER,
	    .mem_lower = (uint32_t)(BOOT_EBDA_START / KiB),
	    .mem_upper = upper_kib > UINT32_MAX ? UINT32_MAX : (uint32_t)upper_kib,
	    .cmdline = (uint32_t)BOOT_CMDLINE_ADDR,
	    .mmap_length = n * (uint32_t)sizeof(mmap[0]),
	    .mmap_addr = (uint32_t)BOOT_MB_MMAP_ADDR,
	    .boot_loader_name = (uint32_t)BOOT_MB_LOADER_ADDR,
	};
	if (initrd) {
		struct boot_mb_module mod = {
		    .mod_start = (uint32_t)initrd,
		    .mod_end = (uint32_t)(initrd + in->initrd_size),
		    .string = (uint32_t)MB_MODSTR_ADDR,
		};
		mbi.flags |= BOOT_MB_INFO_MODS;
		mbi.mods_count = 1;
		mbi.mods_addr = (uint32_t)BOOT_MB_MODS_ADDR;
		if (guest_mem_write(gm, BOOT_MB_MODS_ADDR, &mod, sizeof(mod)) < 0 ||
		    guest_mem_write(gm, MB_MODSTR_ADDR, mod_name, sizeof(mod_name)) < 0)
			return boot_err_nofit(gm, "multiboot modules", BOOT_MB_MODS_ADDR, 0x40);
	}
	if (guest_mem_write(gm, BOOT_MB_MMAP_ADDR, mmap, n * sizeof(mmap[0])) < 0 ||
	    guest_mem_write(gm, BOOT_MB_LOADER_ADDR, loader_name, sizeof(loader_name)) < 0 ||
	    guest_mem_write(gm, BOOT_INFO_ADDR, &mbi, sizeof(mbi)) < 0)
		return boot_err_nofit(gm, "multiboot info", BOOT_INFO_ADDR, 0x140);
	return 0;
}

int boot_multiboot_load(struct guest_mem *gm, const struct boot_input *in, struct boot_entry *entry)
{
	uint64_t lo = 0, hi = 0, rip = 0;
	uint32_t flags;
	long off;
	int ret;

	off = boot_multiboot_find(in->kernel, in->kernel_size);
	if (off < 0) {
		log_err("multiboot: no valid multiboot header in the first 8 KiB");
		return -ENOEXEC;
	}
	flags = boot_rd32(in->kernel + off + 4);
	if (flags & MB_FLAGS_REQUIRED & ~(MB_FLAG_ALIGN | MB_FLAG_MEMINFO)) {
		log_err("multiboot: kernel requires unsupported features (header flags 0x%x; "
			"video mode info is not provided)",
			flags);
		return -ENOEXEC;
	}
	if (flags & MB_FLAG_AOUT)
		ret = aout_load(gm, in, (size_t)off, &lo, &hi, &rip);
	else
		ret = elf_load(gm, in, &lo, &hi, &rip);
	if (ret < 0)
		return ret;

	ret = boot_prot32_finish(gm, in, lo, hi, info_write, rip, entry);
	if (ret == 0)
		entry->rax = BOOT_MB_BOOT_MAGIC;
	return ret;
}
