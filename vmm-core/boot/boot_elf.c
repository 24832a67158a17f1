/* SPDX-License-Identifier: MIT */
/*
 * ELF kernels: vmlinux entered in long mode at e_entry (rsi = zero page, like
 * Firecracker), and PVH kernels entered in 32-bit protected mode at their
 * XEN_ELFNOTE_PHYS32_ENTRY with rbx = hvm_start_info. The parser is shared
 * with the multiboot loader, which also loads ELF32.
 */
#include "boot_priv.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <string.h>

#define EHDR32_SIZE 52
#define EHDR64_SIZE 64
#define PHDR32_SIZE 32
#define PHDR64_SIZE 56
#define PN_XNUM	    0xffff
#define BELOW_4G    0x100000000ULL

/* Detection probes images too: only a load reports what is wrong. */
#define parse_err(quiet, ...)                                                                      \
	do {                                                                                       \
		if (!(quiet))                                                                      \
			log_err(__VA_ARGS__);                                                      \
	} while (0)

int boot_elf_parse(const uint8_t *img, size_t size, struct boot_elf *elf, bool quiet)
{
	uint64_t table, end;

	memset(elf, 0, sizeof(*elf));
	if (size < 16 || memcmp(img,
				"\x7f"
				"ELF",
				4) != 0) {
		parse_err(quiet, "ELF: not an ELF file");
		return -ENOEXEC;
	}
	if ((img[4] != 1 && img[4] != 2) || img[5] != 1) {
		parse_err(quiet,
			  "ELF: unsupported class %u / data encoding %u (need little-endian ELF32 "
			  "or ELF64)",
			  img[4], img[5]);
		return -ENOEXEC;
	}
	elf->is64 = img[4] == 2;
	if (size < (elf->is64 ? EHDR64_SIZE : EHDR32_SIZE)) {
		parse_err(quiet, "ELF: header runs past the end of the %zu-byte file", size);
		return -ENOEXEC;
	}
	elf->img = img;
	elf->size = size;
	elf->type = boot_rd16(img + 16);
	elf->machine = boot_rd16(img + 18);
	if (elf->is64) {
		elf->entry = boot_rd64(img + 24);
		elf->phoff = boot_rd64(img + 32);
		elf->phentsize = boot_rd16(img + 54);
		elf->phnum = boot_rd16(img + 56);
	} else {
		elf->entry = boot_rd32(img + 24);
		elf->phoff = boot_rd32(img + 28);
		elf->phentsize = boot_rd16(img + 42);
		elf->phnum = boot_rd16(img + 44);
	}
	if (elf->phnum == 0 || elf->phnum == PN_XNUM) {
		parse_err(quiet, "ELF: no usable program header table (e_phnum %u)", elf->phnum);
		return -ENOEXEC;
	}
	if (elf->phentsize < (elf->is64 ? PHDR64_SIZE : PHDR32_SIZE)) {
		parse_err(quiet, "ELF: program header entry size %u is too small", elf->phentsize);
		return -ENOEXEC;
	}
	table = (uint64_t)elf->phnum * elf->phentsize;
	if (add_overflows_u64(elf->phoff, table, &end) < 0 || end > size) {
		parse_err(quiet,
			  "ELF: program header table (0x%llx bytes at offset 0x%llx) runs past the "
			  "end of the %zu-byte file",
			  (unsigned long long)table, (unsigned long long)elf->phoff, size);
		return -ENOEXEC;
	}
	return 0;
}

void boot_elf_phdr(const struct boot_elf *elf, unsigned i, struct boot_elf_phdr *ph)
{
	const uint8_t *p = elf->img + elf->phoff + (uint64_t)i * elf->phentsize;

	ph->type = boot_rd32(p);
	if (elf->is64) {
		ph->offset = boot_rd64(p + 8);
		ph->vaddr = boot_rd64(p + 16);
		ph->paddr = boot_rd64(p + 24);
		ph->filesz = boot_rd64(p + 32);
		ph->memsz = boot_rd64(p + 40);
	} else {
		ph->offset = boot_rd32(p + 4);
		ph->vaddr = boot_rd32(p + 8);
		ph->paddr = boot_rd32(p + 12);
		ph->filesz = boot_rd32(p + 16);
		ph->memsz = boot_rd32(p + 20);
	}
}

