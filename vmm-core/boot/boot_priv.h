/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the kernel loaders (boot_*.c). Not part of the
 * interface: only the files in vmm-core/boot/ and the boot tests include this (the folder
 * is not on the include path; users of the loaders include "boot/boot.h").
 */
#ifndef SLUICE_BOOT_PRIV_H
#define SLUICE_BOOT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "guest_mem.h"

/* Little-endian field access into untrusted images; the caller checks bounds. */
static inline uint16_t boot_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t boot_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t boot_rd64(const uint8_t *p)
{
	return (uint64_t)boot_rd32(p) | (uint64_t)boot_rd32(p + 4) << 32;
}

static inline void boot_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void boot_wr32(uint8_t *p, uint32_t v)
{
	boot_wr16(p, (uint16_t)v);
	boot_wr16(p + 2, (uint16_t)(v >> 16));
}

static inline void boot_wr64(uint8_t *p, uint64_t v)
{
	boot_wr32(p, (uint32_t)v);
	boot_wr32(p + 4, (uint32_t)(v >> 32));
}

/* Linux boot protocol: offsets into the zero page (struct boot_params). */
#define BP_ACPI_RSDP_ADDR     0x070
#define BP_EXT_RAMDISK_IMAGE  0x0c0
#define BP_EXT_RAMDISK_SIZE   0x0c4
#define BP_EXT_CMD_LINE_PTR   0x0c8
#define BP_E820_ENTRIES	      0x1e8
#define BP_HDR		      0x1f1 /* struct setup_header starts here */
#define BP_SETUP_SECTS	      0x1f1
#define BP_BOOT_FLAG	      0x1fe
#define BP_JUMP		      0x200
#define BP_HEADER	      0x202
#define BP_VERSION	      0x206
#define BP_TYPE_OF_LOADER     0x210
#define BP_LOADFLAGS	      0x211
#define BP_RAMDISK_IMAGE      0x218
#define BP_RAMDISK_SIZE	      0x21c
#define BP_HEAP_END_PTR	      0x224
#define BP_CMD_LINE_PTR	      0x228
#define BP_INITRD_ADDR_MAX    0x22c
#define BP_KERNEL_ALIGNMENT   0x230
#define BP_RELOCATABLE_KERNEL 0x234
#define BP_XLOADFLAGS	      0x236
#define BP_CMDLINE_SIZE	      0x238
#define BP_PREF_ADDRESS	      0x258
#define BP_INIT_SIZE	      0x260
#define BP_HDR_END	      0x26c /* end of the setup header as of protocol 2.15 */
#define BP_E820_TABLE	      0x2d0
#define BP_E820_MAX	      128
#define BP_SIZE		      0x1000

#define BP_BOOT_FLAG_MAGIC 0xaa55
#define BP_HEADER_MAGIC	   0x53726448 /* "HdrS" */
#define BP_LOADFLAGS_HEAP  0x80	      /* CAN_USE_HEAP */
#define BP_XLF_KERNEL_64   0x01
#define BP_MIN_VERSION	   0x0206

/* Memory map entry types (e820, PVH memmap and multiboot mmap agree). */
#define BOOT_MEM_RAM	  1
#define BOOT_MEM_RESERVED 2

#define BOOT_MEMMAP_MAX 4

struct boot_memmap_entry {
	uint64_t addr, size;
	uint32_t type;
};

/*
 * [addr, addr + len) touches the EBDA/VGA/option ROM/BIOS area
 * [BOOT_EBDA_START, BOOT_HIGH_START) that the memory map reports reserved
 * (the ACPI tables live there). Safe for any len, including wrapping ones.
 */
static inline bool boot_bios_area_overlaps(uint64_t addr, uint64_t len)
{
	if (len == 0 || addr >= BOOT_HIGH_START)
		return false;
	return addr >= BOOT_EBDA_START || len > BOOT_EBDA_START - addr;
}

/* The guest's physical memory map as the firmware would report it. */
unsigned boot_memmap_build(const struct guest_mem *gm, struct boot_memmap_entry *map);

/* Log the one "kernel does not fit" line and return -ENOMEM. */
int boot_err_nofit(const struct guest_mem *gm, const char *what, uint64_t addr, uint64_t len);

/*
 * Write the command line (NULL or "" allowed) at BOOT_CMDLINE_ADDR. The
 * kernel accepts at most max_len bytes without the NUL; -E2BIG otherwise.
 */
int boot_cmdline_write(struct guest_mem *gm, const char *cmdline, uint64_t max_len);

