/* SPDX-License-Identifier: MIT */
/* Kernel loaders: images are built in memory, loaded into 64 MiB of guest RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include <linux/kvm.h>

#include "boot/boot.h"
#include "boot/boot_priv.h"
#include "guest_mem.h"
#include "util.h"

#define RAM_SIZE (64 * MiB)

struct img {
	uint8_t *data;
	size_t size;
};

static struct img img_alloc(size_t size)
{
	struct img im = {.data = calloc(1, size ? size : 1), .size = size};
	assert_non_null(im.data);
	return im;
}

static void fill_pattern(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed) | 0x80; /* never text */
}

static int setup(void **state)
{
	struct guest_mem *gm = calloc(1, sizeof(*gm));
	if (!gm || guest_mem_init(gm, RAM_SIZE, false) < 0)
		return -1;
	*state = gm;
	return 0;
}

static int teardown(void **state)
{
	guest_mem_destroy(*state);
	free(*state);
	return 0;
}

/* Every test starts from RAM full of junk so zeroing is observable. */
static struct guest_mem *fresh(void **state)
{
	struct guest_mem *gm = *state;
	memset(gm->base, 0xcc, gm->size);
	return gm;
}

static uint8_t *gp(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(gm, gpa, len);
	assert_non_null(p);
	return p;
}

/* ---- image builders ---- */

struct bz_opts {
	size_t kernel_size;
	uint8_t setup_sects;
	uint16_t version;
	uint16_t xloadflags;
	uint32_t init_size;
	uint32_t cmdline_size;
	uint32_t initrd_max;
	uint64_t pref_address;
};

static struct bz_opts bz_default(void)
{
	return (struct bz_opts){
	    .kernel_size = 8192,
	    .setup_sects = 3,
	    .version = 0x020f,
	    .xloadflags = BP_XLF_KERNEL_64 | 0x2,
	    .init_size = 4 * MiB,
	    .cmdline_size = 2047,
	    .initrd_max = 0x7fffffff,
	    .pref_address = 0x1000000,
	};
}

static struct img make_bzimage(const struct bz_opts *o)
{
	unsigned sects = o->setup_sects ? o->setup_sects : 4;
	size_t setup = (sects + 1) * 512;
	struct img im = img_alloc(setup + o->kernel_size);

	im.data[0] = 'M';
	im.data[1] = 'Z';
	im.data[BP_SETUP_SECTS] = o->setup_sects;
	boot_wr16(im.data + BP_BOOT_FLAG, BP_BOOT_FLAG_MAGIC);
	im.data[BP_JUMP] = 0xeb;
	im.data[BP_JUMP + 1] = 0x6a;
	boot_wr32(im.data + BP_HEADER, BP_HEADER_MAGIC);
	boot_wr16(im.data + BP_VERSION, o->version);
	im.data[BP_LOADFLAGS] = 0x01; /* LOADED_HIGH */
	boot_wr32(im.data + BP_INITRD_ADDR_MAX, o->initrd_max);
	boot_wr32(im.data + BP_KERNEL_ALIGNMENT, 0x200000);
	im.data[BP_RELOCATABLE_KERNEL] = 1;
	boot_wr16(im.data + BP_XLOADFLAGS, o->xloadflags);
	boot_wr32(im.data + BP_CMDLINE_SIZE, o->cmdline_size);
	boot_wr64(im.data + BP_PREF_ADDRESS, o->pref_address);
	boot_wr32(im.data + BP_INIT_SIZE, o->init_size);
	fill_pattern(im.data + setup, o->kernel_size, 0x11);
	return im;
}

struct seg {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

/* ELF header + program headers at offset 64 (or 52); the caller fills segment data. */
static struct img make_elf(bool is64, uint16_t machine, uint16_t type, uint64_t entry,
			   const struct seg *segs, unsigned n, size_t total)
{
	struct img im = img_alloc(total);
	uint8_t *e = im.data;
	size_t ehsz = is64 ? 64 : 52, phsz = is64 ? 56 : 32;

	memcpy(e,
	       "\x7f"
	       "ELF",
	       4);
	e[4] = is64 ? 2 : 1;
	e[5] = 1;
	e[6] = 1;
	boot_wr16(e + 16, type);
	boot_wr16(e + 18, machine);
	boot_wr32(e + 20, 1);
	if (is64) {
		boot_wr64(e + 24, entry);
		boot_wr64(e + 32, ehsz);
		boot_wr16(e + 52, (uint16_t)ehsz);
		boot_wr16(e + 54, (uint16_t)phsz);
		boot_wr16(e + 56, (uint16_t)n);
	} else {
		boot_wr32(e + 24, (uint32_t)entry);
		boot_wr32(e + 28, (uint32_t)ehsz);
		boot_wr16(e + 40, (uint16_t)ehsz);
		boot_wr16(e + 42, (uint16_t)phsz);
		boot_wr16(e + 44, (uint16_t)n);
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = e + ehsz + i * phsz;
		boot_wr32(p, segs[i].type);
		if (is64) {
			boot_wr64(p + 8, segs[i].offset);
			boot_wr64(p + 16, segs[i].vaddr);
			boot_wr64(p + 24, segs[i].paddr);
			boot_wr64(p + 32, segs[i].filesz);
			boot_wr64(p + 40, segs[i].memsz);
		} else {
			boot_wr32(p + 4, (uint32_t)segs[i].offset);
			boot_wr32(p + 8, (uint32_t)segs[i].vaddr);
			boot_wr32(p + 12, (uint32_t)segs[i].paddr);
			boot_wr32(p + 16, (uint32_t)segs[i].filesz);
			boot_wr32(p + 20, (uint32_t)segs[i].memsz);
		}
	}
	return im;
}

/* A vmlinux-like image: text linked at 0xffffffff81000000, loaded at 16 MiB. */
#define VML_PADDR 0x1000000ULL
#define VML_VADDR 0xffffffff81000000ULL

static struct img make_vmlinux(uint64_t entry)
{
	struct seg segs[] = {
	    {BOOT_ELF_PT_LOAD, 0x1000, VML_VADDR, VML_PADDR, 0x2000, 0x5000},
	    {BOOT_ELF_PT_LOAD, 0x3000, VML_VADDR + 0x10000, VML_PADDR + 0x10000, 0x800, 0x800},
	};
	struct img im =
	    make_elf(true, BOOT_ELF_EM_X86_64, BOOT_ELF_ET_EXEC, entry, segs, 2, 0x3800);
	fill_pattern(im.data + 0x1000, 0x2800, 0x22);
	return im;
}

#define PVH_ENTRY 0x1000040ULL

static struct img make_pvh(uint32_t descsz)
{
	struct seg segs[] = {
	    {BOOT_ELF_PT_LOAD, 0x1000, VML_VADDR, VML_PADDR, 0x1000, 0x1000},
	    {BOOT_ELF_PT_NOTE, 0x800, 0, 0, 0, 0},
	};
	uint8_t *note;
	/* An unrelated note first, so the scan has to walk. */
	size_t first = 12 + 4 + 8, len = first + 12 + 4 + descsz;
	segs[1].filesz = len;
	struct img im =
	    make_elf(true, BOOT_ELF_EM_X86_64, BOOT_ELF_ET_EXEC, 0x1000000, segs, 2, 0x2000);
	note = im.data + 0x800;
	boot_wr32(note, 4);
	boot_wr32(note + 4, 5); /* padded to 8 */
	boot_wr32(note + 8, 6);
	memcpy(note + 12, "Xen", 4);
	memcpy(note + 16, "linux", 5);
	note += first;
	boot_wr32(note, 4);
	boot_wr32(note + 4, descsz);
	boot_wr32(note + 8, BOOT_PVH_NOTE_PHYS32_ENTRY);
	memcpy(note + 12, "Xen", 4);
	if (descsz == 8)
		boot_wr64(note + 16, PVH_ENTRY);
	else
		boot_wr32(note + 16, (uint32_t)PVH_ENTRY);
	fill_pattern(im.data + 0x1000, 0x1000, 0x33);
	return im;
}

#define MB_HDR_OFF 0x40
#define MB_LOAD	   0x100000U

static void mb_header(uint8_t *h, uint32_t flags)
{
	boot_wr32(h, BOOT_MB_MAGIC);
	boot_wr32(h + 4, flags);
	boot_wr32(h + 8, (uint32_t)(0u - BOOT_MB_MAGIC - flags));
}

static struct img make_mb_aout(void)
{
	struct img im = img_alloc(0x400);
	uint8_t *h = im.data + MB_HDR_OFF;

