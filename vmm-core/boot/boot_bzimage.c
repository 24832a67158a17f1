/* SPDX-License-Identifier: MIT */
/*
 * Linux bzImage, 64-bit boot protocol (Documentation/arch/x86/boot.rst):
 * the protected-mode kernel goes to 1 MiB and is entered at its
 * startup_64 (+0x200) in long mode with %rsi pointing at the zero page.
 */
#include "boot_priv.h"
#include "log.h"
#include "util.h"

#include <errno.h>

#define BZ_LOAD_ADDR	  BOOT_HIGH_START
#define BZ_ENTRY64_OFFSET 0x200
#define BZ_HDR_206_END	  0x23c /* every field of protocol 2.06 */
#define BZ_DEFAULT_SECTS  4
#define BZ_SECTOR	  512

/*
 * The decompressor runs at max(load address aligned to kernel_alignment,
 * pref_address) and needs init_size bytes there (head_64.S), so that whole
 * range must be RAM and stay clear of the initrd.
 */
static int bzimage_extent(const struct guest_mem *gm, const uint8_t *img, size_t size,
			  uint64_t kernel_size, uint64_t *hi)
{
	uint16_t version = boot_rd16(img + BP_VERSION);
	uint64_t runtime = BZ_LOAD_ADDR, init_size = 0, end;

	if (version >= 0x020a && size >= BP_INIT_SIZE + 4) {
		uint32_t align = boot_rd32(img + BP_KERNEL_ALIGNMENT);
		uint64_t pref = boot_rd64(img + BP_PREF_ADDRESS);

		if (img[BP_RELOCATABLE_KERNEL] && align && !(align & (align - 1)))
			runtime = ALIGN_UP(runtime, (uint64_t)align);
		if (pref > runtime)
			runtime = pref;
		init_size = boot_rd32(img + BP_INIT_SIZE);
	}
	if (add_overflows_u64(runtime, init_size, &end) < 0)
		return boot_err_nofit(gm, "kernel (init_size)", runtime, init_size);
	if (end < BZ_LOAD_ADDR + kernel_size)
		end = BZ_LOAD_ADDR + kernel_size;
	if (end > guest_mem_low_end(gm))
		return boot_err_nofit(gm, "kernel", BZ_LOAD_ADDR, end - BZ_LOAD_ADDR);
	*hi = end;
	return 0;
}

int boot_bzimage_load(struct guest_mem *gm, const struct boot_input *in, struct boot_entry *entry)
{
	const uint8_t *img = in->kernel;
	size_t size = in->kernel_size;
	unsigned sects = img[BP_SETUP_SECTS] ? img[BP_SETUP_SECTS] : BZ_DEFAULT_SECTS;
	uint64_t setup_size = (uint64_t)(sects + 1) * BZ_SECTOR;
	uint64_t kernel_size, hi = 0, hdr_end;
	struct boot_tail t;
	int ret;

	if (setup_size >= size) {
		log_err("bzImage: setup_sects %u puts the kernel at offset %llu, past the end of "
			"the %zu-byte file",
			sects, (unsigned long long)setup_size, size);
		return -ENOEXEC;
	}
	kernel_size = size - setup_size;
	if (kernel_size > guest_mem_low_end(gm))
		return boot_err_nofit(gm, "kernel", BZ_LOAD_ADDR, kernel_size);
	ret = bzimage_extent(gm, img, size, kernel_size, &hi);
	if (ret < 0)
		return ret;
	if (guest_mem_write(gm, BZ_LOAD_ADDR, img + setup_size, kernel_size) < 0)
		return boot_err_nofit(gm, "kernel", BZ_LOAD_ADDR, kernel_size);

	/* The header's own length is the byte at 0x201 (boot.rst). */
	hdr_end = 0x202 + img[BP_JUMP + 1];
	if (hdr_end < BZ_HDR_206_END)
		hdr_end = BZ_HDR_206_END;
	if (hdr_end > BP_HDR_END)
		hdr_end = BP_HDR_END;
	if (hdr_end > size)
		hdr_end = size;

	t = (struct boot_tail){.mode = BOOT_MODE_LONG64, .rip = BZ_LOAD_ADDR + BZ_ENTRY64_OFFSET};
	t.p = (struct boot_linux_params){
	    .hdr = img + BP_HDR,
	    .hdr_len = hdr_end - BP_HDR,
	    .kernel_lo = BZ_LOAD_ADDR,
	    .kernel_hi = hi,
	    .initrd_max = boot_rd32(img + BP_INITRD_ADDR_MAX),
	    .cmdline_max = boot_rd32(img + BP_CMDLINE_SIZE),
	};
	return boot_finish(gm, in, &t, entry);
}
