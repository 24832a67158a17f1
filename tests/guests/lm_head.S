/* SPDX-License-Identifier: MIT */
/*
 * Protected-mode part of the long-mode guest, loaded at 1 MiB. The 64-bit
 * boot protocol enters at +0x200 with RSI = boot_params; the guest then
 * uses its own GDT, stack and IDT. Exception stubs push a uniform frame
 * (struct exc_frame in lm_main.c) and call exc_handler().
 */
#include "guest.h"

	.section .head, "ax"
	.code32
	.globl	startup_32
startup_32:
	mov	$EXIT_WRONG_ENTRY, %al
	out	%al, $EXIT_PORT
	jmp	startup_32

	.org	0x200
	.code64
	.globl	startup_64
startup_64:
	cli
	cld
	lea	boot_stack_top(%rip), %rsp
	mov	%rsi, %r12
	lgdt	gdt_desc(%rip)
	lea	1f(%rip), %rax
	pushq	$0x08
	push	%rax
	lretq
1:	mov	$0x10, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	mov	%r12, %rdi
	call	lm_main
	out	%al, $EXIT_PORT
	/* See rm_vmm_did_not_stop in rm_lib.inc. */
	mov	$I8042_RESET, %al
	out	%al, $I8042_CMD
2:	pause
	jmp	2b

/* Vectors that push an error code: 8, 10-14, 17, 21, 29, 30. */
.macro exc_stub vec
	.balign	16
	.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	pushq	$0
	.endif
	pushq	$\vec
	jmp	exc_common
.endm

	.text
	.balign	16
	.globl	exc_stubs
exc_stubs:
	.irp	v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	exc_stub \v
	.endr

exc_common:
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	mov	%rsp, %rdi
	call	exc_handler
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
	add	$16, %rsp
	iretq

	.section .rodata
	.balign	8
gdt:
	.quad	0
	.quad	0x00af9b000000ffff	/* 0x08: code64 */
	.quad	0x00cf93000000ffff	/* 0x10: data */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	gdt

	.section .bss
	.balign	16
	.space	16384
boot_stack_top:
