/* SPDX-License-Identifier: MIT */
/*
 * The benchmark guest as a 64 KiB QEMU -bios ROM (mapped at 0xf0000):
 * the reset vector at 0xffff0 jumps to the same loop and read-back as
 * scratch.S, ending through isa-debug-exit at port 0xf4. No RAM is used.
 */
#include "rm_lib.inc"
#include "scratch_loop.inc"

	.section .text.start, "ax"
	.globl	_start
_start:
	cli
	cld
	scratch_loop 20000
	mov	$COM1_SCR, %dx
	in	%dx, %al
	cmp	$1, %al
	je	1f
	rm_exit	1
1:	rm_exit	EXIT_SCRATCH_DONE
