/* SPDX-License-Identifier: MIT */
/* Turn a loader's boot_entry into KVM register state for the boot vCPU. */
#include "boot.h"

#include <linux/kvm.h>
#include <stdbool.h>
#include <string.h>

#define CR0_PE	 (1ULL << 0)
#define CR0_ET	 (1ULL << 4)
#define CR0_NW	 (1ULL << 29)
#define CR0_CD	 (1ULL << 30)
#define CR0_PG	 (1ULL << 31)
#define CR4_PAE	 (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define SEG_TYPE_CODE 0xb /* execute/read, accessed */
#define SEG_TYPE_DATA 0x3 /* read/write, accessed */

static struct kvm_segment seg_real(uint16_t sel, uint8_t type)
{
	return (struct kvm_segment){
	    .base = (uint64_t)sel << 4,
	    .limit = 0xffff,
	    .selector = sel,
	    .type = type,
	    .present = 1,
	    .s = 1,
	};
}

/* Matches the descriptors boot_tables_write() puts in the GDT. */
static struct kvm_segment seg_flat(uint16_t sel, uint8_t type, bool code64)
{
	return (struct kvm_segment){
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = sel,
	    .type = type,
	    .present = 1,
	    .db = code64 ? 0 : 1,
	    .s = 1,
	    .l = code64 ? 1 : 0,
	    .g = 1,
	};
}

static void set_data_segs(struct kvm_sregs *sregs, struct kvm_segment data)
{
	sregs->ds = data;
	sregs->es = data;
	sregs->fs = data;
	sregs->gs = data;
	sregs->ss = data;
}

static void set_tables(const struct boot_entry *entry, struct kvm_sregs *sregs)
{
	sregs->gdt.base = entry->gdt_base;
	sregs->gdt.limit = entry->gdt_limit;
	sregs->idt.base = entry->idt_base;
	sregs->idt.limit = entry->idt_limit;
}

void boot_entry_to_regs(const struct boot_entry *entry, struct kvm_regs *regs,
			struct kvm_sregs *sregs)
{
	memset(regs, 0, sizeof(*regs));
	regs->rip = entry->rip;
	regs->rsp = entry->rsp;
	regs->rsi = entry->rsi;
	regs->rbx = entry->rbx;
	regs->rax = entry->rax;
	regs->rflags = 0x2;

	switch (entry->mode) {
	case BOOT_MODE_REAL:
		sregs->cs = seg_real(entry->cs_sel, SEG_TYPE_CODE);
		set_data_segs(sregs, seg_real(entry->cs_sel, SEG_TYPE_DATA));
		sregs->cr0 &= ~(CR0_PE | CR0_PG);
		sregs->efer &= ~(EFER_LME | EFER_LMA);
		break;
	case BOOT_MODE_PROT32:
		/* PVH and multiboot: PE set, paging off; caches on (CD/NW clear). */
		sregs->cs = seg_flat(BOOT_SEL_CODE32, SEG_TYPE_CODE, false);
		set_data_segs(sregs, seg_flat(BOOT_SEL_DATA, SEG_TYPE_DATA, false));
		set_tables(entry, sregs);
		sregs->cr0 = (sregs->cr0 & ~(CR0_PG | CR0_CD | CR0_NW)) | CR0_PE | CR0_ET;
		sregs->cr4 = 0;
		sregs->efer &= ~(EFER_LME | EFER_LMA);
		break;
	case BOOT_MODE_LONG64:
		sregs->cs = seg_flat(BOOT_SEL_CODE64, SEG_TYPE_CODE, true);
		set_data_segs(sregs, seg_flat(BOOT_SEL_DATA, SEG_TYPE_DATA, false));
		set_tables(entry, sregs);
		sregs->cr3 = entry->cr3;
		sregs->cr4 |= CR4_PAE;
		sregs->cr0 = (sregs->cr0 & ~(CR0_CD | CR0_NW)) | CR0_PE | CR0_ET | CR0_PG;
		sregs->efer |= EFER_LME | EFER_LMA;
		break;
	}
}
