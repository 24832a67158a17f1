/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1: the kernel is loaded either by its a.out kludge addresses
 * (header flag 16) or as ELF, then entered in 32-bit protected mode with
 * eax = 0x2BADB002 and ebx = the multiboot information structure.
 *
 * The image may sit anywhere in RAM outside the reserved BIOS area, also
 * below 1 MiB (real-mode test kernels link code at 0x8000), so like GRUB
 * the loader places its own boot data around it: every piece (GDT/IDT,
 * information structure, memory map, module list and strings, loader name,
 * command line, stack, module bodies) goes at its usual address when that
 * is free, else in the lowest free RAM (modules: the highest), never on a
 * segment, the IVT/BDA or the reserved area.
 */
#include "boot_priv.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MB_HDR_SIZE	  12
#define MB_AOUT_HDR_SIZE  32
#define MB_FLAG_ALIGN	  (1u << 0) /* page-align modules: we always do */
#define MB_FLAG_MEMINFO	  (1u << 1) /* mem_* fields: always provided */
#define MB_FLAG_AOUT	  (1u << 16)
#define MB_FLAGS_REQUIRED 0xffffu /* loader must fail on unknown bits here */
#define MB_MODSTR_ADDR	  (BOOT_MB_LOADER_ADDR + 0x20)
#define BELOW_4G	  0x100000000ULL
#define PAGE		  0x1000ULL
/* Below this lie the real-mode IVT and BDA: no boot data there, and no NULL pointers. */
#define MB_DATA_FLOOR BOOT_GDT_ADDR
#define MB_STACK_SIZE PAGE
#define MB_STACK_BASE (BOOT_STACK_TOP + 0x10 - MB_STACK_SIZE) /* 0x8000 */

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

/* Guest-physical ranges [start, end) the boot data must stay out of. */
struct mb_range {
	uint64_t start, end;
};

struct mb_used {
	struct mb_range *r;
	size_t n, cap;
	uint64_t ram_end; /* boot data goes below this: end of low RAM (< 4 GiB) */
};

static int used_add(struct mb_used *u, uint64_t start, uint64_t end)
{
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 16;
		struct mb_range *r = realloc(u->r, cap * sizeof(*r));

		if (!r) {
			log_err("multiboot: out of memory for the list of %zu image ranges", cap);
			return -ENOMEM;
		}
		u->r = r;
		u->cap = cap;
	}
	u->r[u->n++] = (struct mb_range){start, end};
	return 0;
}

static bool used_is_free(const struct mb_used *u, uint64_t addr, uint64_t len)
{
	if (len > u->ram_end || addr > u->ram_end - len)
		return false;
	for (size_t i = 0; i < u->n; i++)
		if (addr < u->r[i].end && addr + len > u->r[i].start)
			return false;
	return true;
}

static int range_cmp(const void *a, const void *b)
{
	const struct mb_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Reserve len bytes (align: a power of two) of free RAM below u->ram_end:
 * at pref if that is free and aligned, else the lowest free fit, or with
 * top_down the highest. -ENOMEM with one log line if nothing fits.
 */
static int mb_alloc(struct mb_used *u, const struct guest_mem *gm, const char *what, uint64_t len,
		    uint64_t align, uint64_t pref, bool top_down, uint64_t *addr)
{
	uint64_t cursor = 0, found = 0;
	bool have = false;

	if (pref && pref % align == 0 && used_is_free(u, pref, len)) {
		*addr = pref;
		return used_add(u, pref, pref + len);
	}
	/* Walk the gaps between the used ranges in address order. */
	qsort(u->r, u->n, sizeof(u->r[0]), range_cmp);
	for (size_t i = 0; i <= u->n && cursor < u->ram_end && !(have && !top_down); i++) {
		uint64_t gap_end =
		    i < u->n && u->r[i].start < u->ram_end ? u->r[i].start : u->ram_end;

		if (gap_end > cursor && gap_end - cursor >= len) {
			uint64_t lo = ALIGN_UP(cursor, align);
			uint64_t hi = ALIGN_DOWN(gap_end - len, align);

			if (lo >= cursor && lo <= hi) {
				found = top_down ? hi : lo;
				have = true;
			}
		}
		if (i < u->n && u->r[i].end > cursor)
			cursor = u->r[i].end;
	}
	if (!have) {
		log_err(
		    "multiboot: no room for the %s (0x%llx bytes) in guest RAM below 4 GiB: the "
		    "kernel image and the reserved areas fill the rest of the %llu MiB",
		    what, (unsigned long long)len, (unsigned long long)(gm->size / MiB));
		return -ENOMEM;
	}
	*addr = found;
	return used_add(u, found, found + len);
}

static int aout_load(struct guest_mem *gm, const struct boot_input *in, size_t off,
		     struct mb_used *u, uint64_t *rip)
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
	if (boot_bios_area_overlaps(load_addr, bss_end - load_addr)) {
		log_err("multiboot: image 0x%x-0x%llx overlaps the reserved BIOS area "
			"0x%llx-0x%llx",
			load_addr, (unsigned long long)bss_end - 1,
			(unsigned long long)BOOT_EBDA_START,
			(unsigned long long)BOOT_HIGH_START - 1);
		return -ENOEXEC;
	}
	dst = guest_mem_ptr(gm, load_addr, bss_end - load_addr);
	if (!dst)
		return boot_err_nofit(gm, "multiboot image", load_addr, bss_end - load_addr);
	memcpy(dst, in->kernel + file_start, load_len);
	memset(dst + load_len, 0, bss_end - load_end);
	*rip = entry_addr;
	return used_add(u, load_addr, bss_end);
}