	fill_pattern(im.data, im.size, 0x44);
	mb_header(h, 0x10003);
	boot_wr32(h + 12, MB_LOAD + MB_HDR_OFF); /* header_addr */
	boot_wr32(h + 16, MB_LOAD);		 /* load_addr */
	boot_wr32(h + 20, MB_LOAD + 0x300);	 /* load_end_addr */
	boot_wr32(h + 24, MB_LOAD + 0x2000);	 /* bss_end_addr */
	boot_wr32(h + 28, MB_LOAD + 0x80);	 /* entry_addr */
	return im;
}

static struct img make_mb_elf32(void)
{
	struct seg segs[] = {
	    {BOOT_ELF_PT_LOAD, 0x0, 0x200000, 0x200000, 0x1000, 0x3000},
	};
	struct img im =
	    make_elf(false, BOOT_ELF_EM_386, BOOT_ELF_ET_EXEC, 0x200100, segs, 1, 0x1000);
	fill_pattern(im.data + 0x100, 0xf00, 0x55);
	mb_header(im.data + 0x100, 0x3);
	return im;
}

static int load(struct guest_mem *gm, const struct img *im, const char *cmdline,
		const uint8_t *initrd, size_t initrd_size, struct boot_entry *e)
{
	struct boot_input in = {
	    .kernel = im->data,
	    .kernel_size = im->size,
	    .initrd = initrd,
	    .initrd_size = initrd_size,
	    .cmdline = cmdline,
	    .acpi_rsdp = 0xe0000,
	};
	return boot_load(gm, &in, e);
}

static int load_free(struct guest_mem *gm, struct img im, const char *cmdline,
		     const uint8_t *initrd, size_t initrd_size)
{
	struct boot_entry e;
	int ret = load(gm, &im, cmdline, initrd, initrd_size, &e);
	free(im.data);
	return ret;
}

/* ---- detection ---- */

static enum boot_format detect_bytes(const void *p, size_t n, const char **why)
{
	*why = NULL;
	return boot_detect(p, n, why);
}

static void assert_unknown(const void *p, size_t n, const char *why_substr)
{
	const char *why;
	assert_int_equal(detect_bytes(p, n, &why), BOOT_FMT_UNKNOWN);
	assert_non_null(why);
	assert_non_null(strstr(why, why_substr));
}

static void test_detect_formats(void **state)
{
	(void)state;
	const char *why;
	struct bz_opts o = bz_default();
	struct img im;

	im = make_bzimage(&o);
	assert_int_equal(detect_bytes(im.data, im.size, &why), BOOT_FMT_BZIMAGE);
	free(im.data);
	im = make_vmlinux(VML_PADDR);
	assert_int_equal(detect_bytes(im.data, im.size, &why), BOOT_FMT_ELF64);
	free(im.data);
	im = make_pvh(4);
	assert_int_equal(detect_bytes(im.data, im.size, &why), BOOT_FMT_ELF_PVH);
	free(im.data);
	im = make_pvh(8);
	assert_int_equal(detect_bytes(im.data, im.size, &why), BOOT_FMT_ELF_PVH);
	free(im.data);
	im = make_mb_aout();
	assert_int_equal(detect_bytes(im.data, im.size, &why), BOOT_FMT_MULTIBOOT);
	free(im.data);
	im = make_mb_elf32();
	assert_int_equal(detect_bytes(im.data, im.size, &why), BOOT_FMT_MULTIBOOT);
	free(im.data);

	static const uint8_t flat[] = {0xfa, 0xb8, 0x00, 0x10, 0x8e, 0xd8, 0xf4};
	assert_int_equal(detect_bytes(flat, sizeof(flat), &why), BOOT_FMT_FLAT);

	assert_string_equal(boot_format_name(BOOT_FMT_BZIMAGE), "bzImage");
	assert_string_equal(boot_format_name(BOOT_FMT_FLAT), "flat binary");
	assert_string_equal(boot_format_name((enum boot_format)99), "invalid");
}

static void test_detect_rejects(void **state)
{
	(void)state;
	static const uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00};
	static const uint8_t xz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00, 0x00, 0x04};
	static const uint8_t zst[] = {0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00};
	static const uint8_t bz2[] = {'B', 'Z', 'h', '9', 0x31, 0x41, 0x59, 0x26};
	static const uint8_t mz[] = {'M', 'Z', 0x90, 0x00, 0x03, 0x00, 0x00, 0x00};
	static const char script[] = "#!/bin/sh\necho hi\n";
	static const char text[] = "hello world\n\tthis is a README\r\n";
	struct bz_opts o;
	struct img im;

	assert_unknown("", 0, "empty");
	assert_unknown(NULL, 0, "empty");
	assert_unknown(gz, sizeof(gz), "compressed");
	assert_unknown(xz, sizeof(xz), "compressed");
	assert_unknown(zst, sizeof(zst), "compressed");
	assert_unknown(bz2, sizeof(bz2), "compressed");
	assert_unknown(mz, sizeof(mz), "PE");
	assert_unknown(script, strlen(script), "script");
	assert_unknown(text, strlen(text), "text");

	im = img_alloc(BOOT_FLAT_MAX_SIZE + 1);
	fill_pattern(im.data, im.size, 1);
	assert_unknown(im.data, im.size, "too large");
	im.size = BOOT_FLAT_MAX_SIZE;
	const char *why;
	assert_int_equal(detect_bytes(im.data, im.size, &why), BOOT_FMT_FLAT);
	free(im.data);

	/* ELF that is not an x86-64 executable. */
	struct seg s = {BOOT_ELF_PT_LOAD, 0x100, 0x200000, 0x200000, 0x10, 0x10};
	im = make_elf(true, BOOT_ELF_EM_X86_64, 3 /* ET_DYN */, 0x200000, &s, 1, 0x200);
	assert_unknown(im.data, im.size, "not an x86-64 executable");
	free(im.data);
	im = make_elf(true, 183 /* aarch64 */, BOOT_ELF_ET_EXEC, 0x200000, &s, 1, 0x200);
	assert_unknown(im.data, im.size, "not an x86-64 executable");
	free(im.data);
	im = make_elf(false, BOOT_ELF_EM_386, BOOT_ELF_ET_EXEC, 0x200000, &s, 1, 0x200);
	assert_unknown(im.data, im.size, "not an x86-64 executable");
	free(im.data);

	/* Linux headers we cannot boot. */
	o = bz_default();
	o.version = 0x0205;
	im = make_bzimage(&o);
	assert_unknown(im.data, im.size, "2.06");
	free(im.data);
	o = bz_default();
	o.xloadflags = 0;
	im = make_bzimage(&o);
	assert_unknown(im.data, im.size, "XLF_KERNEL_64");
	free(im.data);
	o = bz_default();
	im = make_bzimage(&o);
	assert_unknown(im.data, 0x210, "truncated");
	free(im.data);

	/* Multiboot magic with a wrong checksum. */
	im = make_mb_aout();
	boot_wr32(im.data + MB_HDR_OFF + 8, 0x12345678);
	assert_unknown(im.data, im.size, "checksum");
	free(im.data);
}

static void test_detect_mb_beyond_8k(void **state)
{
	(void)state;
	const char *why;
	struct img im = img_alloc(0x3000);

	fill_pattern(im.data, im.size, 9);
	mb_header(im.data + 0x2000, 0x3); /* first 8 KiB only: this is just data */
	assert_int_equal(detect_bytes(im.data, im.size, &why), BOOT_FMT_FLAT);
	mb_header(im.data + 0x1ff4, 0x3); /* ends exactly at 8 KiB */
	assert_int_equal(detect_bytes(im.data, im.size, &why), BOOT_FMT_MULTIBOOT);
	mb_header(im.data + 0x1ff4, 0x3);
	memset(im.data + 0x1ff4, 0x99, 12);
	mb_header(im.data + 0x1ff6, 0x3); /* not 4-byte aligned */
	assert_int_equal(detect_bytes(im.data, im.size, &why), BOOT_FMT_FLAT);
	free(im.data);
}

/* ---- zero page helpers ---- */

static void assert_e820_64m(struct guest_mem *gm)
{
	uint8_t *zp = gp(gm, BOOT_ZERO_PAGE, BP_SIZE);
	uint8_t *e = zp + BP_E820_TABLE;

	assert_int_equal(zp[BP_E820_ENTRIES], 3);
	assert_int_equal(boot_rd64(e), 0);
	assert_int_equal(boot_rd64(e + 8), 0x9fc00);
	assert_int_equal(boot_rd32(e + 16), BOOT_MEM_RAM);
	assert_int_equal(boot_rd64(e + 20), 0x9fc00);
	assert_int_equal(boot_rd64(e + 28), 0x100000 - 0x9fc00);
	assert_int_equal(boot_rd32(e + 36), BOOT_MEM_RESERVED);
	assert_int_equal(boot_rd64(e + 40), 0x100000);
	assert_int_equal(boot_rd64(e + 48), RAM_SIZE - 0x100000);
	assert_int_equal(boot_rd32(e + 56), BOOT_MEM_RAM);
}