/* The file bytes [offset, offset + len) exist. */
static bool in_file(const struct boot_elf *elf, uint64_t offset, uint64_t len)
{
	uint64_t end;

	return add_overflows_u64(offset, len, &end) == 0 && end <= elf->size;
}

static int check_segment(struct guest_mem *gm, const struct boot_elf *elf, unsigned i,
			 const struct boot_elf_phdr *ph, bool low_ok)
{
	if (ph->filesz > ph->memsz) {
		log_err("ELF: segment %u has p_filesz 0x%llx > p_memsz 0x%llx", i,
			(unsigned long long)ph->filesz, (unsigned long long)ph->memsz);
		return -ENOEXEC;
	}
	if (!in_file(elf, ph->offset, ph->filesz)) {
		log_err("ELF: segment %u (0x%llx bytes at offset 0x%llx) runs past the end of "
			"the %zu-byte file",
			i, (unsigned long long)ph->filesz, (unsigned long long)ph->offset,
			elf->size);
		return -ENOEXEC;
	}
	if (ph->memsz == 0)
		return 0;
	/* The memory map reserves this area (and the ACPI tables live in it). */
	if (boot_bios_area_overlaps(ph->paddr, ph->memsz)) {
		log_err("ELF: segment %u at 0x%llx (0x%llx bytes) overlaps the reserved BIOS area "
			"0x%llx-0x%llx",
			i, (unsigned long long)ph->paddr, (unsigned long long)ph->memsz,
			(unsigned long long)BOOT_EBDA_START,
			(unsigned long long)BOOT_HIGH_START - 1);
		return -ENOEXEC;
	}
	/* Otherwise below 1 MiB live the fixed GDT, page tables, zero page and cmdline. */
	if (!low_ok && ph->paddr < BOOT_HIGH_START) {
		log_err("ELF: segment %u at 0x%llx overlaps the boot data below 1 MiB", i,
			(unsigned long long)ph->paddr);
		return -ENOEXEC;
	}
	if (!guest_mem_ptr(gm, ph->paddr, ph->memsz))
		return boot_err_nofit(gm, "ELF segment", ph->paddr, ph->memsz);
	return 0;
}

int boot_elf_load_segments(struct guest_mem *gm, const struct boot_elf *elf, bool low_ok,
			   uint64_t *lo, uint64_t *hi)
{
	struct boot_elf_phdr ph;
	unsigned loaded = 0;
	int ret;

	*lo = UINT64_MAX;
	*hi = 0;
	/* Validate every segment before writing any. */
	for (unsigned i = 0; i < elf->phnum; i++) {
		boot_elf_phdr(elf, i, &ph);
		if (ph.type != BOOT_ELF_PT_LOAD)
			continue;
		ret = check_segment(gm, elf, i, &ph, low_ok);
		if (ret < 0)
			return ret;
		if (ph.memsz == 0)
			continue;
		loaded++;
		if (ph.paddr < *lo)
			*lo = ph.paddr;
		if (ph.paddr + ph.memsz > *hi)
			*hi = ph.paddr + ph.memsz;
	}
	if (!loaded) {
		log_err("ELF: no loadable segments");
		return -ENOEXEC;
	}
	for (unsigned i = 0; i < elf->phnum; i++) {
		uint8_t *dst;

		boot_elf_phdr(elf, i, &ph);
		if (ph.type != BOOT_ELF_PT_LOAD || ph.memsz == 0)
			continue;
		dst = guest_mem_ptr(gm, ph.paddr, ph.memsz);
		if (!dst)
			return boot_err_nofit(gm, "ELF segment", ph.paddr, ph.memsz);
		memcpy(dst, elf->img + ph.offset, ph.filesz);
		memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
	}
	return 0;
}

uint64_t boot_elf_entry_phys(const struct boot_elf *elf)
{
	struct boot_elf_phdr ph;

	/* vmlinux's e_entry is already physical (phys_startup_64). */
	for (unsigned i = 0; i < elf->phnum; i++) {
		boot_elf_phdr(elf, i, &ph);
		if (ph.type == BOOT_ELF_PT_LOAD && elf->entry >= ph.paddr &&
		    elf->entry - ph.paddr < ph.memsz)
			return elf->entry;
	}
	/* A virtual entry: move it by its segment's virtual-physical offset. */
	for (unsigned i = 0; i < elf->phnum; i++) {
		boot_elf_phdr(elf, i, &ph);
		if (ph.type == BOOT_ELF_PT_LOAD && elf->entry >= ph.vaddr &&
		    elf->entry - ph.vaddr < ph.memsz)
			return ph.paddr + (elf->entry - ph.vaddr);
	}
	return elf->entry;
}

static int note_scan(const struct boot_elf *elf, const struct boot_elf_phdr *ph, uint64_t *entry)
{
	const uint8_t *notes = elf->img + ph->offset;
	uint64_t pos = 0;

	while (ph->filesz - pos >= 12) {
		uint32_t namesz = boot_rd32(notes + pos);
		uint32_t descsz = boot_rd32(notes + pos + 4);
		uint32_t type = boot_rd32(notes + pos + 8);
		uint64_t name = pos + 12;
		uint64_t desc = name + ALIGN_UP((uint64_t)namesz, 4);
		uint64_t next = desc + ALIGN_UP((uint64_t)descsz, 4);

		if (next > ph->filesz || next < pos)
			return -ENOEXEC;
		if (type == BOOT_PVH_NOTE_PHYS32_ENTRY && namesz == 4 &&
		    memcmp(notes + name, "Xen", 4) == 0) {
			if (descsz == 4)
				*entry = boot_rd32(notes + desc);
			else if (descsz == 8)
				*entry = boot_rd64(notes + desc);
			else
				return -ENOEXEC;
			return 1;
		}
		pos = next;
	}
	return 0;
}

int boot_elf_pvh_entry(const struct boot_elf *elf, uint64_t *entry)
{
	struct boot_elf_phdr ph;
	int ret;

	for (unsigned i = 0; i < elf->phnum; i++) {
		boot_elf_phdr(elf, i, &ph);
		if (ph.type != BOOT_ELF_PT_NOTE)
			continue;
		if (!in_file(elf, ph.offset, ph.filesz))
			return -ENOEXEC;
		ret = note_scan(elf, &ph, entry);
		if (ret != 0)
			return ret;
	}
	return 0;
}

static int elf_prepare(struct guest_mem *gm, const struct boot_input *in, struct boot_elf *elf,
		       uint64_t *lo, uint64_t *hi)
{
	int ret = boot_elf_parse(in->kernel, in->kernel_size, elf, false);

	if (ret < 0)
		return ret;
	if (!elf->is64 || elf->machine != BOOT_ELF_EM_X86_64 || elf->type != BOOT_ELF_ET_EXEC) {
		log_err("ELF: not an x86-64 executable (e_machine %u, e_type %u)", elf->machine,
			elf->type);
		return -ENOEXEC;
	}
	return boot_elf_load_segments(gm, elf, false, lo, hi);
}

/* The first instruction must be RAM the boot page tables map (< 4 GiB). */
static int check_entry(const struct guest_mem *gm, uint64_t entry)
{
	if (entry >= BELOW_4G || !guest_mem_ptr(gm, entry, 1)) {
		log_err("ELF: entry point 0x%llx is not in guest RAM below 4 GiB",
			(unsigned long long)entry);
		return -ENOEXEC;
	}
	return 0;
}

/* vmlinux and PVH: no setup header; the initrd below 4 GiB, any command line that fits. */
static int elf_finish(struct guest_mem *gm, const struct boot_input *in, enum boot_cpu_mode mode,
		      uint64_t rip, uint64_t lo, uint64_t hi, boot_info_write_fn info_write,
		      struct boot_entry *entry)
{
	const struct boot_tail t = {
	    .mode = mode,
	    .rip = rip,
	    .p = {.kernel_lo = lo,
		  .kernel_hi = hi,
		  .initrd_max = UINT32_MAX,
		  .cmdline_max = BOOT_CMDLINE_MAX - 1},
	    .info_write = info_write,
	};

	return boot_finish(gm, in, &t, entry);
}

int boot_elf64_load(struct guest_mem *gm, const struct boot_input *in, struct boot_entry *entry)
{
	struct boot_elf elf;
	uint64_t lo = 0, hi = 0, rip = 0;
	int ret;

	ret = elf_prepare(gm, in, &elf, &lo, &hi);
	if (ret < 0)
		return ret;
	rip = boot_elf_entry_phys(&elf);
	ret = check_entry(gm, rip);
	if (ret < 0)
		return ret;
	return elf_finish(gm, in, BOOT_MODE_LONG64, rip, lo, hi, NULL, entry);
}

static int pvh_start_info_write(struct guest_mem *gm, const struct boot_input *in, uint64_t initrd)
{
	struct boot_memmap_entry map[BOOT_MEMMAP_MAX];
	struct boot_pvh_memmap_entry mm[BOOT_MEMMAP_MAX];
	struct boot_pvh_start_info si;
	struct boot_pvh_modlist_entry mod;
	unsigned n = boot_memmap_build(gm, map);

	memset(mm, 0, sizeof(mm));
	for (unsigned i = 0; i < n; i++)
		mm[i] = (struct boot_pvh_memmap_entry){
		    .addr = map[i].addr, .size = map[i].size, .type = map[i].type};
	si = (struct boot_pvh_start_info){
	    .magic = BOOT_PVH_MAGIC,
	    .version = 1,
	    .cmdline_paddr = BOOT_CMDLINE_ADDR,
	    .rsdp_paddr = in->acpi_rsdp,
	    .memmap_paddr = BOOT_PVH_MEMMAP_ADDR,
	    .memmap_entries = n,
	};
	if (initrd) {
		mod = (struct boot_pvh_modlist_entry){.paddr = initrd, .size = in->initrd_size};
		si.nr_modules = 1;
		si.modlist_paddr = BOOT_PVH_MODLIST_ADDR;
		if (guest_mem_write(gm, BOOT_PVH_MODLIST_ADDR, &mod, sizeof(mod)) < 0)
			return boot_err_nofit(gm, "PVH module list", BOOT_PVH_MODLIST_ADDR,
					      sizeof(mod));
	}
	if (guest_mem_write(gm, BOOT_PVH_MEMMAP_ADDR, mm, n * sizeof(mm[0])) < 0 ||
	    guest_mem_write(gm, BOOT_INFO_ADDR, &si, sizeof(si)) < 0)
		return boot_err_nofit(gm, "PVH start info", BOOT_INFO_ADDR, 0x100);
	return 0;
}

int boot_pvh_load(struct guest_mem *gm, const struct boot_input *in, struct boot_entry *entry)
{
	struct boot_elf elf;
	uint64_t lo = 0, hi = 0, rip = 0;
	int ret;

	ret = elf_prepare(gm, in, &elf, &lo, &hi);
	if (ret < 0)
		return ret;
	ret = boot_elf_pvh_entry(&elf, &rip);
	if (ret <= 0) {
		log_err("ELF: malformed or missing PVH entry note");
		return -ENOEXEC;
	}
	ret = check_entry(gm, rip);
	if (ret < 0)
		return ret;
	return elf_finish(gm, in, BOOT_MODE_PROT32, rip, lo, hi, pvh_start_info_write, entry);
}