/*
 * Copy the initrd to the highest page-aligned address whose last byte is
 * below min(limit, low RAM end) and that does not overlap the kernel's
 * [kernel_lo, kernel_hi); failing that, just below the kernel but above
 * 1 MiB. *addr = 0 when there is no initrd.
 */
int boot_initrd_place(struct guest_mem *gm, const struct boot_input *in, uint64_t kernel_lo,
		      uint64_t kernel_hi, uint64_t limit, uint64_t *addr);

/* What the Linux zero page (and the PVH tail) needs beyond the boot input. */
struct boot_linux_params {
	const uint8_t *hdr; /* setup header bytes [BP_HDR, BP_HDR + hdr_len) or NULL */
	size_t hdr_len;	    /* of the image's setup header, <= BP_HDR_END - BP_HDR */
	uint64_t kernel_lo; /* guest range the kernel needs, for initrd placement */
	uint64_t kernel_hi;
	uint64_t initrd_max; /* highest address the initrd may occupy, inclusive */
	uint64_t cmdline_max;
};

/* Build the zero page at BOOT_ZERO_PAGE plus the cmdline and the initrd. */
int boot_zero_page_build(struct guest_mem *gm, const struct boot_input *in,
			 const struct boot_linux_params *p);

#define BOOT_GDT_SIZE 32 /* null, code64, code32, data */
#define BOOT_IDT_SIZE 16 /* one (null) long-mode gate: any interrupt faults */

/* The fixed IDT follows the fixed GDT, as boot_entry_set() expects of any placement. */
_Static_assert(BOOT_IDT_ADDR == BOOT_GDT_ADDR + BOOT_GDT_SIZE, "IDT right after the GDT");

/* The GDT (BOOT_GDT_SIZE bytes) at gdt_addr and an empty IDT (BOOT_IDT_SIZE) at idt_addr. */
int boot_descriptors_write(struct guest_mem *gm, uint64_t gdt_addr, uint64_t idt_addr);

/* GDT and empty IDT at their fixed addresses; with long_mode also the identity page tables. */
int boot_tables_write(struct guest_mem *gm, bool long_mode);

/*
 * Fill a protected (PROT32) or long (LONG64) mode entry: rip, rsp, the boot
 * information block's address info in the register the protocol names
 * (LONG64: rsi = zero page; PROT32: rbx = PVH start info / multiboot info),
 * the descriptor tables boot_descriptors_write() put at gdt_addr (GDT) and
 * gdt_addr + BOOT_GDT_SIZE (IDT), and for LONG64 cr3 = the identity map.
 */
void boot_entry_set(struct boot_entry *entry, enum boot_cpu_mode mode, uint64_t rip, uint64_t rsp,
		    uint64_t info, uint64_t gdt_addr);

/* Writes the boot information block (PVH start info) at BOOT_INFO_ADDR. */
typedef int (*boot_info_write_fn)(struct guest_mem *gm, const struct boot_input *in,
				  uint64_t initrd);

/* How a loader with fixed boot data (bzImage, ELF64, PVH) wants to be entered. */
struct boot_tail {
	enum boot_cpu_mode mode; /* LONG64: Linux 64-bit boot protocol; PROT32: PVH */
	uint64_t rip;
	struct boot_linux_params p;    /* kernel range and limits (LONG64: setup header too) */
	boot_info_write_fn info_write; /* PROT32: writes the information block */
};

/*
 * The tail every loader with fixed boot data shares, run once its image is
 * in guest RAM. LONG64: the zero page with command line and initrd
 * (boot_zero_page_build), GDT/IDT and page tables, entry with rsi = zero
 * page. PROT32: command line, initrd above the kernel, the information block
 * at BOOT_INFO_ADDR, GDT/IDT, entry with ebx = the block. Both on the boot
 * stack at BOOT_STACK_TOP. (Multiboot places its boot data around the image
 * itself and only uses boot_entry_set().)
 */
int boot_finish(struct guest_mem *gm, const struct boot_input *in, const struct boot_tail *t,
		struct boot_entry *entry);

/* ELF images, 32- or 64-bit, normalised; all offsets already bounds-checked. */
struct boot_elf {
	const uint8_t *img;
	size_t size;
	bool is64;
	uint16_t type, machine;
	uint64_t entry, phoff;
	uint16_t phentsize, phnum;
};

struct boot_elf_phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

