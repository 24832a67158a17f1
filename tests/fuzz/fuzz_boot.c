/* SPDX-License-Identifier: MIT */
/*
 * Kernel loaders against arbitrary images. Input layout:
 *   byte 0      command line length (c)
 *   bytes 1-2   initrd length (r, little-endian)
 *   c bytes     command line (NUL bytes end it early)
 *   r bytes     initrd
 *   the rest    kernel image
 * Lengths that run past the input are clipped, so every input is valid.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "guest_mem.h"

#define FUZZ_RAM (64ULL << 20)

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
	(void)boot_load(&gm, &in, &entry);
	return 0;
}
