/* SPDX-License-Identifier: MIT */
/*
 * Format detection and dispatch. Detection looks only at bytes. The order
 * matters where formats overlap: a bzImage starts with an "MZ" EFI stub, and
 * an ELF file may also carry a PVH note and/or a multiboot header. Like
 * QEMU, an explicit 32-bit entry point (PVH note, then multiboot header)
 * wins over entering a plain ELF64 at e_entry in long mode.
 */
#include "boot.h"
#include "boot_priv.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static const char *const format_names[] = {
    [BOOT_FMT_UNKNOWN] = "unknown",	[BOOT_FMT_BZIMAGE] = "bzImage",
    [BOOT_FMT_ELF64] = "ELF64",		[BOOT_FMT_ELF_PVH] = "ELF (PVH)",
    [BOOT_FMT_MULTIBOOT] = "multiboot", [BOOT_FMT_FLAT] = "flat binary",
};

const char *boot_format_name(enum boot_format fmt)
{
	if ((unsigned)fmt >= ARRAY_SIZE(format_names))
		return "invalid";
	return format_names[fmt];
}

static bool has_prefix(const uint8_t *img, size_t size, const void *magic, size_t len)
{
	return size >= len && memcmp(img, magic, len) == 0;
}

/* 1 if bzImage, 0 if not one at all, -1 if a Linux header we cannot boot. */
static int detect_bzimage(const uint8_t *img, size_t size, const char **why)
{
	if (size < BP_HEADER + 4 || boot_rd16(img + BP_BOOT_FLAG) != BP_BOOT_FLAG_MAGIC ||
	    boot_rd32(img + BP_HEADER) != BP_HEADER_MAGIC)
		return 0;
	if (size < BP_CMDLINE_SIZE + 4) {
		*why = "truncated Linux setup header";
		return -1;
	}
	if (boot_rd16(img + BP_VERSION) < BP_MIN_VERSION) {
		*why = "Linux boot protocol older than 2.06";
		return -1;
	}
	if (!(boot_rd16(img + BP_XLOADFLAGS) & BP_XLF_KERNEL_64)) {
		*why = "bzImage has no 64-bit entry point (XLF_KERNEL_64 not set)";
		return -1;
	}
	return 1;
}

static bool is_compressed(const uint8_t *img, size_t size)
{
	static const struct {
		uint8_t len;
		uint8_t magic[6];
	} magics[] = {
	    {2, {0x1f, 0x8b}},			   /* gzip */
	    {6, {0xfd, '7', 'z', 'X', 'Z', 0x00}}, /* xz */
	    {4, {0x28, 0xb5, 0x2f, 0xfd}},	   /* zstd */
	    {3, {'B', 'Z', 'h'}},		   /* bzip2 */
	    {4, {0x04, 0x22, 0x4d, 0x18}},	   /* lz4 */
	};

	for (size_t i = 0; i < ARRAY_SIZE(magics); i++)
		if (has_prefix(img, size, magics[i].magic, magics[i].len))
			return true;
	return false;
}

static bool is_text(const uint8_t *img, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		uint8_t c = img[i];
		if ((c < 0x20 || c > 0x7e) && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
		    c != '\v')
			return false;
	}
	return true;
}

enum boot_format boot_detect(const uint8_t *img, size_t size, const char **why)
{
	const char *dummy;
	struct boot_elf elf;
	bool is_elf;
	long mb;
	int ret;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!img || size == 0) {
		*why = "empty file";
		return BOOT_FMT_UNKNOWN;
	}

	ret = detect_bzimage(img, size, why);
	if (ret > 0)
		return BOOT_FMT_BZIMAGE;
	if (ret < 0)
		return BOOT_FMT_UNKNOWN;

	is_elf = has_prefix(img, size,
			    "\x7f"
			    "ELF",
			    4);
	bool x86_64_exec = false;
	if (is_elf && size >= 20 && img[4] == 2 /* ELFCLASS64 */ && img[5] == 1 /* LSB */ &&
	    boot_rd16(img + 16) == BOOT_ELF_ET_EXEC && boot_rd16(img + 18) == BOOT_ELF_EM_X86_64)
		x86_64_exec = true;

	/* A malformed ELF64 still detects as ELF64: the loader says what is wrong. */
	if (x86_64_exec && boot_elf_parse(img, size, &elf, true) == 0) {
		uint64_t pvh;
		if (boot_elf_pvh_entry(&elf, &pvh) > 0)
			return BOOT_FMT_ELF_PVH;
	}

	mb = boot_multiboot_find(img, size);
	if (mb >= 0)
		return BOOT_FMT_MULTIBOOT;
	if (mb == -EBADMSG && !x86_64_exec) {
		*why = "multiboot header has a bad checksum";
		return BOOT_FMT_UNKNOWN;
	}

	if (x86_64_exec)
		return BOOT_FMT_ELF64;
	if (is_elf) {
		*why = "ELF file is not an x86-64 executable (and has no multiboot header)";
		return BOOT_FMT_UNKNOWN;
	}
	if (is_compressed(img, size)) {
		*why = "compressed data (gzip/xz/zstd/bzip2/lz4): decompress the kernel first";
		return BOOT_FMT_UNKNOWN;
	}
	if (has_prefix(img, size, "MZ", 2)) {
		*why = "PE/EFI executable without a Linux boot header";
		return BOOT_FMT_UNKNOWN;
	}
	if (has_prefix(img, size, "#!", 2)) {
		*why = "script, not a kernel";
		return BOOT_FMT_UNKNOWN;
	}
	if (is_text(img, size)) {
		*why = "text file, not a kernel";
		return BOOT_FMT_UNKNOWN;
	}
	if (size > BOOT_FLAT_MAX_SIZE) {
		*why = "not a recognised kernel format, and too large for a flat binary";
		return BOOT_FMT_UNKNOWN;
	}
	return BOOT_FMT_FLAT;
}

int boot_load(struct guest_mem *gm, const struct boot_input *in, struct boot_entry *entry)
{
	enum boot_format fmt;
	const char *why;
	int ret;

	if (!gm || !in || !entry || (!in->kernel && in->kernel_size) ||
	    (!in->initrd && in->initrd_size)) {
		log_err("boot: invalid arguments");
		return -EINVAL;
	}
	memset(entry, 0, sizeof(*entry));

	fmt = boot_detect(in->kernel, in->kernel_size, &why);
	if (fmt == BOOT_FMT_UNKNOWN) {
		log_err("cannot boot kernel image: %s", why);
		return -ENOEXEC;
	}
	/* Multiboot places its boot data around the image and needs no fixed low area. */
	if (fmt != BOOT_FMT_FLAT && fmt != BOOT_FMT_MULTIBOOT &&
	    guest_mem_low_end(gm) < BOOT_HIGH_START)
		return boot_err_nofit(gm, "boot data below 1 MiB", 0, BOOT_HIGH_START);

	switch (fmt) {
	case BOOT_FMT_BZIMAGE:
		ret = boot_bzimage_load(gm, in, entry);
		break;
	case BOOT_FMT_ELF64:
		ret = boot_elf64_load(gm, in, entry);
		break;
	case BOOT_FMT_ELF_PVH:
		ret = boot_pvh_load(gm, in, entry);
		break;
	case BOOT_FMT_MULTIBOOT:
		ret = boot_multiboot_load(gm, in, entry);
		break;
	case BOOT_FMT_FLAT:
		ret = boot_flat_load(gm, in, entry);
		break;
	default:
		ret = -ENOEXEC;
		break;
	}
	if (ret < 0) {
		memset(entry, 0, sizeof(*entry));
		return ret;
	}
	entry->format = fmt;
	entry->rflags = 0x2;
	log_debug("boot: %s kernel, entry 0x%llx", boot_format_name(fmt),
		  (unsigned long long)entry->rip);
	return 0;
}
