/* SPDX-License-Identifier: MIT */
/*
 * AP startup code, copied below 1 MiB by the BSP and entered through SIPI
 * in real mode at CS:IP = (TRAMPOLINE_BASE >> 4):0. Each AP records its
 * APIC ID (CPUID.1:EBX[31:24]), counts itself in, and parks in a pause
 * loop (not HLT, which would never return under the in-kernel irqchip).
 */
#include "lm_smp.h"

	.section .rodata, "a"
	.code16
	.globl	trampoline_start, trampoline_end
trampoline_start:
	jmp	tr_code
	.org	trampoline_start + TR_COUNT
	.long	0
	.long	0
	.fill	TR_MAX_APS, 4, 0xffffffff
tr_code:
	cli
	mov	%cs, %ax
	mov	%ax, %ds
	mov	$1, %eax
	cpuid
	shr	$24, %ebx
	mov	$1, %eax
	lock xadd %eax, TR_NEXT
	cmp	$TR_MAX_APS, %eax
	jae	1f
	mov	%ebx, TR_IDS(,%eax,4)
1:	lock incl TR_COUNT
2:	pause
	jmp	2b
trampoline_end:
	.code64