static void assert_gdt_and_pagetables(struct guest_mem *gm, bool long_mode)
{
	uint8_t *gdt = gp(gm, BOOT_GDT_ADDR, 32);

	assert_int_equal(boot_rd64(gdt), 0);
	assert_int_equal(boot_rd64(gdt + 8), 0x00af9b000000ffffULL);
	assert_int_equal(boot_rd64(gdt + 16), 0x00cf9b000000ffffULL);
	assert_int_equal(boot_rd64(gdt + 24), 0x00cf93000000ffffULL);
	if (!long_mode)
		return;
	uint8_t *pt = gp(gm, BOOT_PML4_ADDR, 0x6000);
	assert_int_equal(boot_rd64(pt), 0xa003);
	assert_int_equal(boot_rd64(pt + 8), 0); /* only the first 512 GiB */
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(boot_rd64(pt + 0x1000 + i * 8), (0xb000 + i * 0x1000) | 3);
	assert_int_equal(boot_rd64(pt + 0x1000 + 4 * 8), 0);
	assert_int_equal(boot_rd64(pt + 0x2000), 0x83);
	assert_int_equal(boot_rd64(pt + 0x2000 + 8), 0x200083);
	assert_int_equal(boot_rd64(pt + 0x5000 + 511 * 8), (2047ULL << 21) | 0x83);
}

/* ---- bzImage ---- */

static void test_bzimage_load(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct bz_opts o = bz_default();
	struct img im = make_bzimage(&o);
	uint8_t initrd[10000];
	struct boot_entry e;
	const char *cmd = "console=ttyS0 root=/dev/vda";

	fill_pattern(initrd, sizeof(initrd), 0x66);
	assert_int_equal(load(gm, &im, cmd, initrd, sizeof(initrd), &e), 0);
	assert_int_equal(e.format, BOOT_FMT_BZIMAGE);
	assert_int_equal(e.mode, BOOT_MODE_LONG64);
	assert_int_equal(e.rip, 0x100200);
	assert_int_equal(e.rsi, BOOT_ZERO_PAGE);
	assert_int_equal(e.cr3, BOOT_PML4_ADDR);
	assert_int_equal(e.gdt_base, BOOT_GDT_ADDR);
	assert_int_equal(e.gdt_limit, 31);
	assert_int_equal(e.idt_base, BOOT_IDT_ADDR);
	assert_int_equal(e.rflags, 2);

	/* Protected-mode kernel copied from (setup_sects + 1) * 512. */
	assert_memory_equal(gp(gm, 0x100000, o.kernel_size), im.data + 4 * 512, o.kernel_size);

	uint8_t *zp = gp(gm, BOOT_ZERO_PAGE, BP_SIZE);
	assert_int_equal(boot_rd32(zp + BP_HEADER), BP_HEADER_MAGIC);
	assert_int_equal(boot_rd16(zp + BP_VERSION), 0x020f);
	assert_int_equal(zp[BP_SETUP_SECTS], 3);
	assert_int_equal(zp[BP_TYPE_OF_LOADER], 0xff);
	assert_int_equal(zp[BP_LOADFLAGS], 0x81);
	assert_int_equal(boot_rd16(zp + BP_HEAP_END_PTR), 0xfe00);
	assert_int_equal(boot_rd32(zp + BP_INIT_SIZE), 4 * MiB);
	assert_int_equal(boot_rd32(zp + BP_CMD_LINE_PTR), BOOT_CMDLINE_ADDR);
	assert_string_equal((char *)gp(gm, BOOT_CMDLINE_ADDR, 64), cmd);
	assert_int_equal(boot_rd64(zp + BP_ACPI_RSDP_ADDR), 0xe0000);
	/* Bytes past the setup header are ours, not the image's. */
	assert_int_equal(zp[0x1f0], 0);
	assert_int_equal(zp[BP_HDR_END], 0);

	/* initrd at the top of RAM, page aligned. */
	uint32_t rd = boot_rd32(zp + BP_RAMDISK_IMAGE);
	assert_int_equal(rd, ALIGN_DOWN(RAM_SIZE - sizeof(initrd), 4096));
	assert_int_equal(boot_rd32(zp + BP_RAMDISK_SIZE), sizeof(initrd));
	assert_int_equal(boot_rd32(zp + BP_EXT_RAMDISK_IMAGE), 0);
	assert_int_equal(boot_rd32(zp + BP_EXT_RAMDISK_SIZE), 0);
	assert_memory_equal(gp(gm, rd, sizeof(initrd)), initrd, sizeof(initrd));

	assert_e820_64m(gm);
	assert_gdt_and_pagetables(gm, true);
	free(im.data);
}

static void test_bzimage_setup_sects_zero(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct bz_opts o = bz_default();
	struct img im;
	struct boot_entry e;

	o.setup_sects = 0; /* means 4 */
	im = make_bzimage(&o);
	assert_int_equal(im.size, 5 * 512 + o.kernel_size);
	assert_int_equal(load(gm, &im, NULL, NULL, 0, &e), 0);
	assert_memory_equal(gp(gm, 0x100000, o.kernel_size), im.data + 5 * 512, o.kernel_size);
	assert_int_equal(*gp(gm, BOOT_CMDLINE_ADDR, 1), 0);
	assert_int_equal(boot_rd32(gp(gm, BOOT_ZERO_PAGE + BP_RAMDISK_IMAGE, 4)), 0);
	free(im.data);
}

static void test_bzimage_initrd_respects_max(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct bz_opts o = bz_default();
	uint8_t initrd[5000];
	struct boot_entry e;
	struct img im;

	fill_pattern(initrd, sizeof(initrd), 1);
	o.initrd_max = 0x2ffffff; /* last usable byte below 48 MiB */
	im = make_bzimage(&o);
	assert_int_equal(load(gm, &im, "", initrd, sizeof(initrd), &e), 0);
	uint32_t rd = boot_rd32(gp(gm, BOOT_ZERO_PAGE + BP_RAMDISK_IMAGE, 4));
	assert_int_equal(rd, ALIGN_DOWN(0x3000000 - sizeof(initrd), 4096));
	assert_true(rd + sizeof(initrd) - 1 <= o.initrd_max);
	free(im.data);

	/*
	 * The top slot overlaps the kernel's init_size area; below the kernel
	 * (which starts at 1 MiB) there is no room either.
	 */
	gm = fresh(state);
	o = bz_default();
	o.init_size = 48 * MiB - 0x1000; /* 16 MiB .. 64 MiB - 4 KiB */
	im = make_bzimage(&o);
	assert_int_equal(load(gm, &im, "", initrd, sizeof(initrd), &e), -ENOMEM);
	free(im.data);
}

static struct img vmlinux_with_seg(struct seg s)
{
	struct seg segs[] = {{BOOT_ELF_PT_LOAD, 0x1000, VML_VADDR, VML_PADDR, 0x100, 0x100}, s};
	return make_elf(true, BOOT_ELF_EM_X86_64, BOOT_ELF_ET_EXEC, VML_PADDR, segs, 2, 0x2000);
}

static void test_initrd_below_kernel(void **state)
{
	struct guest_mem *gm = fresh(state);
	uint8_t initrd[5000];
	struct boot_entry e;
	/* Kernel occupies 16 MiB .. 64 MiB - 4 KiB: the initrd goes just below it. */
	struct img im = vmlinux_with_seg(
	    (struct seg){BOOT_ELF_PT_LOAD, 0x1000, 0, 0x3000000, 0x100, 16 * MiB - 0x1000});

	fill_pattern(initrd, sizeof(initrd), 3);
	assert_int_equal(load(gm, &im, "", initrd, sizeof(initrd), &e), 0);
	uint32_t rd = boot_rd32(gp(gm, BOOT_ZERO_PAGE + BP_RAMDISK_IMAGE, 4));
	assert_int_equal(rd, ALIGN_DOWN(VML_PADDR - sizeof(initrd), 4096));
	assert_memory_equal(gp(gm, rd, sizeof(initrd)), initrd, sizeof(initrd));
	free(im.data);
}

static void test_bzimage_cmdline_size(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct bz_opts o = bz_default();
	struct boot_entry e;
	struct img im;

	o.cmdline_size = 16;
	im = make_bzimage(&o);
	assert_int_equal(load(gm, &im, "0123456789abcdef", NULL, 0, &e), 0);
	assert_string_equal((char *)gp(gm, BOOT_CMDLINE_ADDR, 17), "0123456789abcdef");
	assert_int_equal(load(gm, &im, "0123456789abcdefg", NULL, 0, &e), -E2BIG);
	assert_int_equal(e.rip, 0); /* entry cleared on failure */
	free(im.data);

	/* Longer than our whole cmdline area. */
	char *big = malloc(BOOT_CMDLINE_MAX + 10);
	assert_non_null(big);
	memset(big, 'a', BOOT_CMDLINE_MAX + 9);
	big[BOOT_CMDLINE_MAX + 9] = 0;
	o.cmdline_size = UINT32_MAX;
	im = make_bzimage(&o);
	assert_int_equal(load(gm, &im, big, NULL, 0, &e), -E2BIG);
	big[BOOT_CMDLINE_MAX - 1] = 0;
	assert_int_equal(load(gm, &im, big, NULL, 0, &e), 0);
	free(im.data);
	free(big);
}

static void test_bzimage_hostile(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct bz_opts o;
	static uint8_t initrd[4096];

	/* setup_sects 255: the kernel would start past the end of the file. */
	o = bz_default();
	o.setup_sects = 255;
	struct img im = make_bzimage(&o);
	im.size = 4096;
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);

	/* Kernel bigger than RAM by init_size, by pref_address, by file size. */
	o = bz_default();
	o.init_size = 64 * MiB;
	assert_int_equal(load_free(gm, make_bzimage(&o), NULL, NULL, 0), -ENOMEM);
	o = bz_default();
	o.pref_address = UINT64_MAX - 10;
	assert_int_equal(load_free(gm, make_bzimage(&o), NULL, NULL, 0), -ENOMEM);
	o = bz_default();
	o.kernel_size = 64 * MiB;
	o.init_size = 0;
	assert_int_equal(load_free(gm, make_bzimage(&o), NULL, NULL, 0), -ENOMEM);

	/* initrd too big, or initrd_addr_max too low for any placement. */
	o = bz_default();
	{
		size_t big = 60 * MiB;
		uint8_t *rd = calloc(1, big);
		assert_non_null(rd);
		assert_int_equal(load_free(gm, make_bzimage(&o), NULL, rd, big), -ENOMEM);
		free(rd);
	}
	o.initrd_max = 0;
	assert_int_equal(load_free(gm, make_bzimage(&o), NULL, initrd, sizeof(initrd)), -ENOMEM);
	o.initrd_max = 0x100fff; /* only room below 1 MiB + 4 KiB: overlaps kernel */
	assert_int_equal(load_free(gm, make_bzimage(&o), NULL, initrd, sizeof(initrd)), -ENOMEM);

	/* cmdline_size 0 still takes an empty command line. */
	o = bz_default();
	o.cmdline_size = 0;
	assert_int_equal(load_free(gm, make_bzimage(&o), "", NULL, 0), 0);
	assert_int_equal(load_free(gm, make_bzimage(&o), "x", NULL, 0), -E2BIG);
}

/* ---- ELF64 / PVH ---- */

static void test_elf64_load(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct img im = make_vmlinux(VML_PADDR + 0x100);
	uint8_t initrd[3000];
	struct boot_entry e;

	fill_pattern(initrd, sizeof(initrd), 0x77);
	assert_int_equal(load(gm, &im, "quiet", initrd, sizeof(initrd), &e), 0);
	assert_int_equal(e.format, BOOT_FMT_ELF64);
	assert_int_equal(e.mode, BOOT_MODE_LONG64);
	assert_int_equal(e.rip, VML_PADDR + 0x100);
	assert_int_equal(e.rsi, BOOT_ZERO_PAGE);
	assert_int_equal(e.cr3, BOOT_PML4_ADDR);

	/* Segment bytes at p_paddr, bss zeroed. */
	assert_memory_equal(gp(gm, VML_PADDR, 0x2000), im.data + 0x1000, 0x2000);
	uint8_t *bss = gp(gm, VML_PADDR + 0x2000, 0x3000);
	for (size_t i = 0; i < 0x3000; i++)
		assert_int_equal(bss[i], 0);
	assert_memory_equal(gp(gm, VML_PADDR + 0x10000, 0x800), im.data + 0x3000, 0x800);

	/* Zero page built like bzImage's. */
	uint8_t *zp = gp(gm, BOOT_ZERO_PAGE, BP_SIZE);
	assert_int_equal(boot_rd16(zp + BP_BOOT_FLAG), BP_BOOT_FLAG_MAGIC);
	assert_int_equal(boot_rd32(zp + BP_HEADER), BP_HEADER_MAGIC);
	assert_int_equal(zp[BP_TYPE_OF_LOADER], 0xff);
	assert_int_equal(boot_rd32(zp + BP_CMD_LINE_PTR), BOOT_CMDLINE_ADDR);
	assert_string_equal((char *)gp(gm, BOOT_CMDLINE_ADDR, 8), "quiet");
	uint32_t rd = boot_rd32(zp + BP_RAMDISK_IMAGE);
	assert_int_equal(rd, ALIGN_DOWN(RAM_SIZE - sizeof(initrd), 4096));
	assert_int_equal(boot_rd32(zp + BP_RAMDISK_SIZE), sizeof(initrd));
	assert_memory_equal(gp(gm, rd, sizeof(initrd)), initrd, sizeof(initrd));
	assert_e820_64m(gm);
	assert_gdt_and_pagetables(gm, true);
	free(im.data);
}

static void test_elf64_virtual_entry(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct img im = make_vmlinux(VML_VADDR + 0x10010);
	struct boot_entry e;

	assert_int_equal(load(gm, &im, NULL, NULL, 0, &e), 0);
	assert_int_equal(e.rip, VML_PADDR + 0x10010);
	free(im.data);

	/* An entry outside every segment and outside RAM. */
	im = make_vmlinux(0x7fff000000ULL);
	assert_int_equal(load(gm, &im, NULL, NULL, 0, &e), -ENOEXEC);
	free(im.data);
}

static void test_elf_hostile(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct img im;
	const char *why;

	/* Truncated: ident says ELF64 x86-64 executable, the rest is missing. */
	im = make_vmlinux(VML_PADDR);
	im.size = 40;
	assert_int_equal(detect_bytes(im.data, im.size, &why), BOOT_FMT_ELF64);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);

	/* Program header table past EOF, and with an overflowing offset. */
	im = make_vmlinux(VML_PADDR);
	boot_wr64(im.data + 32, im.size - 10);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);
	im = make_vmlinux(VML_PADDR);
	boot_wr64(im.data + 32, UINT64_MAX - 8);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);
	im = make_vmlinux(VML_PADDR);
	boot_wr16(im.data + 56, 0); /* e_phnum 0 */
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);
	im = make_vmlinux(VML_PADDR);
	boot_wr16(im.data + 54, 8); /* e_phentsize too small */
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);

	/* p_offset + p_filesz overflows / runs past EOF. */
	assert_int_equal(load_free(gm,
				   vmlinux_with_seg((struct seg){BOOT_ELF_PT_LOAD, UINT64_MAX - 10,
								 0, 0x2000000, 100, 100}),
				   NULL, NULL, 0),
			 -ENOEXEC);
	assert_int_equal(load_free(gm,
				   vmlinux_with_seg((struct seg){BOOT_ELF_PT_LOAD, 0x1f00, 0,
								 0x2000000, 0x200, 0x200}),
				   NULL, NULL, 0),
			 -ENOEXEC);
	/* p_filesz > p_memsz. */
	assert_int_equal(load_free(gm,
				   vmlinux_with_seg((struct seg){BOOT_ELF_PT_LOAD, 0x1000, 0,
								 0x2000000, 0x200, 0x100}),
				   NULL, NULL, 0),
			 -ENOEXEC);
	/* Segments outside RAM: past the end, in the hole, wrapping, below 1 MiB. */
	assert_int_equal(load_free(gm,
				   vmlinux_with_seg((struct seg){BOOT_ELF_PT_LOAD, 0x1000, 0,
								 RAM_SIZE - 0x1000, 0x100, 0x2000}),
				   NULL, NULL, 0),
			 -ENOMEM);
	assert_int_equal(load_free(gm,
				   vmlinux_with_seg((struct seg){BOOT_ELF_PT_LOAD, 0x1000, 0,
								 0xd0000000, 0x100, 0x100}),
				   NULL, NULL, 0),
			 -ENOMEM);
	assert_int_equal(load_free(gm,
				   vmlinux_with_seg((struct seg){BOOT_ELF_PT_LOAD, 0x1000, 0,
								 UINT64_MAX - 0x10, 0x100, 0x100}),
				   NULL, NULL, 0),
			 -ENOMEM);
	assert_int_equal(load_free(gm,
				   vmlinux_with_seg((struct seg){BOOT_ELF_PT_LOAD, 0x1000, 0,
								 0x7000, 0x100, 0x100}),
				   NULL, NULL, 0),
			 -ENOEXEC);
	/* Kernel bigger than RAM. */
	assert_int_equal(load_free(gm,
				   vmlinux_with_seg((struct seg){BOOT_ELF_PT_LOAD, 0x1000, 0,
								 0x2000000, 0x100, 128 * MiB}),
				   NULL, NULL, 0),
			 -ENOMEM);
	/* A failed load has not written anything: segments are validated first. */
	assert_int_equal(*gp(gm, VML_PADDR, 1), 0xcc);
}

