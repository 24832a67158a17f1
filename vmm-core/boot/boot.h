/* SPDX-License-Identifier: MIT */
/*
 * Kernel loaders. The format is detected from the file's bytes, never its
 * name. Every loader treats the image as hostile: every header field used
 * as an offset, size or address is range-checked against the file and
 * against guest RAM (through guest_mem) before use.
 *
 * Guest-physical layout used at boot (below 1 MiB):
 *   0x00500  GDT (null, code64 0x08, code32 0x10, data 0x18) for the VMM-made mode
 *   0x00520  IDT (empty; the kernel installs its own)
 *   0x06000  PVH hvm_start_info / multiboot info, + memory map and module list
 *   0x07000  Linux zero page (struct boot_params)
 *   0x08ff0  boot stack top (protected/long mode entries)
 *   0x09000  PML4, 0x0a000 PDPT, 0x0b000..0x0efff four PDs: identity map of
 *            the first 4 GiB with 2 MiB pages (covers LAPIC/IOAPIC MMIO)
 *   0x10000  flat binary load address (CS:IP 0x1000:0000, SP 0x8000)
 *   0x20000  kernel command line (BOOT_CMDLINE_MAX bytes)
 *   0x9fc00..0xfffff reserved (EBDA, VGA, BIOS area; ACPI tables at 0xe0000)
 *   0x100000 protected-mode kernel (bzImage) / ELF segments as linked
 * Multiboot kernels may also be linked below 1 MiB (outside the reserved
 * area): the multiboot loader then moves each piece of its boot data that
 * the image covers to free RAM (boot_multiboot.c).
 */
#ifndef SLUICE_BOOT_H
#define SLUICE_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

#define BOOT_GDT_ADDR	   0x500ULL
#define BOOT_IDT_ADDR	   0x520ULL
#define BOOT_INFO_ADDR	   0x6000ULL
#define BOOT_ZERO_PAGE	   0x7000ULL
#define BOOT_STACK_TOP	   0x8ff0ULL
#define BOOT_PML4_ADDR	   0x9000ULL
#define BOOT_FLAT_ADDR	   0x10000ULL
#define BOOT_CMDLINE_ADDR  0x20000ULL
#define BOOT_CMDLINE_MAX   0x10000ULL
#define BOOT_EBDA_START	   0x9fc00ULL
#define BOOT_HIGH_START	   0x100000ULL
#define BOOT_ACPI_BASE	   0xe0000ULL
#define BOOT_FLAT_MAX_SIZE (0xa0000ULL - BOOT_FLAT_ADDR)

#define BOOT_SEL_CODE64 0x08
#define BOOT_SEL_CODE32 0x10
#define BOOT_SEL_DATA	0x18

enum boot_format {
	BOOT_FMT_UNKNOWN = 0,
	BOOT_FMT_BZIMAGE,   /* Linux x86 boot protocol >= 2.06, 64-bit entry */
	BOOT_FMT_ELF64,	    /* ELF64 x86-64 kernel entered in long mode (vmlinux) */
	BOOT_FMT_ELF_PVH,   /* ELF with XEN_ELFNOTE_PHYS32_ENTRY: 32-bit PVH entry */
	BOOT_FMT_MULTIBOOT, /* multiboot v1 header in the first 8 KiB */
	BOOT_FMT_FLAT,	    /* raw real-mode binary */
};

enum boot_cpu_mode {
	BOOT_MODE_REAL,	  /* CS = cs_sel, IP = rip, all data segments = cs_sel */
	BOOT_MODE_PROT32, /* flat 32-bit segments, paging off (PVH, multiboot) */
	BOOT_MODE_LONG64, /* 64-bit, paging on with the VMM's identity map */
};

struct boot_input {
	const uint8_t *kernel;
	size_t kernel_size;
	const uint8_t *initrd; /* NULL if none */
	size_t initrd_size;
	const char *cmdline; /* NULL or "" if none */
	uint64_t acpi_rsdp;  /* GPA of the RSDP, 0 if no ACPI tables */
};

/* Register state for the boot vCPU; the loader fills it, the vCPU applies it. */
struct boot_entry {
	enum boot_format format;
	enum boot_cpu_mode mode;
	uint64_t rip, rsp, rsi, rbx, rax, rflags;
	uint16_t cs_sel;	     /* real mode only */
	uint64_t cr3;		     /* long mode: BOOT_PML4_ADDR */
	uint64_t gdt_base, idt_base; /* prot32/long64 */
	uint16_t gdt_limit, idt_limit;
};

/* Returns the detected format, or BOOT_FMT_UNKNOWN with *why set to a reason. */
enum boot_format boot_detect(const uint8_t *img, size_t size, const char **why);
const char *boot_format_name(enum boot_format fmt);

/*
 * Detect and load the kernel (and initrd, cmdline, boot info) into guest
 * memory and fill *entry. Returns 0 or a negative errno with one log line
 * saying what is wrong (e.g. "kernel does not fit in 64 MiB of RAM").
 */
int boot_load(struct guest_mem *gm, const struct boot_input *in, struct boot_entry *entry);

struct kvm_regs;
struct kvm_sregs;
/*
 * Turn *entry into register state. sregs must hold the vCPU's current
 * (reset) sregs; only the fields the boot mode defines are changed.
 */
void boot_entry_to_regs(const struct boot_entry *entry, struct kvm_regs *regs,
			struct kvm_sregs *sregs);

#endif
