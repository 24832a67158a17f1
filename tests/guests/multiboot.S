/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 guest: a raw binary with the a.out-kludge address fields
 * (flag 16), so loading needs no ELF parsing. Entered in 32-bit protected
 * mode with EAX = 0x2BADB002 and EBX = multiboot_info.
 * Exit values: 0 pass, 1 bad EAX magic, 2 no command line, 3 no memory info.
 */
#include "pm_lib.inc"

#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0x00010002 /* want memory info; address fields valid */
#define MB_BOOT_MAGIC	0x2badb002
#define MBI_FLAGS	0
#define MBI_MEM_UPPER	8
#define MBI_CMDLINE	16
#define MBI_F_MEM	0x1
#define MBI_F_CMDLINE	0x4

	.section .text.start, "ax"
	.globl	mb_start
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
	.long	mb_header	/* header_addr */
	.long	_load_start	/* load_addr */
	.long	_load_end	/* load_end_addr */
	.long	_bss_end	/* bss_end_addr */
	.long	mb_start	/* entry_addr */
mb_start:
	cli
	cld
	mov	$stack_top, %esp
	mov	%eax, %edi
	mov	%ebx, %ebp
	pm_print msg_ok
	mov	%edi, %eax
	call	pm_puthex
	pm_print msg_ebx
	mov	%ebp, %eax
	call	pm_puthex
	pm_print msg_crlf
	cmp	$MB_BOOT_MAGIC, %edi
	je	1f
	pm_print msg_badmagic
	pm_exit	1
1:	testl	$MBI_F_CMDLINE, MBI_FLAGS(%ebp)
	jz	2f
	mov	MBI_CMDLINE(%ebp), %esi
	test	%esi, %esi
	jz	2f
	pm_print msg_cmdline
	mov	$256, %ecx
	call	pm_putsn
	pm_print msg_crlf
	jmp	3f
2:	pm_print msg_nocmdline
	pm_exit	2
3:	testl	$MBI_F_MEM, MBI_FLAGS(%ebp)
	jz	4f
	pm_print msg_mem
	mov	MBI_MEM_UPPER(%ebp), %eax
	call	pm_puthex
	pm_print msg_crlf
	pm_exit	EXIT_PASS
4:	pm_print msg_nomem
	pm_exit	3

	.section .rodata
msg_ok:		.asciz	"MULTIBOOT OK eax=0x"
msg_ebx:	.asciz	" ebx=0x"
msg_crlf:	.asciz	"\r\n"
msg_badmagic:	.asciz	"MULTIBOOT FAIL: bad boot magic in EAX\r\n"
msg_cmdline:	.asciz	"MULTIBOOT cmdline: "
msg_nocmdline:	.asciz	"MULTIBOOT FAIL: no command line\r\n"
msg_mem:	.asciz	"MULTIBOOT mem_upper KiB=0x"
msg_nomem:	.asciz	"MULTIBOOT FAIL: no memory info\r\n"

	.section .bss
	.balign 16
	.space	4096
stack_top:
