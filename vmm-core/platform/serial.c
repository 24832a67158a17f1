/* SPDX-License-Identifier: MIT */
#include "serial.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Register offsets from the base port. */
#define UART_RBR 0 /* read, DLAB=0 */
#define UART_THR 0 /* write, DLAB=0 */
#define UART_DLL 0 /* DLAB=1 */
#define UART_IER 1 /* DLAB=0 */
#define UART_DLM 1 /* DLAB=1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI	 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI	 0x08
#define IER_MASK 0x0f

#define IIR_NO_INT	 0x01
#define IIR_MSI		 0x00
#define IIR_THRI	 0x02
#define IIR_RDI		 0x04
#define IIR_RLSI	 0x06
#define IIR_CTI		 0x0c
#define IIR_ID_MASK	 0x0f
#define IIR_FIFO_ENABLED 0xc0

#define FCR_FE	     0x01
#define FCR_RFR	     0x02
#define FCR_XFR	     0x04
#define FCR_ITL_MASK 0xc0
#define FCR_STORED   0xc9 /* FE, DMA mode, trigger level */

#define LCR_DLAB 0x80

#define MCR_DTR	 0x01
#define MCR_RTS	 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR	   0x01
#define LSR_OE	   0x02
#define LSR_PE	   0x04
#define LSR_FE	   0x08
#define LSR_BI	   0x10
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_DELTA 0x0f
#define MSR_CTS	  0x10
#define MSR_DSR	  0x20
#define MSR_RI	  0x40
#define MSR_DCD	  0x80

/* How long a non-blocking out_fd may stay full before a byte is dropped. */
#define SERIAL_TX_WAIT_MS 100

static const uint8_t serial_trigger_levels[4] = {1, 4, 8, 14};

static unsigned serial_rx_capacity(const struct serial *s)
{
	return (s->fcr & FCR_FE) ? SERIAL_FIFO_SIZE : 1;
}

static void serial_update_irq(struct serial *s)
{
	uint8_t id = IIR_NO_INT;
	int level;

	if ((s->ier & IER_RLSI) && (s->lsr & LSR_ERRORS))
		id = IIR_RLSI;
	else if ((s->ier & IER_RDI) && s->rx_count)
		/* No character-timeout timer: data below the trigger level is
		 * reported at once as a timeout, which drivers treat as RDA. */
		id = ((s->fcr & FCR_FE) && s->rx_count < s->rx_trigger) ? IIR_CTI : IIR_RDI;
	else if ((s->ier & IER_THRI) && s->thr_ipending)
		id = IIR_THRI;
	else if ((s->ier & IER_MSI) && (s->msr & MSR_DELTA))
		id = IIR_MSI;
	s->iir = id | ((s->fcr & FCR_FE) ? IIR_FIFO_ENABLED : 0);

	level = id != IIR_NO_INT;
	if (level != s->irq_level && s->irq) {
		if (s->irq->set_level(s->irq, s->gsi, level) == 0)
			s->irq_level = level;
	}
}