static void test_pvh_load(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct img im = make_pvh(8);
	uint8_t initrd[2000];
	struct boot_entry e;
	struct boot_pvh_start_info si;
	struct boot_pvh_modlist_entry mod;
	struct boot_pvh_memmap_entry mm[3];

	fill_pattern(initrd, sizeof(initrd), 0x12);
	assert_int_equal(load(gm, &im, "pvh cmd", initrd, sizeof(initrd), &e), 0);
	assert_int_equal(e.format, BOOT_FMT_ELF_PVH);
	assert_int_equal(e.mode, BOOT_MODE_PROT32);
	assert_int_equal(e.rip, PVH_ENTRY);
	assert_int_equal(e.rbx, BOOT_INFO_ADDR);
	assert_int_equal(e.cr3, 0);
	assert_int_equal(e.gdt_base, BOOT_GDT_ADDR);

	assert_int_equal(guest_mem_read(gm, BOOT_INFO_ADDR, &si, sizeof(si)), 0);
	assert_int_equal(si.magic, 0x336ec578);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.cmdline_paddr, BOOT_CMDLINE_ADDR);
	assert_string_equal((char *)gp(gm, si.cmdline_paddr, 8), "pvh cmd");
	assert_int_equal(si.rsdp_paddr, 0xe0000);
	assert_int_equal(si.nr_modules, 1);
	assert_int_equal(guest_mem_read(gm, si.modlist_paddr, &mod, sizeof(mod)), 0);
	assert_int_equal(mod.size, sizeof(initrd));
	assert_int_equal(mod.paddr, ALIGN_DOWN(RAM_SIZE - sizeof(initrd), 4096));
	assert_memory_equal(gp(gm, mod.paddr, sizeof(initrd)), initrd, sizeof(initrd));
	assert_int_equal(si.memmap_entries, 3);
	assert_int_equal(guest_mem_read(gm, si.memmap_paddr, mm, sizeof(mm)), 0);
	assert_int_equal(mm[0].addr, 0);
	assert_int_equal(mm[0].size, 0x9fc00);
	assert_int_equal(mm[1].type, BOOT_MEM_RESERVED);
	assert_int_equal(mm[2].addr, 0x100000);
	assert_int_equal(mm[2].size, RAM_SIZE - 0x100000);
	assert_int_equal(mm[2].type, BOOT_MEM_RAM);
	assert_gdt_and_pagetables(gm, false);
	free(im.data);

	/* 4-byte descriptor, no initrd. */
	gm = fresh(state);
	im = make_pvh(4);
	assert_int_equal(load(gm, &im, NULL, NULL, 0, &e), 0);
	assert_int_equal(e.rip, PVH_ENTRY);
	assert_int_equal(guest_mem_read(gm, BOOT_INFO_ADDR, &si, sizeof(si)), 0);
	assert_int_equal(si.nr_modules, 0);
	assert_int_equal(si.modlist_paddr, 0);
	free(im.data);

	/* PVH entry outside RAM. */
	im = make_pvh(4);
	boot_wr32(im.data + 0x800 + 24 + 16, 0xd0000000);
	assert_int_equal(load(gm, &im, NULL, NULL, 0, &e), -ENOEXEC);
	free(im.data);
}

/* ---- multiboot ---- */

static void test_multiboot_aout(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct img im = make_mb_aout();
	uint8_t initrd[5000];
	struct boot_entry e;
	struct boot_mb_info mbi;
	struct boot_mb_module mod;
	struct boot_mb_mmap_entry mm[3];

	fill_pattern(initrd, sizeof(initrd), 0x21);
	assert_int_equal(load(gm, &im, "mb args", initrd, sizeof(initrd), &e), 0);
	assert_int_equal(e.format, BOOT_FMT_MULTIBOOT);
	assert_int_equal(e.mode, BOOT_MODE_PROT32);
	assert_int_equal(e.rip, MB_LOAD + 0x80);
	assert_int_equal(e.rax, 0x2BADB002);
	assert_int_equal(e.rbx, BOOT_INFO_ADDR);

	/* File bytes [0, 0x300) at load_addr, then bss to bss_end_addr. */
	assert_memory_equal(gp(gm, MB_LOAD, 0x300), im.data, 0x300);
	uint8_t *bss = gp(gm, MB_LOAD + 0x300, 0x2000 - 0x300);
	for (size_t i = 0; i < 0x2000 - 0x300; i++)
		assert_int_equal(bss[i], 0);
	assert_int_equal(*gp(gm, MB_LOAD + 0x2000, 1), 0xcc);

	assert_int_equal(guest_mem_read(gm, BOOT_INFO_ADDR, &mbi, sizeof(mbi)), 0);
	assert_int_equal(mbi.flags & 0x24d, 0x24d); /* mem, cmdline, mods, mmap, loader name */
	assert_int_equal(mbi.mem_lower, 639);
	assert_int_equal(mbi.mem_upper, (RAM_SIZE - MiB) / 1024);
	assert_string_equal((char *)gp(gm, mbi.cmdline, 8), "mb args");
	assert_string_equal((char *)gp(gm, mbi.boot_loader_name, 7), "sluice");
	assert_int_equal(mbi.mods_count, 1);
	assert_int_equal(guest_mem_read(gm, mbi.mods_addr, &mod, sizeof(mod)), 0);
	assert_int_equal(mod.mod_start, ALIGN_DOWN(RAM_SIZE - sizeof(initrd), 4096));
	assert_int_equal(mod.mod_end - mod.mod_start, sizeof(initrd));
	assert_int_equal(mod.mod_start % 4096, 0);
	assert_memory_equal(gp(gm, mod.mod_start, sizeof(initrd)), initrd, sizeof(initrd));
	assert_int_equal(mbi.mmap_length, 3 * 24);
	assert_int_equal(guest_mem_read(gm, mbi.mmap_addr, mm, sizeof(mm)), 0);
	assert_int_equal(mm[0].size, 20);
	assert_int_equal(mm[0].len, 0x9fc00);
	assert_int_equal(mm[2].addr, 0x100000);
	assert_int_equal(mm[2].len, RAM_SIZE - 0x100000);
	assert_int_equal(mm[2].type, 1);
	assert_gdt_and_pagetables(gm, false);
	free(im.data);

	/* load_end_addr 0 means "to the end of the file". */
	gm = fresh(state);
	im = make_mb_aout();
	boot_wr32(im.data + MB_HDR_OFF + 20, 0);
	boot_wr32(im.data + MB_HDR_OFF + 24, 0);
	assert_int_equal(load(gm, &im, NULL, NULL, 0, &e), 0);
	assert_memory_equal(gp(gm, MB_LOAD, im.size), im.data, im.size);
	assert_int_equal(*gp(gm, MB_LOAD + im.size, 1), 0xcc);
	free(im.data);
}

static void test_multiboot_elf32(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct img im = make_mb_elf32();
	struct boot_entry e;
	struct boot_mb_info mbi;

	assert_int_equal(load(gm, &im, NULL, NULL, 0, &e), 0);
	assert_int_equal(e.format, BOOT_FMT_MULTIBOOT);
	assert_int_equal(e.rip, 0x200100);
	assert_int_equal(e.rax, 0x2BADB002);
	assert_memory_equal(gp(gm, 0x200000, 0x1000), im.data, 0x1000);
	assert_int_equal(*gp(gm, 0x202fff, 1), 0);
	assert_int_equal(guest_mem_read(gm, BOOT_INFO_ADDR, &mbi, sizeof(mbi)), 0);
	assert_int_equal(mbi.flags & 0x8, 0); /* no modules */
	assert_int_equal(*gp(gm, mbi.cmdline, 1), 0);
	free(im.data);
}

static void test_multiboot_elf64(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct img im = make_vmlinux(VML_PADDR + 0x40);
	struct boot_entry e;
	const char *why;

	/* An ELF64 with a multiboot header is booted by multiboot (32-bit entry). */
	mb_header(im.data + 0x1000, 0x2);
	assert_int_equal(detect_bytes(im.data, im.size, &why), BOOT_FMT_MULTIBOOT);
	assert_int_equal(load(gm, &im, NULL, NULL, 0, &e), 0);
	assert_int_equal(e.mode, BOOT_MODE_PROT32);
	assert_int_equal(e.rip, VML_PADDR + 0x40);
	free(im.data);
}

static void test_multiboot_hostile(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct img im;

	/* Bad checksum: rejected by detection, boot_load fails cleanly. */
	im = make_mb_aout();
	boot_wr32(im.data + MB_HDR_OFF + 8, 0);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);

	/* Required flag we do not support (video mode). */
	im = make_mb_aout();
	mb_header(im.data + MB_HDR_OFF, 0x10007);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);

	/* load_addr > header_addr. */
	im = make_mb_aout();
	boot_wr32(im.data + MB_HDR_OFF + 16, MB_LOAD + 0x1000);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);
	/* header_addr - load_addr puts the image start before the file. */
	im = make_mb_aout();
	boot_wr32(im.data + MB_HDR_OFF + 16, MB_LOAD - 0x1000);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);
	/* load_end_addr past the end of the file / before load_addr. */
	im = make_mb_aout();
	boot_wr32(im.data + MB_HDR_OFF + 20, MB_LOAD + 0x401);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);
	im = make_mb_aout();
	boot_wr32(im.data + MB_HDR_OFF + 20, MB_LOAD - 1);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);
	/* bss_end below load_end. */
	im = make_mb_aout();
	boot_wr32(im.data + MB_HDR_OFF + 24, MB_LOAD + 0x100);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);
	/* Entry outside the image. */
	im = make_mb_aout();
	boot_wr32(im.data + MB_HDR_OFF + 28, MB_LOAD + 0x2000);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);
	/* Image beyond RAM (bss to almost 4 GiB). */
	im = make_mb_aout();
	boot_wr32(im.data + MB_HDR_OFF + 24, 0xfffff000);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOMEM);
	/* Header truncated by the end of the file (a.out fields missing). */
	im = make_mb_aout();
	memmove(im.data + im.size - 16, im.data + MB_HDR_OFF, 12);
	memset(im.data + MB_HDR_OFF, 0, 12);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);
	/* No a.out kludge and not ELF. */
	im = make_mb_aout();
	mb_header(im.data + MB_HDR_OFF, 0x3);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);
	/* ELF32 with a segment outside RAM. */
	im = make_mb_elf32();
	boot_wr32(im.data + 52 + 12, 0x7ffff000); /* p_paddr */
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOMEM);
}