#define BOOT_ELF_PT_LOAD   1
#define BOOT_ELF_PT_NOTE   4
#define BOOT_ELF_ET_EXEC   2
#define BOOT_ELF_EM_386	   3
#define BOOT_ELF_EM_X86_64 62

/* Check the ELF header and that the phdr table lies inside the file; quiet: no log. */
int boot_elf_parse(const uint8_t *img, size_t size, struct boot_elf *elf, bool quiet);
/* Program header i < elf->phnum of a parsed image. */
void boot_elf_phdr(const struct boot_elf *elf, unsigned i, struct boot_elf_phdr *ph);
/*
 * Copy PT_LOAD segments to p_paddr, zero their bss; report [lo, hi). Every
 * segment must be RAM outside the reserved BIOS area; unless low_ok (the
 * caller places its boot data around the image) also at or above 1 MiB,
 * clear of the fixed boot data. Nothing is written unless all segments pass.
 */
int boot_elf_load_segments(struct guest_mem *gm, const struct boot_elf *elf, bool low_ok,
			   uint64_t *lo, uint64_t *hi);
/* e_entry as a physical address (translated through a PT_LOAD if virtual). */
uint64_t boot_elf_entry_phys(const struct boot_elf *elf);
/* 1 and *entry if the image has a Xen PHYS32_ENTRY note, 0 if not, -errno if malformed. */
int boot_elf_pvh_entry(const struct boot_elf *elf, uint64_t *entry);

/* PVH direct boot ABI (xen/include/public/arch-x86/hvm/start_info.h). */
#define BOOT_PVH_MAGIC		   0x336ec578U
#define BOOT_PVH_NOTE_PHYS32_ENTRY 18
#define BOOT_PVH_MODLIST_ADDR	   (BOOT_INFO_ADDR + 0x40)
#define BOOT_PVH_MEMMAP_ADDR	   (BOOT_INFO_ADDR + 0x80)

struct boot_pvh_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct boot_pvh_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct boot_pvh_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct boot_pvh_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct boot_pvh_modlist_entry) == 32, "hvm_modlist_entry layout");
_Static_assert(sizeof(struct boot_pvh_memmap_entry) == 24, "hvm_memmap_table_entry layout");

/* Multiboot v1 information structure and the pieces it points to. */
#define BOOT_MB_INFO_MEMORY  (1u << 0)
#define BOOT_MB_INFO_CMDLINE (1u << 2)
#define BOOT_MB_INFO_MODS    (1u << 3)
#define BOOT_MB_INFO_MMAP    (1u << 6)
#define BOOT_MB_INFO_LOADER  (1u << 9)

/* Where the pieces go when the image leaves them free (else boot_multiboot.c moves them). */
#define BOOT_MB_MMAP_ADDR   (BOOT_INFO_ADDR + 0x80)
#define BOOT_MB_MODS_ADDR   (BOOT_INFO_ADDR + 0x100)
#define BOOT_MB_LOADER_ADDR (BOOT_INFO_ADDR + 0x120)

struct boot_mb_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB below 640 KiB */
	uint32_t mem_upper; /* KiB from 1 MiB to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
};

struct boot_mb_mmap_entry {
	uint32_t size; /* of the rest of the entry: 20 */
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

struct boot_mb_module {
	uint32_t mod_start;
	uint32_t mod_end;
	uint32_t string;
	uint32_t reserved;
};

_Static_assert(sizeof(struct boot_mb_info) == 72, "multiboot_info layout");
_Static_assert(sizeof(struct boot_mb_mmap_entry) == 24, "multiboot mmap entry layout");

/* Per-format loaders; the image was detected as that format. */
int boot_bzimage_load(struct guest_mem *gm, const struct boot_input *in, struct boot_entry *entry);
int boot_elf64_load(struct guest_mem *gm, const struct boot_input *in, struct boot_entry *entry);
int boot_pvh_load(struct guest_mem *gm, const struct boot_input *in, struct boot_entry *entry);
int boot_multiboot_load(struct guest_mem *gm, const struct boot_input *in,
			struct boot_entry *entry);
int boot_flat_load(struct guest_mem *gm, const struct boot_input *in, struct boot_entry *entry);

/* Multiboot v1 header search, shared by detection and the loader. */
#define BOOT_MB_MAGIC	   0x1BADB002U
#define BOOT_MB_SEARCH	   8192
#define BOOT_MB_BOOT_MAGIC 0x2BADB002U
/* Offset of the first valid header, -ENOENT if none, -EBADMSG if only bad checksums. */
long boot_multiboot_find(const uint8_t *img, size_t size);

#endif