static void serial_rx_wake(struct serial *s)
{
	uint64_t one = 1;

	if (!s->rx_host_blocked || s->rx_count || (s->mcr & MCR_LOOP))
		return;
	s->rx_host_blocked = false;
	/* Only fails if the counter would overflow, which means it is readable. */
	if (write(s->rx_wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("serial: cannot signal the RX wake eventfd: %s", strerror(errno));
}

static void serial_rx_reset(struct serial *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
	serial_rx_wake(s);
}

/* A byte arriving from the line (host input or loopback). */
static void serial_rx_put(struct serial *s, uint8_t byte)
{
	unsigned cap = serial_rx_capacity(s);

	if (s->rx_count < cap) {
		s->rx_fifo[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = byte;
		s->rx_count++;
	} else if (cap == 1) {
		/* 16450 mode: the holding register is overwritten. */
		s->rx_fifo[s->rx_head] = byte;
		s->lsr |= LSR_OE;
	} else {
		/* A full FIFO keeps its contents; the new byte is lost. */
		s->lsr |= LSR_OE;
	}
}

static uint8_t serial_rx_get(struct serial *s)
{
	uint8_t byte;

	if (!s->rx_count)
		return 0;
	byte = s->rx_fifo[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
	s->rx_count--;
	if (!s->rx_count)
		s->rx_head = 0;
	serial_rx_wake(s);
	return byte;
}

static void serial_tx(struct serial *s, uint8_t byte)
{
	struct pollfd pfd;
	bool waited = false;
	ssize_t n;

	if (s->out_fd < 0)
		return;
	for (;;) {
		n = write(s->out_fd, &byte, 1);
		if (n == 1) {
			s->tx_bytes++;
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && !waited) {
			/* Bounded wait, so a stalled reader cannot hang the vCPU. */
			pfd = (struct pollfd){.fd = s->out_fd, .events = POLLOUT};
			waited = true;
			if (poll(&pfd, 1, SERIAL_TX_WAIT_MS) >= 0 || errno == EINTR)
				continue;
		}
		break;
	}
	s->tx_dropped++;
	if (n < 0 && errno != EAGAIN) {
		log_warn("serial: output fd %d failed (%s); discarding further output", s->out_fd,
			 strerror(errno));
		s->out_fd = -1;
	}
}

static void serial_write_thr(struct serial *s, uint8_t byte)
{
	s->thr_ipending = false;
	s->lsr &= ~(LSR_THRE | LSR_TEMT);
	serial_update_irq(s);

	if (s->mcr & MCR_LOOP)
		serial_rx_put(s, byte);
	else
		serial_tx(s, byte);

	/* Transmission is synchronous: THR and the shift register are empty. */
	s->lsr |= LSR_THRE | LSR_TEMT;
	s->thr_ipending = true;
	serial_update_irq(s);
}

static void serial_write_ier(struct serial *s, uint8_t val)
{
	uint8_t changed = (s->ier ^ val) & IER_MASK;

	s->ier = val & IER_MASK;
	if (changed & IER_THRI)
		/* Enabling THRI with THR empty raises THRE even if an IIR read
		 * had acknowledged it (Windows and Linux's THRE test rely on it). */
		s->thr_ipending = (s->ier & IER_THRI) && (s->lsr & LSR_THRE);
	if (changed)
		serial_update_irq(s);
}

static void serial_write_fcr(struct serial *s, uint8_t val)
{
	if (s->fcr == val)
		return;
	/* Switching the FIFOs on or off flushes them. */
	if ((val ^ s->fcr) & FCR_FE)
		val |= FCR_RFR | FCR_XFR;
	/* The FIFO size changes with FE; flush before the new capacity applies. */
	if (val & FCR_RFR) {
		s->fcr = val & FCR_STORED;
		serial_rx_reset(s);
	}
	if (val & FCR_XFR) {
		s->lsr |= LSR_THRE | LSR_TEMT;
		s->thr_ipending = true;
	}
	s->fcr = val & FCR_STORED;
	s->rx_trigger = serial_trigger_levels[(s->fcr & FCR_ITL_MASK) >> 6];
	serial_update_irq(s);
}

/* Modem status lines as the guest sees them. */
static uint8_t serial_msr_lines(uint8_t mcr)
{
	if (!(mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return ((mcr & MCR_RTS) ? MSR_CTS : 0) | ((mcr & MCR_DTR) ? MSR_DSR : 0) |
	       ((mcr & MCR_OUT1) ? MSR_RI : 0) | ((mcr & MCR_OUT2) ? MSR_DCD : 0);
}

static void serial_write_mcr(struct serial *s, uint8_t val)
{
	uint8_t old = serial_msr_lines(s->mcr), new;
	uint8_t delta = 0;

	s->mcr = val & MCR_MASK;
	new = serial_msr_lines(s->mcr);
	if ((old ^ new) & MSR_CTS)
		delta |= MSR_DCTS;
	if ((old ^ new) & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old ^ new) & MSR_DCD)
		delta |= MSR_DDCD;
	if ((old & MSR_RI) && !(new &MSR_RI))
		delta |= MSR_TERI;
	s->msr = new | (s->msr & MSR_DELTA) | delta;
	serial_rx_wake(s); /* leaving loopback reconnects host input */
	serial_update_irq(s);
}

static uint8_t serial_read_reg(struct serial *s, unsigned reg)
{
	uint8_t val;

	switch (reg) {
	case UART_RBR:
		if (s->lcr & LCR_DLAB)
			return s->divisor & 0xff;
		val = serial_rx_get(s);
		serial_update_irq(s);
		return val;
	case UART_IER:
		if (s->lcr & LCR_DLAB)
			return s->divisor >> 8;
		return s->ier;
	case UART_IIR:
		val = s->iir;
		if ((val & IIR_ID_MASK) == IIR_THRI) {
			s->thr_ipending = false;
			serial_update_irq(s);
		}
		return val;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		val = s->lsr | (s->rx_count ? LSR_DR : 0);
		if (s->lsr & (LSR_OE | LSR_BI)) {
			s->lsr &= ~(LSR_OE | LSR_BI);
			serial_update_irq(s);
		}
		return val;
	case UART_MSR:
		val = s->msr;
		if (s->msr & MSR_DELTA) {
			s->msr &= ~MSR_DELTA;
			serial_update_irq(s);
		}
		return val;
	default:
		return s->scr;
	}
}

static void serial_write_reg(struct serial *s, unsigned reg, uint8_t val)
{
	switch (reg) {
	case UART_THR:
		if (s->lcr & LCR_DLAB)
			s->divisor = (s->divisor & 0xff00) | val;
		else
			serial_write_thr(s, val);
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB)
			s->divisor = (s->divisor & 0x00ff) | (uint16_t)(val << 8);
		else
			serial_write_ier(s, val);
		break;
	case UART_FCR:
		serial_write_fcr(s, val);
		break;
	case UART_LCR:
		s->lcr = val;
		break;
	case UART_MCR:
		serial_write_mcr(s, val);
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* factory-test writes: ignored */
	default:
		s->scr = val;
		break;
	}
}

/* Wider accesses are split into byte accesses, as on the ISA bus. */
static void serial_pio_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < len; i++)
		data[i] = offset + i < SERIAL_NR_PORTS ? serial_read_reg(s, offset + i) : 0xff;
	pthread_mutex_unlock(&s->lock);
}

static void serial_pio_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < len; i++)
		if (offset + i < SERIAL_NR_PORTS)
			serial_write_reg(s, offset + i, data[i]);
	pthread_mutex_unlock(&s->lock);
}

