/* SPDX-License-Identifier: MIT */
/*
 * The real-mode part of the long-mode guest's bzImage: a boot sector with
 * the Linux setup header (boot protocol 2.15, XLF_KERNEL_64) and one setup
 * sector. Only the 64-bit entry is supported; the 16-bit one fails loudly.
 */
#include "guest.h"

	.section .setup, "ax"
	.code16
	.globl	_setup_start
_setup_start:
	.org	0x1f1
	.byte	1		/* 0x1f1 setup_sects */
	.word	0		/* 0x1f2 root_flags */
	.long	_syssize	/* 0x1f4 syssize: 16-byte units of the kernel */
	.word	0		/* 0x1f8 ram_size */
	.word	0xffff		/* 0x1fa vid_mode: normal */
	.word	0		/* 0x1fc root_dev */
	.word	0xaa55		/* 0x1fe boot_flag */
	.byte	0xeb, setup_stub - 1f /* 0x200 jump */
1:	.ascii	"HdrS"		/* 0x202 header */
	.word	0x020f		/* 0x206 version */
	.long	0		/* 0x208 realmode_swtch */
	.word	0x1000		/* 0x20c start_sys_seg */
	.word	0		/* 0x20e kernel_version */
	.byte	0		/* 0x210 type_of_loader */
	.byte	0x01		/* 0x211 loadflags: LOADED_HIGH */
	.word	0x8000		/* 0x212 setup_move_size */
	.long	0x100000	/* 0x214 code32_start */
	.long	0		/* 0x218 ramdisk_image */
	.long	0		/* 0x21c ramdisk_size */
	.long	0		/* 0x220 bootsect_kludge */
	.word	0		/* 0x224 heap_end_ptr */
	.byte	0		/* 0x226 ext_loader_ver */
	.byte	0		/* 0x227 ext_loader_type */
	.long	0		/* 0x228 cmd_line_ptr */
	.long	0x7fffffff	/* 0x22c initrd_addr_max */
	.long	0x200000	/* 0x230 kernel_alignment */
	.byte	0		/* 0x234 relocatable_kernel: load at 1 MiB */
	.byte	12		/* 0x235 min_alignment */
	.word	1		/* 0x236 xloadflags: XLF_KERNEL_64 */
	.long	255		/* 0x238 cmdline_size */
	.long	0		/* 0x23c hardware_subarch */
	.quad	0		/* 0x240 hardware_subarch_data */
	.long	0		/* 0x248 payload_offset */
	.long	0		/* 0x24c payload_length */
	.quad	0		/* 0x250 setup_data */
	.quad	0x100000	/* 0x258 pref_address */
	.long	_init_size	/* 0x260 init_size */
	.long	0		/* 0x264 handover_offset */
	.long	0		/* 0x268 kernel_info_offset */
setup_stub:			/* 0x26c */
	mov	$EXIT_WRONG_ENTRY, %al
	out	%al, $EXIT_PORT
	jmp	setup_stub
	.org	0x400		/* (1 + setup_sects) * 512 */