/* ---- multiboot images below 1 MiB: boot data goes around the image ---- */

#define MB_SEG_DATA 0x1000 /* file offset of the first segment's bytes */

/* A multiboot ELF32 (no a.out kludge) with these PT_LOADs; offsets are assigned here. */
static struct img make_mb_elf_segs(struct seg *segs, unsigned n, uint64_t entry)
{
	uint64_t off = MB_SEG_DATA;
	struct img im;

	for (unsigned i = 0; i < n; i++) {
		segs[i].type = BOOT_ELF_PT_LOAD;
		segs[i].offset = off;
		segs[i].vaddr = segs[i].paddr;
		off += segs[i].filesz;
	}
	im = make_elf(false, BOOT_ELF_EM_386, BOOT_ELF_ET_EXEC, entry, segs, n, off);
	fill_pattern(im.data + MB_SEG_DATA, off - MB_SEG_DATA, 0x66);
	mb_header(im.data + 0x100, 0x3);
	return im;
}

/* Each segment holds its file bytes and zeroed bss after the load. */
static void assert_segments_intact(struct guest_mem *gm, const struct img *im,
				   const struct seg *segs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = gp(gm, segs[i].paddr, segs[i].memsz);

		assert_memory_equal(p, im->data + segs[i].offset, segs[i].filesz);
		for (uint64_t j = segs[i].filesz; j < segs[i].memsz; j++)
			assert_int_equal(p[j], 0);
	}
}

struct mb_range_t {
	uint64_t start, len;
	const char *what;
};

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * Every piece of boot data the entry and the info structure point to is in
 * RAM, above the IVT/BDA, outside the reserved BIOS area, outside every
 * segment and disjoint from the other pieces; the contents are right.
 */
static void assert_mb_boot_data(struct guest_mem *gm, const struct boot_entry *e,
				const struct seg *segs, unsigned n, const char *cmdline,
				const uint8_t *initrd, size_t initrd_size)
{
	struct mb_range_t r[12];
	unsigned nr = 0;
	struct boot_mb_info mbi;
	struct boot_mb_module mod;
	struct boot_mb_mmap_entry mm[3];
	uint8_t *gdt;

	assert_int_equal(e->format, BOOT_FMT_MULTIBOOT);
	assert_int_equal(e->mode, BOOT_MODE_PROT32);
	assert_int_equal(e->rax, 0x2BADB002);
	assert_int_equal(guest_mem_read(gm, e->rbx, &mbi, sizeof(mbi)), 0);
	assert_int_equal(mbi.flags & 0x245, 0x245); /* mem, cmdline, mmap, loader name */
	r[nr++] = (struct mb_range_t){e->rbx, sizeof(mbi), "info"};
	assert_string_equal((char *)gp(gm, mbi.cmdline, strlen(cmdline) + 1), cmdline);
	r[nr++] = (struct mb_range_t){mbi.cmdline, strlen(cmdline) + 1, "cmdline"};
	assert_string_equal((char *)gp(gm, mbi.boot_loader_name, 7), "sluice");
	r[nr++] = (struct mb_range_t){mbi.boot_loader_name, 7, "loader name"};
	assert_int_equal(mbi.mmap_length, 3 * 24);
	assert_int_equal(guest_mem_read(gm, mbi.mmap_addr, mm, sizeof(mm)), 0);
	assert_int_equal(mm[0].addr, 0);
	assert_int_equal(mm[0].len, 0x9fc00);
	assert_int_equal(mm[1].type, BOOT_MEM_RESERVED);
	assert_int_equal(mm[2].addr, 0x100000);
	assert_int_equal(mm[2].len, RAM_SIZE - 0x100000);
	r[nr++] = (struct mb_range_t){mbi.mmap_addr, mbi.mmap_length, "mmap"};
	if (initrd) {
		assert_int_equal(mbi.flags & 0x8, 0x8);
		assert_int_equal(mbi.mods_count, 1);
		assert_int_equal(guest_mem_read(gm, mbi.mods_addr, &mod, sizeof(mod)), 0);
		r[nr++] = (struct mb_range_t){mbi.mods_addr, sizeof(mod), "module list"};
		assert_int_equal(mod.mod_start % 4096, 0);
		assert_int_equal(mod.mod_end - mod.mod_start, initrd_size);
		assert_memory_equal(gp(gm, mod.mod_start, initrd_size), initrd, initrd_size);
		r[nr++] = (struct mb_range_t){mod.mod_start, initrd_size, "module"};
		assert_string_equal((char *)gp(gm, mod.string, 7), "initrd");
		r[nr++] = (struct mb_range_t){mod.string, 7, "module string"};
	} else {
		assert_int_equal(mbi.flags & 0x8, 0);
	}
	/* The GDT and IDT the entry registers point to, and the stack below ESP. */
	assert_int_equal(e->gdt_limit, 31);
	assert_int_equal(e->idt_limit, 15);
	gdt = gp(gm, e->gdt_base, 32);
	assert_int_equal(boot_rd64(gdt + 16), 0x00cf9b000000ffffULL);
	assert_int_equal(boot_rd64(gdt + 24), 0x00cf93000000ffffULL);
	r[nr++] = (struct mb_range_t){e->gdt_base, 32, "GDT"};
	r[nr++] = (struct mb_range_t){e->idt_base, 16, "IDT"};
	assert_int_equal(e->rsp % 16, 0);
	r[nr++] = (struct mb_range_t){e->rsp - 0xff0, 0x1000, "stack"};

	for (unsigned i = 0; i < nr; i++) {
		assert_non_null(guest_mem_ptr(gm, r[i].start, r[i].len));
		assert_true(r[i].start >= 0x500);
		assert_true(r[i].start + r[i].len <= 0x100000000ULL);
		assert_false(ranges_overlap(r[i].start, r[i].len, 0x9fc00, 0x100000 - 0x9fc00));
		for (unsigned j = 0; j < n; j++)
			assert_false(
			    ranges_overlap(r[i].start, r[i].len, segs[j].paddr, segs[j].memsz));
		for (unsigned j = i + 1; j < nr; j++)
			assert_false(ranges_overlap(r[i].start, r[i].len, r[j].start, r[j].len));
	}
}

static void test_multiboot_low_segment(void **state)
{
	struct guest_mem *gm = fresh(state);
	/* The reported image: code at 0x8000, over the usual boot stack. */
	struct seg segs[] = {{.paddr = 0x8000, .filesz = 0x800, .memsz = 0x1000}};
	struct img im = make_mb_elf_segs(segs, 1, 0x8010);
	uint8_t initrd[3000];
	struct boot_entry e;

	fill_pattern(initrd, sizeof(initrd), 0x31);
	assert_int_equal(load(gm, &im, "low args", initrd, sizeof(initrd), &e), 0);
	assert_int_equal(e.rip, 0x8010);
	assert_segments_intact(gm, &im, segs, 1);
	assert_mb_boot_data(gm, &e, segs, 1, "low args", initrd, sizeof(initrd));
	/* What did not collide stays where it always was. */
	assert_int_equal(e.rbx, BOOT_INFO_ADDR);
	assert_int_equal(e.gdt_base, BOOT_GDT_ADDR);
	assert_int_equal(*gp(gm, BOOT_CMDLINE_ADDR, 1), 'l');
	assert_true(e.rsp != BOOT_STACK_TOP);
	free(im.data);

	/* a.out kludge addresses at 0x8000 too. */
	gm = fresh(state);
	im = make_mb_aout();
	boot_wr32(im.data + MB_HDR_OFF + 12, 0x8000 + MB_HDR_OFF);
	boot_wr32(im.data + MB_HDR_OFF + 16, 0x8000);
	boot_wr32(im.data + MB_HDR_OFF + 20, 0x8000 + 0x300);
	boot_wr32(im.data + MB_HDR_OFF + 24, 0x8000 + 0x2000);
	boot_wr32(im.data + MB_HDR_OFF + 28, 0x8000 + 0x80);
	segs[0] = (struct seg){.paddr = 0x8000, .offset = 0, .filesz = 0x300, .memsz = 0x2000};
	assert_int_equal(load(gm, &im, "", NULL, 0, &e), 0);
	assert_int_equal(e.rip, 0x8080);
	assert_segments_intact(gm, &im, segs, 1);
	assert_mb_boot_data(gm, &e, segs, 1, "", NULL, 0);
	free(im.data);
}

