/* SPDX-License-Identifier: MIT */
/* Flat real-mode guest: prints a line, then resets through the i8042. */
#include "rm_lib.inc"

	.section .text.start, "ax"
	.globl	_start
_start:
	cli
	cld
	mov	$msg, %si
	call	rm_puts
	mov	$I8042_RESET, %al
	out	%al, $I8042_CMD
	/* Still running: the reset was ignored. */
	rm_exit	EXIT_VMM_DID_NOT_STOP


	.section .rodata
msg:	.asciz	"reset guest: resetting through the i8042\r\n"
