/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 guest with segments below 1 MiB, as real-mode test kernels
 * are linked: an ELF32 (no a.out kludge) whose code and bss sit at 0x8000,
 * with more segments over 0x500 and 0x6000 and on the last page of 64 MiB,
 * i.e. over every place sluice puts its boot data by default (GDT/IDT,
 * information structure and memory map, stack, command line, module).
 * It checks that its segments arrived intact, and that every piece of
 * boot data it is handed (information structure, memory map, command line,
 * loader name, module list, module and its string, GDT, IDT, the stack
 * below ESP) lies in RAM outside its segments, above the IVT/BDA and
 * outside the reserved BIOS area, and has the right content. Run it with
 * 64 MiB of RAM and a module that starts with "SLUICE-MB-MODULE".
 * Exit values: 0 pass; 1 bad EAX magic; 2 info flags lack cmdline, memory
 * info, memory map, loader name or modules; 3 not exactly one module;
 * 4-13 a piece of boot data overlaps the image or a reserved area (see
 * check_* below); 20-25 the image was not loaded intact; 26 wrong memory
 * map; 27 wrong module content; 28 wrong loader name.
 */
#include "pm_lib.inc"

#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0x00000003 /* page-align modules, memory info; ELF, no a.out */
#define MB_BOOT_MAGIC	0x2badb002
#define MBI_FLAGS	0
#define MBI_MEM_UPPER	8
#define MBI_CMDLINE	16
#define MBI_MODS_COUNT	20
#define MBI_MODS_ADDR	24
#define MBI_MMAP_LEN	44
#define MBI_MMAP_ADDR	48
#define MBI_LOADER	64
#define MBI_SIZE	72
#define MBI_NEEDED	0x245 /* memory, cmdline, mmap, loader name */
#define MBI_F_MODS	0x8
#define MOD_SIZE	16
#define EBDA_START	0x9fc00
#define HIGH_START	0x100000
#define DATA_FLOOR	0x500 /* IVT and BDA below */

/* Address-dependent fill: byte k of a region is (k * 7 + seed) & 0xff. */
.macro pattern len, seed
	.set	k, 0
	.rept	\len
	.byte	(k * 7 + \seed) & 0xff
	.set	k, k + 1
	.endr
.endm

	.section .text.start, "ax"
	.globl	mbl_start
	.balign	4
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
mbl_start:
	cli
	cld
	mov	%esp, entry_esp
	mov	$stack_top, %esp
	mov	%eax, %edi
	mov	%ebx, %ebp
	sgdt	gdtr
	sidt	idtr
	pm_print msg_ok
	mov	%edi, %eax
	call	pm_puthex
	pm_print msg_ebx
	mov	%ebp, %eax
	call	pm_puthex
	pm_print msg_esp
	mov	entry_esp, %eax
	call	pm_puthex
	pm_print msg_gdt
	mov	gdtr + 2, %eax
	call	pm_puthex
	pm_print msg_crlf
	cmp	$MB_BOOT_MAGIC, %edi
	je	1f
	pm_print msg_badmagic
	pm_exit	1

	/* The image first: before anything else could be blamed for damage. */
1:	cmpl	$MB_MAGIC, mb_header
	jne	bad_image
	cmpl	$MB_FLAGS, mb_header + 4
	jne	bad_image
	mov	$20, %bl
	mov	$low_begin, %esi
	mov	$low_end - low_begin, %ecx
	mov	$0x11, %dl
	call	check_pattern
	mov	$21, %bl
	mov	$info_begin, %esi
	mov	$info_end - info_begin, %ecx
	mov	$0x22, %dl
	call	check_pattern
	mov	$22, %bl
	mov	$top_begin, %esi
	mov	$top_end - top_begin, %ecx
	mov	$0x33, %dl
	call	check_pattern
	mov	$23, %bl
	mov	$text_pattern, %esi
	mov	$TEXT_PATTERN_LEN, %ecx
	mov	$0x44, %dl
	call	check_pattern
	/* bss below our stack: must be zero, and covers 0x8ff0 and 0x20000. */
	mov	$bss_begin, %esi
	mov	$stack_bottom - bss_begin, %ecx