static void test_multiboot_low_overlaps(void **state)
{
	struct guest_mem *gm = fresh(state);
	/*
	 * Segments over every usual address (GDT 0x500, info 0x6000, stack
	 * 0x8000, cmdline 0x20000) and over the top page of RAM, where the
	 * module would go: everything must move, nothing may land on them.
	 */
	struct seg segs[] = {
	    {.paddr = 0x0, .filesz = 0x1000, .memsz = 0x1000},
	    {.paddr = 0x6000, .filesz = 0x100, .memsz = 0x1000},
	    {.paddr = 0x8000, .filesz = 0x1000, .memsz = 0x20000},
	    {.paddr = 0x200000, .filesz = 0x200, .memsz = 0x200},
	    {.paddr = RAM_SIZE - 0x3000, .filesz = 0x100, .memsz = 0x3000},
	};
	struct img im = make_mb_elf_segs(segs, ARRAY_SIZE(segs), 0x8000);
	uint8_t initrd[10000];
	struct boot_entry e;
	struct boot_mb_info mbi;
	struct boot_mb_module mod;

	fill_pattern(initrd, sizeof(initrd), 0x41);
	assert_int_equal(load(gm, &im, "moved", initrd, sizeof(initrd), &e), 0);
	assert_segments_intact(gm, &im, segs, ARRAY_SIZE(segs));
	assert_mb_boot_data(gm, &e, segs, ARRAY_SIZE(segs), "moved", initrd, sizeof(initrd));
	/* Small pieces in the lowest free RAM, the module right below the top segment. */
	assert_true(e.rbx < 0x8000);
	assert_true(e.gdt_base < 0x8000);
	assert_int_equal(guest_mem_read(gm, e.rbx, &mbi, sizeof(mbi)), 0);
	assert_true(mbi.cmdline < 0x8000);
	assert_int_equal(guest_mem_read(gm, mbi.mods_addr, &mod, sizeof(mod)), 0);
	assert_int_equal(mod.mod_start, ALIGN_DOWN(RAM_SIZE - 0x3000 - sizeof(initrd), 4096));
	free(im.data);

	/* High RAM full: the module fits only below 640 KiB, between the segments. */
	gm = fresh(state);
	struct seg full[] = {
	    {.paddr = 0x8000, .filesz = 0x100, .memsz = 0x1000},
	    {.paddr = 0x40000, .filesz = 0x100, .memsz = 0x9fc00 - 0x40000},
	    {.paddr = 0x100000, .filesz = 0x100, .memsz = RAM_SIZE - 0x100000},
	};
	im = make_mb_elf_segs(full, ARRAY_SIZE(full), 0x8000);
	assert_int_equal(load(gm, &im, "x", initrd, sizeof(initrd), &e), 0);
	assert_mb_boot_data(gm, &e, full, ARRAY_SIZE(full), "x", initrd, sizeof(initrd));
	assert_int_equal(guest_mem_read(gm, e.rbx, &mbi, sizeof(mbi)), 0);
	assert_int_equal(guest_mem_read(gm, mbi.mods_addr, &mod, sizeof(mod)), 0);
	assert_int_equal(mod.mod_start, ALIGN_DOWN(0x40000 - sizeof(initrd), 4096));
	/* A module bigger than the free gaps does not fit. */
	uint8_t *big = calloc(1, 0x40000);
	assert_non_null(big);
	assert_int_equal(load(gm, &im, "x", big, 0x40000, &e), -ENOMEM);
	free(big);
	free(im.data);

	/* No free RAM at all for the information structure. */
	struct seg all[] = {
	    {.paddr = 0x0, .filesz = 0x100, .memsz = 0x9fc00},
	    {.paddr = 0x100000, .filesz = 0x100, .memsz = RAM_SIZE - 0x100000},
	};
	im = make_mb_elf_segs(all, ARRAY_SIZE(all), 0x100000);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOMEM);
}

static void test_multiboot_low_refused(void **state)
{
	struct guest_mem *gm = fresh(state);
	struct seg s[1];
	struct img im;

	/* Segments in or across the reserved EBDA/VGA/BIOS area 0x9fc00-0xfffff. */
	static const uint64_t bad[][2] = {
	    {0x9f000, 0x1000}, {0x9fc00, 0x10}, {0xa0000, 0x100},
	    {0xe0000, 0x10},   {0xfffff, 0x1},	{0x90000, 0x80000},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		s[0] = (struct seg){.paddr = bad[i][0], .filesz = 0, .memsz = bad[i][1]};
		im = make_mb_elf_segs(s, 1, bad[i][0]);
		assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);
	}
	/* Right up to the EBDA, and from 1 MiB on, is fine. */
	struct seg edge[] = {{.paddr = 0x9f000, .filesz = 0x10, .memsz = 0xc00},
			     {.paddr = 0x100000, .filesz = 0x10, .memsz = 0x100}};
	im = make_mb_elf_segs(edge, 2, 0x9f000);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), 0);

	/* a.out kludge image in the BIOS area. */
	im = make_mb_aout();
	boot_wr32(im.data + MB_HDR_OFF + 12, 0xa0000 + MB_HDR_OFF);
	boot_wr32(im.data + MB_HDR_OFF + 16, 0xa0000);
	boot_wr32(im.data + MB_HDR_OFF + 20, 0xa0000 + 0x300);
	boot_wr32(im.data + MB_HDR_OFF + 24, 0xa0000 + 0x2000);
	boot_wr32(im.data + MB_HDR_OFF + 28, 0xa0000 + 0x80);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOEXEC);

	/* Beyond RAM, and in the PCI hole. */
	s[0] = (struct seg){.paddr = RAM_SIZE - 0x1000, .filesz = 0x10, .memsz = 0x2000};
	im = make_mb_elf_segs(s, 1, RAM_SIZE - 0x1000);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOMEM);
	s[0] = (struct seg){.paddr = 0xd0000000, .filesz = 0x10, .memsz = 0x10};
	im = make_mb_elf_segs(s, 1, 0xd0000000);
	assert_int_equal(load_free(gm, im, NULL, NULL, 0), -ENOMEM);

	/* A kernel that is not multiboot still may not go below 1 MiB. */
	assert_int_equal(load_free(gm,
				   vmlinux_with_seg((struct seg){BOOT_ELF_PT_LOAD, 0x1000, 0,
								 0x8000, 0x100, 0x100}),
				   NULL, NULL, 0),
			 -ENOEXEC);
}

static void test_multiboot_tiny_ram(void **state)
{
	(void)state;
	struct guest_mem small;
	struct boot_entry e;
	struct boot_mb_info mbi;
	struct seg s[] = {{.paddr = 0x8000, .filesz = 0x100, .memsz = 0x1000}};
	struct img im = make_mb_elf_segs(s, 1, 0x8000);

	/* 512 KiB, no RAM above 1 MiB: a real-mode-sized multiboot kernel still boots. */
	assert_int_equal(guest_mem_init(&small, 512 * KiB, false), 0);
	memset(small.base, 0xcc, small.size);
	assert_int_equal(load(&small, &im, "t", NULL, 0, &e), 0);
	assert_int_equal(guest_mem_read(&small, e.rbx, &mbi, sizeof(mbi)), 0);
	assert_int_equal(mbi.mem_lower, 512);
	assert_int_equal(mbi.mem_upper, 0);
	assert_int_equal(mbi.mmap_length, 24);
	assert_segments_intact(&small, &im, s, 1);
	free(im.data);
	/* ... but not one linked at 1 MiB. */
	assert_int_equal(load_free(&small, make_mb_elf32(), NULL, NULL, 0), -ENOMEM);
	guest_mem_destroy(&small);
}

/* ---- flat ---- */

static void test_flat_load(void **state)
{
	struct guest_mem *gm = fresh(state);
	static const uint8_t code[] = {0xfa, 0xb8, 0x00, 0x10, 0x8e, 0xd8, 0xf4};
	struct img im = {.data = (uint8_t *)code, .size = sizeof(code)};
	struct boot_entry e;

	assert_int_equal(load(gm, &im, NULL, NULL, 0, &e), 0);
	assert_int_equal(e.format, BOOT_FMT_FLAT);
	assert_int_equal(e.mode, BOOT_MODE_REAL);
	assert_int_equal(e.cs_sel, 0x1000);
	assert_int_equal(e.rip, 0);
	assert_int_equal(e.rsp, 0x8000);
	assert_memory_equal(gp(gm, BOOT_FLAT_ADDR, sizeof(code)), code, sizeof(code));
}

/* ---- small guests ---- */

static void test_tiny_ram(void **state)
{
	(void)state;
	struct guest_mem small;
	struct boot_entry e;
	struct bz_opts o = bz_default();
	static const uint8_t code[] = {0xf4, 0x00, 0x01};
	struct img flat = {.data = (uint8_t *)code, .size = sizeof(code)};

	assert_int_equal(guest_mem_init(&small, 512 * KiB, false), 0);
	assert_int_equal(load_free(&small, make_bzimage(&o), NULL, NULL, 0), -ENOMEM);
	assert_int_equal(load_free(&small, make_vmlinux(VML_PADDR), NULL, NULL, 0), -ENOMEM);
	assert_int_equal(load(&small, &flat, NULL, NULL, 0, &e), 0);
	guest_mem_destroy(&small);

	assert_int_equal(guest_mem_init(&small, 16 * KiB, false), 0);
	assert_int_equal(load(&small, &flat, NULL, NULL, 0, &e), -ENOMEM);
	guest_mem_destroy(&small);
}

