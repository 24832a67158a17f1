/* SPDX-License-Identifier: MIT */
/*
 * Constants shared by the test guests (assembly and C). A guest reports
 * through the debug-exit port: sluice exits with status (v << 1) | 1.
 */
#ifndef SLUICE_GUEST_H
#define SLUICE_GUEST_H

#define COM1	    0x3f8
#define COM1_RBR    (COM1 + 0)
#define COM1_THR    (COM1 + 0)
#define COM1_LSR    (COM1 + 5)
#define COM1_SCR    (COM1 + 7)
#define LSR_DR	    0x01
#define LSR_THRE    0x20
#define EXIT_PORT   0xf4
#define I8042_CMD   0x64
#define I8042_RESET 0xfe

/* Exit values shared by all guests (values below 0x70 are per-guest). */
#define EXIT_PASS  0x00
#define EXIT_HELLO 0x21 /* hello's known value: status 0x43 = 67 */
/* Benchmark guests end with this, not 0: QEMU itself exits 1 on errors. */
#define EXIT_SCRATCH_DONE     0x31 /* status 99 */
#define EXIT_TIMEOUT_RX	      0x70 /* no serial input arrived */
#define EXIT_LINE_TOO_LONG    0x71
#define EXIT_WRONG_ENTRY      0x7b /* entered through an entry point we do not support */
#define EXIT_BAD_EXCEPTION    0x7d /* unexpected CPU exception */
#define EXIT_SERIAL_STUCK     0x7e /* LSR.THRE never set */
#define EXIT_VMM_DID_NOT_STOP 0x7f

#endif