static int elf_load(struct guest_mem *gm, const struct boot_input *in, struct mb_used *u,
		    uint64_t *rip)
{
	struct boot_elf_phdr ph;
	struct boot_elf elf;
	uint64_t lo, hi;
	int ret = boot_elf_parse(in->kernel, in->kernel_size, &elf, false);

	if (ret < 0)
		return ret;
	if (elf.type != BOOT_ELF_ET_EXEC ||
	    elf.machine != (elf.is64 ? BOOT_ELF_EM_X86_64 : BOOT_ELF_EM_386)) {
		log_err("multiboot: ELF is not an x86 executable (e_machine %u, e_type %u)",
			elf.machine, elf.type);
		return -ENOEXEC;
	}
	ret = boot_elf_load_segments(gm, &elf, true, &lo, &hi);
	if (ret < 0)
		return ret;
	*rip = boot_elf_entry_phys(&elf);
	if (*rip >= BELOW_4G || !guest_mem_ptr(gm, *rip, 1)) {
		log_err("multiboot: ELF entry point 0x%llx is not in guest RAM below 4 GiB",
			(unsigned long long)*rip);
		return -ENOEXEC;
	}
	/* Each segment, not [lo, hi): boot data may go in the gaps between them. */
	for (unsigned i = 0; i < elf.phnum; i++) {
		boot_elf_phdr(&elf, i, &ph);
		if (ph.type != BOOT_ELF_PT_LOAD || ph.memsz == 0)
			continue;
		ret = used_add(u, ph.paddr, ph.paddr + ph.memsz);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Where the boot data went; every address is below 4 GiB. */
struct mb_layout {
	uint64_t tables, info, mmap, mods, modstr, loader, cmdline, stack, module;
};

static const char mb_loader_name[] = "sluice";
static const char mb_mod_name[] = "initrd";

static int layout_alloc(struct mb_used *u, const struct guest_mem *gm, const struct boot_input *in,
			size_t cmdline_len, unsigned mmap_n, struct mb_layout *l)
{
	bool mods = in->initrd && in->initrd_size;
	int ret;

	/* The small pieces first, at their usual addresses while those are free. */
	ret = mb_alloc(u, gm, "GDT and IDT", BOOT_GDT_SIZE + BOOT_IDT_SIZE, 16, BOOT_GDT_ADDR,
		       false, &l->tables);
	if (!ret)
		ret = mb_alloc(u, gm, "multiboot information", sizeof(struct boot_mb_info), 8,
			       BOOT_INFO_ADDR, false, &l->info);
	if (!ret)
		ret = mb_alloc(u, gm, "memory map", mmap_n * sizeof(struct boot_mb_mmap_entry), 8,
			       BOOT_MB_MMAP_ADDR, false, &l->mmap);
	if (!ret)
		ret = mb_alloc(u, gm, "boot loader name", sizeof(mb_loader_name), 1,
			       BOOT_MB_LOADER_ADDR, false, &l->loader);
	if (!ret && mods)
		ret = mb_alloc(u, gm, "module list", sizeof(struct boot_mb_module), 8,
			       BOOT_MB_MODS_ADDR, false, &l->mods);
	if (!ret && mods)
		ret = mb_alloc(u, gm, "module name", sizeof(mb_mod_name), 1, MB_MODSTR_ADDR, false,
			       &l->modstr);
	if (!ret)
		ret = mb_alloc(u, gm, "command line", cmdline_len + 1, 1, BOOT_CMDLINE_ADDR, false,
			       &l->cmdline);
	/* ESP is undefined by the spec; give the kernel usable scratch anyway. */
	if (!ret)
		ret = mb_alloc(u, gm, "boot stack", MB_STACK_SIZE, 16, MB_STACK_BASE, false,
			       &l->stack);
	/* Module bodies page aligned at the top of free low RAM, away from the small pieces. */
	if (!ret && mods)
		ret = mb_alloc(u, gm, "initrd module", in->initrd_size, PAGE, 0, true, &l->module);
	return ret;
}

static int info_write(struct guest_mem *gm, const struct boot_input *in, const char *cmdline,
		      size_t cmdline_len, const struct boot_memmap_entry *map, unsigned n,
		      const struct mb_layout *l)
{
	struct boot_mb_mmap_entry mmap[BOOT_MEMMAP_MAX];
	struct boot_mb_info mbi;
	uint64_t low = guest_mem_low_end(gm);
	uint64_t upper_kib = low > BOOT_HIGH_START ? (low - BOOT_HIGH_START) / KiB : 0;

	for (unsigned i = 0; i < n; i++)
		mmap[i] = (struct boot_mb_mmap_entry){.size = sizeof(mmap[0]) - 4,
						      .addr = map[i].addr,
						      .len = map[i].size,
						      .type = map[i].type};
	mbi = (struct boot_mb_info){
	    .flags = BOOT_MB_INFO_MEMORY | BOOT_MB_INFO_CMDLINE | BOOT_MB_INFO_MMAP |
		     BOOT_MB_INFO_LOADER,
	    .mem_lower = (uint32_t)((low < BOOT_EBDA_START ? low : BOOT_EBDA_START) / KiB),
	    .mem_upper = upper_kib > UINT32_MAX ? UINT32_MAX : (uint32_t)upper_kib,
	    .cmdline = (uint32_t)l->cmdline,
	    .mmap_length = n * (uint32_t)sizeof(mmap[0]),
	    .mmap_addr = (uint32_t)l->mmap,
	    .boot_loader_name = (uint32_t)l->loader,
	};
	/* mb_alloc only hands out RAM, so these writes cannot fail. */
	if (in->initrd && in->initrd_size) {
		struct boot_mb_module mod = {
		    .mod_start = (uint32_t)l->module,
		    .mod_end = (uint32_t)(l->module + in->initrd_size),
		    .string = (uint32_t)l->modstr,
		};
		mbi.flags |= BOOT_MB_INFO_MODS;
		mbi.mods_count = 1;
		mbi.mods_addr = (uint32_t)l->mods;
		if (guest_mem_write(gm, l->module, in->initrd, in->initrd_size) < 0 ||
		    guest_mem_write(gm, l->mods, &mod, sizeof(mod)) < 0 ||
		    guest_mem_write(gm, l->modstr, mb_mod_name, sizeof(mb_mod_name)) < 0)
			return boot_err_nofit(gm, "multiboot modules", l->module, in->initrd_size);
	}
	if (guest_mem_write(gm, l->cmdline, cmdline, cmdline_len) < 0 ||
	    guest_mem_write(gm, l->cmdline + cmdline_len, "", 1) < 0 ||
	    guest_mem_write(gm, l->mmap, mmap, n * sizeof(mmap[0])) < 0 ||
	    guest_mem_write(gm, l->loader, mb_loader_name, sizeof(mb_loader_name)) < 0 ||
	    guest_mem_write(gm, l->info, &mbi, sizeof(mbi)) < 0)
		return boot_err_nofit(gm, "multiboot info", l->info, sizeof(mbi));
	return boot_descriptors_write(gm, l->tables, l->tables + BOOT_GDT_SIZE);
}

static int boot_data_place(struct guest_mem *gm, const struct boot_input *in, struct mb_used *u,
			   struct mb_layout *l)
{
	struct boot_memmap_entry map[BOOT_MEMMAP_MAX];
	unsigned n = boot_memmap_build(gm, map);
	const char *cmdline = in->cmdline ? in->cmdline : "";
	size_t len = strnlen(cmdline, BOOT_CMDLINE_MAX);
	int ret;

	if (len > BOOT_CMDLINE_MAX - 1) {
		log_err("kernel command line is at least %zu bytes; this kernel accepts at most "
			"%llu",
			len, (unsigned long long)BOOT_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	/* Fixed: the IVT/BDA below the floor and the reserved BIOS area. */
	u->ram_end = guest_mem_low_end(gm);
	if (u->ram_end > BELOW_4G)
		u->ram_end = BELOW_4G;
	ret = used_add(u, 0, MB_DATA_FLOOR);
	if (!ret)
		ret = used_add(u, BOOT_EBDA_START, BOOT_HIGH_START);
	if (!ret)
		ret = layout_alloc(u, gm, in, len, n, l);
	if (!ret)
		ret = info_write(gm, in, cmdline, len, map, n, l);
	return ret;
}

int boot_multiboot_load(struct guest_mem *gm, const struct boot_input *in, struct boot_entry *entry)
{
	struct mb_used used = {0};
	struct mb_layout l = {0};
	uint64_t rip = 0;
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
		ret = aout_load(gm, in, (size_t)off, &used, &rip);
	else
		ret = elf_load(gm, in, &used, &rip);
	if (!ret)
		ret = boot_data_place(gm, in, &used, &l);
	free(used.r);
	if (ret < 0)
		return ret;

	boot_entry_set(entry, BOOT_MODE_PROT32, rip, l.stack + MB_STACK_SIZE - 0x10, l.info,
		       l.tables);
	entry->rax = BOOT_MB_BOOT_MAGIC;
	return 0;
}