static void test_high_memory_map(void **state)
{
	(void)state;
	struct guest_mem big;
	struct boot_entry e;
	struct bz_opts o = bz_default();

	/* Sparse memfd: only the pages the loader touches get allocated. */
	if (guest_mem_init(&big, 3 * GiB + 64 * MiB, false) < 0)
		skip();
	assert_int_equal(load_free(&big, make_bzimage(&o), NULL, NULL, 0), 0);
	uint8_t *zp = gp(&big, BOOT_ZERO_PAGE, BP_SIZE);
	uint8_t *e4 = zp + BP_E820_TABLE + 3 * 20;
	assert_int_equal(zp[BP_E820_ENTRIES], 4);
	assert_int_equal(boot_rd64(zp + BP_E820_TABLE + 2 * 20 + 8), GUEST_MEM_HOLE_START - MiB);
	assert_int_equal(boot_rd64(e4), GUEST_MEM_HIGH_START);
	assert_int_equal(boot_rd64(e4 + 8), 64 * MiB);
	assert_int_equal(boot_rd32(e4 + 16), BOOT_MEM_RAM);
	(void)e;
	guest_mem_destroy(&big);
}

/* ---- registers ---- */

static void reset_sregs(struct kvm_sregs *s)
{
	memset(s, 0, sizeof(*s));
	s->cr0 = 0x60000010;
	s->cs.selector = 0xf000;
	s->cs.base = 0xffff0000;
	s->tr.type = 11;
	s->tr.present = 1;
	s->apic_base = 0xfee00900;
}

static void test_regs_long64(void **state)
{
	(void)state;
	struct boot_entry e = {.mode = BOOT_MODE_LONG64,
			       .rip = 0x100200,
			       .rsi = BOOT_ZERO_PAGE,
			       .rsp = BOOT_STACK_TOP,
			       .cr3 = BOOT_PML4_ADDR,
			       .gdt_base = BOOT_GDT_ADDR,
			       .gdt_limit = 31,
			       .idt_base = BOOT_IDT_ADDR,
			       .idt_limit = 15};
	struct kvm_regs r;
	struct kvm_sregs s;

	memset(&r, 0xff, sizeof(r));
	reset_sregs(&s);
	boot_entry_to_regs(&e, &r, &s);
	assert_int_equal(r.rip, 0x100200);
	assert_int_equal(r.rsi, BOOT_ZERO_PAGE);
	assert_int_equal(r.rsp, BOOT_STACK_TOP);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(r.rdi, 0);
	assert_int_equal(r.rbp, 0);
	assert_true(s.cr0 & 1);
	assert_true(s.cr0 & (1U << 31));
	assert_int_equal(s.cr0 & 0x60000000, 0);
	assert_true(s.cr4 & (1 << 5));
	assert_int_equal(s.efer & 0x500, 0x500);
	assert_int_equal(s.cr3, BOOT_PML4_ADDR);
	assert_int_equal(s.cs.selector, 0x08);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.cs.db, 0);
	assert_int_equal(s.cs.g, 1);
	assert_int_equal(s.cs.type, 0xb);
	assert_int_equal(s.cs.present, 1);
	assert_int_equal(s.ds.selector, 0x18);
	assert_int_equal(s.ss.selector, 0x18);
	assert_int_equal(s.ss.type, 3);
	assert_int_equal(s.es.limit, 0xffffffff);
	assert_int_equal(s.gdt.base, BOOT_GDT_ADDR);
	assert_int_equal(s.gdt.limit, 31);
	assert_int_equal(s.idt.base, BOOT_IDT_ADDR);
	assert_int_equal(s.apic_base, 0xfee00900); /* untouched */
	assert_int_equal(s.tr.type, 11);
}

static void test_regs_prot32(void **state)
{
	(void)state;
	struct boot_entry e = {.mode = BOOT_MODE_PROT32,
			       .rip = 0x100080,
			       .rax = 0x2BADB002,
			       .rbx = BOOT_INFO_ADDR,
			       .gdt_base = BOOT_GDT_ADDR,
			       .gdt_limit = 31};
	struct kvm_regs r;
	struct kvm_sregs s;

	reset_sregs(&s);
	s.efer = 0x500;
	s.cr4 = 0x20;
	boot_entry_to_regs(&e, &r, &s);
	assert_int_equal(r.rip, 0x100080);
	assert_int_equal(r.rax, 0x2BADB002);
	assert_int_equal(r.rbx, BOOT_INFO_ADDR);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(s.cr0 & 1, 1);
	assert_int_equal(s.cr0 & (1U << 31), 0);
	assert_int_equal(s.cr4, 0);
	assert_int_equal(s.efer & 0x500, 0);
	assert_int_equal(s.cs.selector, 0x10);
	assert_int_equal(s.cs.db, 1);
	assert_int_equal(s.cs.l, 0);
	assert_int_equal(s.cs.limit, 0xffffffff);
	assert_int_equal(s.ds.selector, 0x18);
	assert_int_equal(s.fs.selector, 0x18);
	assert_int_equal(s.gs.db, 1);
	assert_int_equal(s.gdt.base, BOOT_GDT_ADDR);
}

static void test_regs_real(void **state)
{
	(void)state;
	struct boot_entry e = {.mode = BOOT_MODE_REAL, .cs_sel = 0x1000, .rip = 0, .rsp = 0x8000};
	struct kvm_regs r;
	struct kvm_sregs s;

	reset_sregs(&s);
	boot_entry_to_regs(&e, &r, &s);
	assert_int_equal(r.rip, 0);
	assert_int_equal(r.rsp, 0x8000);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(s.cs.selector, 0x1000);
	assert_int_equal(s.cs.base, 0x10000);
	assert_int_equal(s.cs.limit, 0xffff);
	assert_int_equal(s.ds.selector, 0x1000);
	assert_int_equal(s.ss.base, 0x10000);
	assert_int_equal(s.gs.limit, 0xffff);
	assert_int_equal(s.cr0 & 1, 0);
}

/* ---- robustness: mutated images must fail cleanly or load, never crash ---- */

static uint32_t rng(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_mutations(void **state)
{
	struct guest_mem *gm = *state;
	struct bz_opts o = bz_default();
	struct img seeds[] = {make_bzimage(&o), make_vmlinux(VML_PADDR), make_pvh(4),
			      make_mb_aout(), make_mb_elf32()};
	uint32_t s = 12345;
	uint8_t initrd[100] = {1};
	struct boot_entry e;

	for (unsigned it = 0; it < 3000; it++) {
		const struct img *seed = &seeds[it % ARRAY_SIZE(seeds)];
		struct img m = img_alloc(seed->size);
		memcpy(m.data, seed->data, seed->size);
		unsigned flips = 1 + rng(&s) % 8;
		for (unsigned f = 0; f < flips; f++) {
			size_t at = rng(&s) % (m.size < 0x1100 ? m.size : 0x1100);
			m.data[at] = (uint8_t)rng(&s);
		}
		if (rng(&s) % 4 == 0)
			m.size = rng(&s) % m.size;
		int ret = load(gm, &m, "x", initrd, sizeof(initrd), &e);
		assert_true(ret == 0 || (ret < 0 && ret >= -4095));
		free(m.data);
	}
	for (size_t i = 0; i < ARRAY_SIZE(seeds); i++)
		free(seeds[i].data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_detect_formats),
	    cmocka_unit_test(test_detect_rejects),
	    cmocka_unit_test(test_detect_mb_beyond_8k),
	    cmocka_unit_test(test_bzimage_load),
	    cmocka_unit_test(test_bzimage_setup_sects_zero),
	    cmocka_unit_test(test_bzimage_initrd_respects_max),
	    cmocka_unit_test(test_initrd_below_kernel),
	    cmocka_unit_test(test_bzimage_cmdline_size),
	    cmocka_unit_test(test_bzimage_hostile),
	    cmocka_unit_test(test_elf64_load),
	    cmocka_unit_test(test_elf64_virtual_entry),
	    cmocka_unit_test(test_elf_hostile),
	    cmocka_unit_test(test_pvh_load),
	    cmocka_unit_test(test_multiboot_aout),
	    cmocka_unit_test(test_multiboot_elf32),
	    cmocka_unit_test(test_multiboot_elf64),
	    cmocka_unit_test(test_multiboot_hostile),
	    cmocka_unit_test(test_multiboot_low_segment),
	    cmocka_unit_test(test_multiboot_low_overlaps),
	    cmocka_unit_test(test_multiboot_low_refused),
	    cmocka_unit_test(test_multiboot_tiny_ram),
	    cmocka_unit_test(test_flat_load),
	    cmocka_unit_test(test_tiny_ram),
	    cmocka_unit_test(test_high_memory_map),
	    cmocka_unit_test(test_regs_long64),
	    cmocka_unit_test(test_regs_prot32),
	    cmocka_unit_test(test_regs_real),
	    cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
