/* SPDX-License-Identifier: MIT */
/*
 * PVH guest: an ELF64 whose Xen note (XEN_ELFNOTE_PHYS32_ENTRY, type 18)
 * names a 32-bit entry, entered with paging off and EBX = hvm_start_info.
 * Checks the start-info magic and prints the command line it points to.
 * Exit values: 0 pass, 1 bad magic, 2 no command line, 3 no memory map.
 */
#include "pm_lib.inc"

#define HVM_START_MAGIC	 0x336ec578
#define HVM_VERSION	 4  /* u32 */
#define HVM_CMDLINE	 24 /* u64 paddr */
#define HVM_MEMMAP	 40 /* u64 paddr (version >= 1) */
#define HVM_MEMMAP_COUNT 48 /* u32 */

	.section .note.Xen, "a", @note
	.balign 4
	.long	4		/* namesz */
	.long	4		/* descsz */
	.long	18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.long	pvh_start

	.section .text.start, "ax"
	.globl	pvh_start
pvh_start:
	cli
	cld
	mov	$stack_top, %esp
	mov	%ebx, %ebp
	pm_print msg_ok
	mov	%ebp, %eax
	call	pm_puthex
	pm_print msg_magic
	mov	(%ebp), %eax
	call	pm_puthex
	pm_print msg_crlf
	cmpl	$HVM_START_MAGIC, (%ebp)
	je	1f
	pm_print msg_badmagic
	pm_exit	1
1:
	/* The command line must be below 4 GiB for a 32-bit guest to see it. */
	mov	HVM_CMDLINE(%ebp), %esi
	cmpl	$0, HVM_CMDLINE + 4(%ebp)
	jne	2f
	test	%esi, %esi
	jz	2f
	pm_print msg_cmdline
	mov	$256, %ecx
	call	pm_putsn
	pm_print msg_crlf
	jmp	3f
2:	pm_print msg_nocmdline
	pm_exit	2
3:
	/* Version 1 added the memory map; sluice must describe RAM. */
	cmpl	$1, HVM_VERSION(%ebp)
	jb	4f
	mov	HVM_MEMMAP_COUNT(%ebp), %eax
	test	%eax, %eax
	jnz	4f
	pm_print msg_nomemmap
	pm_exit	3
4:	pm_exit	EXIT_PASS

	.section .rodata
msg_ok:		.asciz	"PVH OK ebx=0x"
msg_magic:	.asciz	" magic=0x"
msg_crlf:	.asciz	"\r\n"
msg_badmagic:	.asciz	"PVH FAIL: bad hvm_start_info magic\r\n"
msg_cmdline:	.asciz	"PVH cmdline: "
msg_nocmdline:	.asciz	"PVH FAIL: no command line\r\n"
msg_nomemmap:	.asciz	"PVH FAIL: empty memory map\r\n"

	.section .bss
	.balign 16
	.space	4096
stack_top:
