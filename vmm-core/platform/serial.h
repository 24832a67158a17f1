/* SPDX-License-Identifier: MIT */
/*
 * 16550A UART (COM1 at 0x3f8, IRQ 4 on a PC), enough of it for Linux's 8250
 * driver in both directions and for polling guests.
 *
 * Transmission is synchronous: a byte written to THR is written to out_fd
 * at once, so THR/TSR are always empty again when the write returns (the
 * THRE interrupt is dropped and re-raised, which gives an edge-triggered
 * IOAPIC pin a fresh edge, as QEMU does). out_fd should be non-blocking if
 * whatever reads it can stall: EAGAIN is waited on for a short, bounded time
 * and then the byte is dropped and counted, as is EPIPE.
 *
 * Reception: the host pushes bytes with serial_receive() into the 16-byte
 * RX FIFO (1 byte when the guest has the FIFO disabled). When it is full the
 * host must stop reading its input; serial_rx_wake_fd() becomes readable
 * once the guest has emptied the FIFO. There is no character-timeout timer:
 * data below the FIFO trigger level is reported at once as a timeout
 * interrupt, which Linux handles like received data.
 */
#ifndef SLUICE_SERIAL_H
#define SLUICE_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "irq.h"

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_GSI	 4
#define SERIAL_NR_PORTS	 8
#define SERIAL_FIFO_SIZE 16

struct serial {
	pthread_mutex_t lock;
	struct irq_sink *irq;
	uint32_t gsi;
	int out_fd;	      /* -1: output discarded */
	int rx_wake_fd;	      /* eventfd */
	int irq_level;	      /* last level sent to irq, -1 before the first */
	bool rx_host_blocked; /* serial_receive() refused bytes since the last wake */

	uint16_t divisor;
	uint8_t ier, iir, fcr, lcr, mcr, lsr, msr, scr;
	bool thr_ipending;
	uint8_t rx_trigger; /* FIFO trigger level in bytes */

	uint8_t rx_fifo[SERIAL_FIFO_SIZE];
	uint8_t rx_head, rx_count;

	uint64_t tx_bytes;
	uint64_t tx_dropped; /* bytes lost to EAGAIN/EPIPE/errors on out_fd */
};

/* out_fd is not owned: serial_destroy() does not close it. */
int serial_init(struct serial *s, struct irq_sink *irq, uint32_t gsi, int out_fd);
/* Register the 8 ports at base..base+7 on the PIO bus. */
int serial_attach(struct serial *s, struct bus *pio, uint16_t base);
/* Host input into the RX FIFO; returns the bytes accepted (0 when full). */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);
/* eventfd signalled when the guest drains an RX FIFO that refused input. */
int serial_rx_wake_fd(struct serial *s);
void serial_destroy(struct serial *s);

#endif
