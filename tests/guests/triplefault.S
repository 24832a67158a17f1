/* SPDX-License-Identifier: MIT */
/*
 * Flat guest that triple-faults on purpose: it enters 32-bit protected mode
 * (KVM's real-mode emulator does not check the IVT limit, so a real-mode
 * int3 would not fault), loads an IDT with limit 0 and executes int3:
 * #BP and #GP do not fit in the IDT, nor does #DF, so the CPU shuts down.
 * With -DFAULT_DIVIDE it divides by zero instead: on nested PVM hosts KVM's
 * instruction emulator gives up on int3 (an internal error), while a #DE
 * reaches the real triple-fault path (KVM_EXIT_SHUTDOWN).
 * The segments are based at 0x10000 so the link offsets (base 0) work.
 */
#include "rm_lib.inc"

	.section .text.start, "ax"
	.globl	_start
_start:
	cli
	cld
	mov	$msg, %si
	call	rm_puts
	/* GDTR holds a linear address: CS base (0x10000) + offset. */
	xor	%eax, %eax
	mov	%cs, %ax
	shl	$4, %eax
	add	$gdt, %eax
	mov	%eax, gdt_desc + 2
	lgdtl	gdt_desc
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	$0x08, $pm32

	.code32
pm32:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7ff0, %esp
	lidt	idt_empty
#ifdef FAULT_DIVIDE
	xor	%eax, %eax
	xor	%edx, %edx
	div	%eax
#else
	int3
#endif
	/* Not reached when the triple fault stops the VM. */
	mov	$EXIT_VMM_DID_NOT_STOP, %al
	out	%al, $EXIT_PORT
1:	pause
	jmp	1b

	.section .rodata
#ifdef FAULT_DIVIDE
msg:	.asciz	"triplefault: loading an empty IDT and dividing by zero\r\n"
#else
msg:	.asciz	"triplefault: loading an empty IDT and executing int3\r\n"
#endif
	.balign 8
gdt:
	.quad	0
	.quad	0x00cf9b010000ffff	/* 0x08: code32, base 0x10000, 4 GiB */
	.quad	0x00cf93010000ffff	/* 0x10: data32, base 0x10000, 4 GiB */
gdt_end:

	.section .data
	.balign 8
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	0			/* patched: linear address of gdt */
idt_empty:
	.word	0
	.long	0