2:	cmpb	$0, (%esi)
	jne	bad_bss
	inc	%esi
	dec	%ecx
	jnz	2b

	testl	$0x80000000, %ebp /* boot data must be where we can reach it */
	jnz	bad_flags
	mov	MBI_FLAGS(%ebp), %eax
	and	$MBI_NEEDED | MBI_F_MODS, %eax
	cmp	$MBI_NEEDED | MBI_F_MODS, %eax
	jne	bad_flags
	cmpl	$1, MBI_MODS_COUNT(%ebp)
	jne	bad_modcount

	/* Where each piece lies: ESI = start, ECX = length, BL = exit value. */
	mov	%ebp, %esi
	mov	$MBI_SIZE, %ecx
	mov	$4, %bl
	call	check_range
	mov	MBI_MMAP_ADDR(%ebp), %esi
	mov	MBI_MMAP_LEN(%ebp), %ecx
	mov	$5, %bl
	call	check_range
	mov	MBI_CMDLINE(%ebp), %esi
	call	strsize
	mov	$6, %bl
	call	check_range
	mov	MBI_LOADER(%ebp), %esi
	call	strsize
	mov	$7, %bl
	call	check_range
	mov	MBI_MODS_ADDR(%ebp), %esi
	mov	$MOD_SIZE, %ecx
	mov	$8, %bl
	call	check_range
	mov	MBI_MODS_ADDR(%ebp), %edx
	mov	(%edx), %esi		/* mod_start */
	mov	4(%edx), %ecx		/* mod_end */
	sub	%esi, %ecx
	mov	$9, %bl
	call	check_range
	mov	8(%edx), %esi		/* string */
	call	strsize
	mov	$10, %bl
	call	check_range
	mov	gdtr + 2, %esi
	movzwl	gdtr, %ecx
	inc	%ecx
	mov	$11, %bl
	call	check_range
	mov	idtr + 2, %esi
	movzwl	idtr, %ecx
	inc	%ecx
	mov	$12, %bl
	call	check_range
	mov	entry_esp, %esi
	sub	$256, %esi
	mov	$256, %ecx
	mov	$13, %bl
	call	check_range

	/* Contents. */
	pm_print msg_cmdline
	mov	MBI_CMDLINE(%ebp), %esi
	mov	$256, %ecx
	call	pm_putsn
	pm_print msg_loader
	mov	MBI_LOADER(%ebp), %esi
	call	pm_puts
	pm_print msg_crlf
	mov	MBI_LOADER(%ebp), %esi
	mov	$want_loader, %edi
	mov	$7, %ecx
	repe	cmpsb
	jne	bad_loader
	pm_print msg_mem
	mov	MBI_MEM_UPPER(%ebp), %eax
	call	pm_puthex
	pm_print msg_crlf

	/* Memory map: RAM from 0 to the EBDA, reserved to 1 MiB, RAM from 1 MiB. */
	mov	MBI_MMAP_ADDR(%ebp), %esi
	cmpl	$3 * 24, MBI_MMAP_LEN(%ebp)
	jb	bad_mmap
	cmpl	$20, (%esi)
	jne	bad_mmap
	cmpl	$0, 4(%esi)
	jne	bad_mmap
	cmpl	$EBDA_START, 12(%esi)
	jne	bad_mmap
	cmpl	$1, 20(%esi)
	jne	bad_mmap
	cmpl	$2, 24 + 20(%esi)
	jne	bad_mmap
	cmpl	$HIGH_START, 48 + 4(%esi)
	jne	bad_mmap
	cmpl	$1, 48 + 20(%esi)
	jne	bad_mmap

	/* The module: page aligned, with the content the test gave it. */
	mov	MBI_MODS_ADDR(%ebp), %edx
	pm_print msg_module
	mov	(%edx), %eax
	call	pm_puthex
	pm_print msg_dash
	mov	4(%edx), %eax
	call	pm_puthex
	pm_print msg_modname
	mov	8(%edx), %esi
	call	pm_puts
	pm_print msg_crlf
	testl	$0xfff, (%edx)
	jnz	bad_module
	mov	4(%edx), %ecx
	sub	(%edx), %ecx
	cmp	$WANT_MODULE_LEN, %ecx
	jb	bad_module
	mov	(%edx), %esi
	mov	$want_module, %edi
	mov	$WANT_MODULE_LEN, %ecx
	repe	cmpsb
	jne	bad_module

	pm_print msg_pass
	pm_exit	EXIT_PASS

bad_image:
	pm_print msg_badimage
	pm_exit	24
bad_bss:
	pm_print msg_badbss
	pm_exit	25
bad_flags:
	pm_print msg_badflags
	pm_exit	2
bad_modcount:
	pm_print msg_badmodcount
	pm_exit	3
bad_mmap:
	pm_print msg_badmmap
	pm_exit	26
bad_module:
	pm_print msg_badmodule
	pm_exit	27
bad_loader:
	pm_print msg_badloader
	pm_exit	28

/* ECX = size of the NUL-terminated string at ESI, NUL included (max 64 KiB). */
strsize:
	push	%esi
	xor	%ecx, %ecx
1:	inc	%ecx
	cmpb	$0, (%esi)
	je	2f
	inc	%esi
	cmp	$0x10000, %ecx
	jb	1b
2:	pop	%esi
	ret

/* Bytes [ESI, ESI + ECX) hold pattern(seed DL), else exit with BL. */
check_pattern:
	mov	%dl, %al
1:	cmp	(%esi), %al
	jne	fail_bl_image
	add	$7, %al
	inc	%esi
	dec	%ecx
	jnz	1b
	ret

/*
 * [ESI, ESI + ECX) must not be empty, must start at or above DATA_FLOOR,
 * not wrap, not touch [EBDA_START, HIGH_START) and not touch any of our
 * segments; else print it and exit with BL.
 */
check_range:
	push	%eax
	push	%edx
	push	%edi
	test	%ecx, %ecx
	jz	fail_bl
	cmp	$DATA_FLOOR, %esi
	jb	fail_bl
	mov	%esi, %edx
	add	%ecx, %edx		/* EDX = end */
	jc	fail_bl
	cmp	$HIGH_START, %esi
	jae	1f
	cmp	$EBDA_START, %edx
	ja	fail_bl
1:	mov	$segments, %edi
2:	cmpl	$0, 4(%edi)
	je	3f
	cmp	4(%edi), %esi		/* start < seg_end */
	jae	4f
	cmp	(%edi), %edx		/* end > seg_start */
	ja	fail_bl
4:	add	$8, %edi
	jmp	2b
3:	pop	%edi
	pop	%edx
	pop	%eax
	ret

fail_bl:
	pm_print msg_overlap
	mov	%esi, %eax
	call	pm_puthex
	pm_print msg_len
	mov	%ecx, %eax
	call	pm_puthex
	pm_print msg_crlf
	jmp	fail_exit
fail_bl_image:
	pm_print msg_damaged
	mov	%esi, %eax
	call	pm_puthex
	pm_print msg_crlf
fail_exit:
	mov	%bl, %al
	out	%al, $EXIT_PORT
	jmp	pm_vmm_did_not_stop

	.section .rodata
/* [start, end) of each PT_LOAD, then a zero end. */
	.balign	4
segments:
	.long	_low_start, _low_end
	.long	_info_start, _info_end
	.long	_text_start, _bss_end
	.long	_top_start, _top_end
	.long	0, 0
want_loader:	.asciz	"sluice"
want_module:	.ascii	"SLUICE-MB-MODULE"
	.set	WANT_MODULE_LEN, . - want_module
msg_ok:		.asciz	"MBLOW OK eax=0x"
msg_ebx:	.asciz	" ebx=0x"
msg_esp:	.asciz	" esp=0x"
msg_gdt:	.asciz	" gdt=0x"
msg_crlf:	.asciz	"\r\n"
msg_badmagic:	.asciz	"MBLOW FAIL: bad boot magic in EAX\r\n"
msg_cmdline:	.asciz	"MBLOW cmdline: "
msg_loader:	.asciz	"\r\nMBLOW loader: "
msg_mem:	.asciz	"MBLOW mem_upper KiB=0x"
msg_module:	.asciz	"MBLOW module 0x"
msg_dash:	.asciz	"-0x"
msg_modname:	.asciz	" "
msg_pass:	.asciz	"MBLOW PASS\r\n"
msg_badimage:	.asciz	"MBLOW FAIL: multiboot header at 0x8000 damaged\r\n"
msg_badbss:	.asciz	"MBLOW FAIL: bss not zero\r\n"
msg_badflags:	.asciz	"MBLOW FAIL: information flags incomplete\r\n"
msg_badmodcount: .asciz	"MBLOW FAIL: not exactly one module\r\n"
msg_badmmap:	.asciz	"MBLOW FAIL: unexpected memory map\r\n"
msg_badmodule:	.asciz	"MBLOW FAIL: module misaligned or wrong content\r\n"
msg_badloader:	.asciz	"MBLOW FAIL: boot loader name is not sluice\r\n"
msg_overlap:	.asciz	"MBLOW FAIL: boot data overlaps the image or a reserved area at 0x"
msg_len:	.asciz	" len 0x"
msg_damaged:	.asciz	"MBLOW FAIL: image damaged at 0x"

	.section .data
	.balign	4
entry_esp:	.long	0
gdtr:		.word	0
		.long	0
idtr:		.word	0
		.long	0
text_pattern:	pattern 0x200, 0x44
	.set	TEXT_PATTERN_LEN, . - text_pattern

	/* Over the default GDT/IDT (0x500-0x52f). */
	.section .lowdata, "aw"
low_begin:
	pattern 0x100, 0x11
low_end:

	/* Over the default information structure, memory map, module list (0x6000-0x614f). */
	.section .infodata, "aw"
info_begin:
	pattern 0x200, 0x22
info_end:

	/* The last page of 64 MiB: where the module would go by default. */
	.section .topdata, "aw"
top_begin:
	pattern 0x1000, 0x33
top_end:

	/* Over the default stack (0x8ff0) and command line (0x20000). */
	.section .bss
	.balign	16
bss_begin:
	.space	0x20000
stack_bottom:
	.space	4096
stack_top:
