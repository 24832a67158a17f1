/* SPDX-License-Identifier: MIT */
/* Raw real-mode binaries, kvmtool's convention: loaded at 0x1000:0000, SP 0x8000. */
#include "boot_priv.h"
#include "log.h"

#include <errno.h>

#define FLAT_SEG 0x1000
#define FLAT_SP	 0x8000

int boot_flat_load(struct guest_mem *gm, const struct boot_input *in, struct boot_entry *entry)
{
	if (in->kernel_size == 0 || in->kernel_size > BOOT_FLAT_MAX_SIZE) {
		log_err("flat binary of %zu bytes does not fit below 0x%llx", in->kernel_size,
			(unsigned long long)(BOOT_FLAT_ADDR + BOOT_FLAT_MAX_SIZE));
		return -EFBIG;
	}
	if (guest_mem_write(gm, BOOT_FLAT_ADDR, in->kernel, in->kernel_size) < 0)
		return boot_err_nofit(gm, "flat binary", BOOT_FLAT_ADDR, in->kernel_size);
	if (in->initrd_size)
		log_warn("flat binary: ignoring the initrd");
	if (in->cmdline && *in->cmdline)
		log_warn("flat binary: ignoring the command line");

	entry->mode = BOOT_MODE_REAL;
	entry->cs_sel = FLAT_SEG;
	entry->rip = 0;
	entry->rsp = FLAT_SP;
	return 0;
}
