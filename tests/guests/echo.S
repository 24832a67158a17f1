/* SPDX-License-Identifier: MIT */
/*
 * Flat real-mode guest: reads COM1 (polling LSR.DR) up to '\n', echoing
 * each byte uppercased, then exits with EXIT_PASS. A line longer than the
 * 16-byte FIFO checks that the VMM does not drop input the guest has not
 * read yet.
 */
#include "rm_lib.inc"

	.section .text.start, "ax"
	.globl	_start

#define MAX_LINE 512
#define RX_POLLS 2000000 /* about 20 s of PIO exits under nested KVM */

_start:
	cli
	cld
	mov	$ready, %si
	call	rm_puts
	mov	$MAX_LINE, %bx
next:
	mov	$COM1_LSR, %dx
	mov	$RX_POLLS, %ecx
1:	in	%dx, %al
	test	$LSR_DR, %al
	jnz	2f
	dec	%ecx
	jnz	1b
	mov	$timeout, %si
	call	rm_puts
	rm_exit	EXIT_TIMEOUT_RX
2:	mov	$COM1_RBR, %dx
	in	%dx, %al
	cmp	$'\n', %al
	je	done
	cmp	$'a', %al
	jb	3f
	cmp	$'z', %al
	ja	3f
	sub	$('a' - 'A'), %al
3:	call	rm_putc
	dec	%bx
	jnz	next
	rm_exit	EXIT_LINE_TOO_LONG
done:
	mov	$bye, %si
	call	rm_puts
	rm_exit	EXIT_PASS


	.section .rodata
ready:	.asciz	"echo: ready\r\n"
bye:	.asciz	"\r\necho: done\r\n"
timeout: .asciz	"\r\necho: FAIL: no input\r\n"
