/* SPDX-License-Identifier: MIT */
/*
 * The Linux zero page (struct boot_params) for a 64-bit entry, shared by the
 * bzImage and ELF vmlinux loaders. Built in a local buffer and written to
 * guest RAM in one checked copy.
 */
#include "boot_priv.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <string.h>

#define E820_ENTRY_SIZE	 20
#define HEAP_END_PTR	 0xfe00 /* heap end relative to the real-mode code, as kvmtool */
#define ELF_KERNEL_ALIGN 0x1000000

int boot_zero_page_build(struct guest_mem *gm, const struct boot_input *in,
			 const struct boot_linux_params *p)
{
	struct boot_memmap_entry map[BOOT_MEMMAP_MAX];
	uint8_t zp[BP_SIZE];
	uint64_t initrd;
	unsigned n;
	int ret;

	memset(zp, 0, sizeof(zp));
	if (p->hdr) {
		if (p->hdr_len > BP_HDR_END - BP_HDR) {
			log_err("boot: setup header of %zu bytes is too long", p->hdr_len);
			return -EINVAL;
		}
		memcpy(zp + BP_HDR, p->hdr, p->hdr_len);
	} else {
		/* vmlinux has no setup header: make the minimal one Linux checks. */
		boot_wr16(zp + BP_BOOT_FLAG, BP_BOOT_FLAG_MAGIC);
		boot_wr32(zp + BP_HEADER, BP_HEADER_MAGIC);
		boot_wr32(zp + BP_KERNEL_ALIGNMENT, ELF_KERNEL_ALIGN);
		boot_wr32(zp + BP_CMDLINE_SIZE, (uint32_t)p->cmdline_max);
	}
	zp[BP_TYPE_OF_LOADER] = 0xff;
	zp[BP_LOADFLAGS] |= BP_LOADFLAGS_HEAP;
	boot_wr16(zp + BP_HEAP_END_PTR, HEAP_END_PTR);

	ret = boot_cmdline_write(gm, in->cmdline, p->cmdline_max);
	if (ret < 0)
		return ret;
	boot_wr32(zp + BP_CMD_LINE_PTR, (uint32_t)BOOT_CMDLINE_ADDR);
	boot_wr32(zp + BP_EXT_CMD_LINE_PTR, 0);

	ret = boot_initrd_place(gm, in, p->kernel_lo, p->kernel_hi, p->initrd_max, &initrd);
	if (ret < 0)
		return ret;
	if (initrd) {
		boot_wr32(zp + BP_RAMDISK_IMAGE, (uint32_t)initrd);
		boot_wr32(zp + BP_RAMDISK_SIZE, (uint32_t)in->initrd_size);
		boot_wr32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd >> 32));
		boot_wr32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)in->initrd_size >> 32));
	} else {
		boot_wr32(zp + BP_RAMDISK_IMAGE, 0);
		boot_wr32(zp + BP_RAMDISK_SIZE, 0);
	}

	if (in->acpi_rsdp)
		boot_wr64(zp + BP_ACPI_RSDP_ADDR, in->acpi_rsdp);

	n = boot_memmap_build(gm, map);
	for (unsigned i = 0; i < n && i < BP_E820_MAX; i++) {
		uint8_t *e = zp + BP_E820_TABLE + i * E820_ENTRY_SIZE;
		boot_wr64(e, map[i].addr);
		boot_wr64(e + 8, map[i].size);
		boot_wr32(e + 16, map[i].type);
	}
	zp[BP_E820_ENTRIES] = (uint8_t)n;

	if (guest_mem_write(gm, BOOT_ZERO_PAGE, zp, sizeof(zp)) < 0)
		return boot_err_nofit(gm, "zero page", BOOT_ZERO_PAGE, sizeof(zp));
	return 0;
}
