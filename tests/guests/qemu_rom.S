/* SPDX-License-Identifier: MIT */
/*
 * The benchmark guest as a 64 KiB QEMU -bios ROM (mapped at 0xf0000):
 * the reset vector at 0xffff0 jumps to the same loop and read-back as
 * scratch.S, ending through isa-debug-exit at port 0xf4 (value 0x31).
 * SCRATCH_COUNT=0 builds the baseline ROM. The stack is not used.
 */
#include "rm_lib.inc"
#include "scratch_loop.inc"

#ifndef SCRATCH_COUNT
#define SCRATCH_COUNT 20000
#endif

	.section .text.start, "ax"
	.globl	_start
_start:
	cli
	cld
	scratch_loop SCRATCH_COUNT
#if SCRATCH_COUNT > 0
	mov	$COM1_SCR, %dx
	in	%dx, %al
	cmp	$1, %al
	je	1f
	rm_exit	1
1:
#endif
	rm_exit	EXIT_SCRATCH_DONE
