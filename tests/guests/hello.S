/* SPDX-License-Identifier: MIT */
/* Flat real-mode guest: prints a known line and exits with EXIT_HELLO. */
#include "rm_lib.inc"

	.section .text.start, "ax"
	.globl	_start
_start:
	cli
	cld
	mov	$msg, %si
	call	rm_puts
	rm_exit	EXIT_HELLO


	.section .rodata
msg:	.asciz	"Hello from the sluice flat guest!\r\n"