static const struct bus_dev_ops serial_ops = {
    .read = serial_pio_read,
    .write = serial_pio_write,
};

int serial_init(struct serial *s, struct irq_sink *irq, uint32_t gsi, int out_fd)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->rx_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->rx_wake_fd < 0) {
		ret = -errno;
		log_err("serial: cannot create the RX wake eventfd: %s", strerror(errno));
		return ret;
	}
	ret = pthread_mutex_init(&s->lock, NULL);
	if (ret) {
		log_err("serial: cannot initialise mutex: %s", strerror(ret));
		close(s->rx_wake_fd);
		s->rx_wake_fd = -1;
		return -ret;
	}
	s->irq = irq;
	s->gsi = gsi;
	s->out_fd = out_fd;
	s->irq_level = -1;
	s->divisor = 12; /* 9600 baud */
	s->mcr = MCR_OUT2;
	s->msr = serial_msr_lines(s->mcr);
	s->lsr = LSR_THRE | LSR_TEMT;
	s->iir = IIR_NO_INT;
	s->rx_trigger = 1;
	pthread_mutex_lock(&s->lock);
	serial_update_irq(s); /* puts the line in a known (low) state */
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int serial_attach(struct serial *s, struct bus *pio, uint16_t base)
{
	if ((uint32_t)base + SERIAL_NR_PORTS > 0x10000) {
		log_err("serial: ports 0x%x+%d do not fit in the I/O space", base, SERIAL_NR_PORTS);
		return -EINVAL;
	}
	return bus_register(pio, base, SERIAL_NR_PORTS, &serial_ops, s, "serial");
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;
	unsigned cap;

	pthread_mutex_lock(&s->lock);
	/* In loopback the receiver is disconnected from the line. */
	cap = (s->mcr & MCR_LOOP) ? 0 : serial_rx_capacity(s);
	while (n < len && s->rx_count < cap)
		serial_rx_put(s, buf[n++]);
	if (n < len)
		s->rx_host_blocked = true;
	if (n)
		serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

int serial_rx_wake_fd(struct serial *s)
{
	return s->rx_wake_fd;
}

void serial_destroy(struct serial *s)
{
	if (s->rx_wake_fd >= 0)
		close(s->rx_wake_fd);
	s->rx_wake_fd = -1;
	pthread_mutex_destroy(&s->lock);
}
