/* SPDX-License-Identifier: MIT */
/*
 * Kernel loaders against arbitrary images. Input layout:
 *   byte 0      command line length (c)
 *   bytes 1-2   initrd length (r, little-endian)
 *   c bytes     command line (NUL bytes end it early)
 *   r bytes     initrd
 *   the rest    kernel image
 * Lengths that run past the input are clipped, so every input is valid.
 * Beyond "never crash": a multiboot kernel that loaded must find none of
 * the boot data it is handed on top of its own image (abort otherwise).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "boot/boot_priv.h"
#include "guest_mem.h"

#define FUZZ_RAM (64ULL << 20)
#define MB_AOUT	 (1u << 16)

struct range {
	uint64_t start, len;
};

static int overlaps(struct range a, struct range b)
{
	return a.start < b.start + b.len && b.start < a.start + a.len;
}

/* The guest ranges a multiboot image that loaded occupies (its a.out range or its PT_LOADs). */
static unsigned mb_image(const struct boot_input *in, struct range *r, unsigned max)
{
	long off = boot_multiboot_find(in->kernel, in->kernel_size);
	const uint8_t *h = in->kernel + off;
	struct boot_elf_phdr ph;
	struct boot_elf elf;
	unsigned n = 0;

	if (boot_rd32(h + 4) & MB_AOUT) {
		uint32_t header = boot_rd32(h + 12), load = boot_rd32(h + 16);
		uint32_t load_end = boot_rd32(h + 20), bss_end = boot_rd32(h + 24);
		uint64_t file_start = (uint64_t)off - (header - load);
		uint64_t end = load_end ? load_end : load + (in->kernel_size - file_start);

		r[0] = (struct range){load, (bss_end ? bss_end : end) - load};
		return 1;
	}
	if (boot_elf_parse(in->kernel, in->kernel_size, &elf, true) < 0)
		abort(); /* it loaded as ELF */
	for (unsigned i = 0; i < elf.phnum && n < max; i++) {
		boot_elf_phdr(&elf, i, &ph);
		if (ph.type == BOOT_ELF_PT_LOAD && ph.memsz)
			r[n++] = (struct range){ph.paddr, ph.memsz};
	}
	return n;
}

static uint64_t str_len(const struct guest_mem *gm, uint64_t gpa)
{
	const char *p = guest_mem_ptr(gm, gpa, 1);

	if (!p)
		abort();
	return strnlen(p, guest_mem_low_end(gm) - gpa) + 1;
}

static void mb_check(const struct guest_mem *gm, const struct boot_input *in,
		     const struct boot_entry *e)
{
	struct range img[64], data[12];
	unsigned ni = mb_image(in, img, 64), nd = 0;
	struct boot_mb_info mbi;
	struct boot_mb_module mod;

	if (guest_mem_read(gm, e->rbx, &mbi, sizeof(mbi)) < 0)
		abort();
	data[nd++] = (struct range){e->rbx, sizeof(mbi)};
	data[nd++] = (struct range){mbi.cmdline, str_len(gm, mbi.cmdline)};
	data[nd++] = (struct range){mbi.boot_loader_name, str_len(gm, mbi.boot_loader_name)};
	data[nd++] = (struct range){mbi.mmap_addr, mbi.mmap_length};
	data[nd++] = (struct range){e->gdt_base, e->gdt_limit + 1u};
	data[nd++] = (struct range){e->idt_base, e->idt_limit + 1u};
	data[nd++] = (struct range){e->rsp - 0xff0, 0x1000}; /* the stack page */
	if (mbi.flags & BOOT_MB_INFO_MODS) {
		if (mbi.mods_count != 1 || guest_mem_read(gm, mbi.mods_addr, &mod, sizeof(mod)) < 0)
			abort();
		data[nd++] = (struct range){mbi.mods_addr, sizeof(mod)};
		data[nd++] = (struct range){mod.mod_start, mod.mod_end - mod.mod_start};
		data[nd++] = (struct range){mod.string, str_len(gm, mod.string)};
	}
	for (unsigned i = 0; i < nd; i++) {
		if (!guest_mem_ptr(gm, data[i].start, data[i].len) ||
		    data[i].start < BOOT_GDT_ADDR ||
		    boot_bios_area_overlaps(data[i].start, data[i].len))
			abort();
		for (unsigned j = 0; j < ni; j++)
			if (overlaps(data[i], img[j]))
				abort();
		for (unsigned j = i + 1; j < nd; j++)
			if (overlaps(data[i], data[j]))
				abort();
	}
}

static size_t take(size_t want, size_t *left)
{
	size_t n = want < *left ? want : *left;
	*left -= n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Created once: mapping 64 MiB per input would dominate the run time. */
	static struct guest_mem gm;
	static int ready;
	struct boot_entry entry;
	struct boot_input in;
	char cmdline[256];
	size_t left = size, clen, rlen;
	const char *why;

	if (!ready) {
		if (guest_mem_init(&gm, FUZZ_RAM, false) < 0)
			abort();
		ready = 1;
	}
	if (size < 3)
		return 0;
	clen = data[0];
	rlen = (size_t)data[1] | (size_t)data[2] << 8;
	data += 3;
	left -= 3;

	clen = take(clen, &left);
	memcpy(cmdline, data, clen);
	cmdline[clen] = 0;
	data += clen;
	rlen = take(rlen, &left);
	in = (struct boot_input){
	    .initrd = rlen ? data : NULL,
	    .initrd_size = rlen,
	    .cmdline = cmdline,
	    .kernel = data + rlen,
	    .kernel_size = left,
	    .acpi_rsdp = 0xe0000,
	};

	(void)boot_detect(in.kernel, in.kernel_size, &why);
	(void)boot_format_name(boot_detect(in.kernel, in.kernel_size, &why));
	if (boot_load(&gm, &in, &entry) == 0 && entry.format == BOOT_FMT_MULTIBOOT)
		mb_check(&gm, &in, &entry);
	return 0;
}
