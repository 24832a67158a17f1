/* SPDX-License-Identifier: MIT */
/*
 * The AP trampoline's mailbox, shared by lm_trampoline.S and lm_main.c.
 * The trampoline is copied to TRAMPOLINE_BASE (SIPI vector 0x08) and the
 * offsets are from its start; the APs run in real mode with DS = CS.
 */
#ifndef SLUICE_LM_SMP_H
#define SLUICE_LM_SMP_H

#define TRAMPOLINE_BASE	  0x8000
#define TRAMPOLINE_VECTOR (TRAMPOLINE_BASE >> 12)
#define TR_COUNT	  0x10 /* u32: APs that finished, lock inc */
#define TR_NEXT		  0x14 /* u32: next free slot in TR_IDS, lock xadd */
#define TR_IDS		  0x18 /* u32[TR_MAX_APS]: APIC IDs, ~0 = unused */
#define TR_MAX_APS	  8

#endif
