/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "irq.h"
#include "serial.h"

#define BASE 0x3f8
#define GSI  4

/* Records every level change the UART sends. */
struct fake_irq {
	struct irq_sink sink;
	int level;
	unsigned raises, lowers, calls;
	uint32_t last_gsi;
};

static int fake_set_level(struct irq_sink *sink, uint32_t gsi, int level)
{
	struct fake_irq *f = (struct fake_irq *)sink;

	f->calls++;
	f->last_gsi = gsi;
	if (level && !f->level)
		f->raises++;
	if (!level && f->level)
		f->lowers++;
	f->level = level;
	return 0;
}

struct ctx {
	struct bus pio;
	struct fake_irq irq;
	struct serial s;
	int pipe_rd, pipe_wr;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	int p[2];

	assert_non_null(c);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	c->pipe_rd = p[0];
	c->pipe_wr = p[1];
	c->irq.sink.set_level = fake_set_level;
	assert_int_equal(bus_init(&c->pio, "pio"), 0);
	assert_int_equal(serial_init(&c->s, &c->irq.sink, GSI, c->pipe_wr), 0);
	assert_int_equal(serial_attach(&c->s, &c->pio, BASE), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	serial_destroy(&c->s);
	bus_destroy(&c->pio);
	close(c->pipe_rd);
	if (c->pipe_wr >= 0)
		close(c->pipe_wr);
	free(c);
	return 0;
}

static uint8_t in8(struct ctx *c, unsigned reg)
{
	uint8_t v = 0;

	assert_true(bus_read(&c->pio, BASE + reg, &v, 1));
	return v;
}

static void out8(struct ctx *c, unsigned reg, uint8_t v)
{
	assert_true(bus_write(&c->pio, BASE + reg, &v, 1));
}

static void test_reset_state(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(c->irq.level, 0);
	assert_int_equal(c->irq.last_gsi, GSI);
	assert_int_equal(in8(c, 2), 0x01);	  /* IIR: no interrupt, no FIFO */
	assert_int_equal(in8(c, 5), 0x60);	  /* LSR: THRE | TEMT */
	assert_int_equal(in8(c, 6) & 0xf0, 0xb0); /* MSR: DCD | DSR | CTS */
	assert_int_equal(in8(c, 1), 0);
}

static void test_tx_to_fd(void **state)
{
	struct ctx *c = *state;
	const char *msg = "hello\n";
	char buf[16] = {0};

	for (const char *p = msg; *p; p++)
		out8(c, 0, (uint8_t)*p);
	assert_int_equal(read(c->pipe_rd, buf, sizeof(buf)), strlen(msg));
	assert_string_equal(buf, msg);
	assert_int_equal(c->s.tx_bytes, strlen(msg));
	/* Polling guests see THR empty again at once. */
	assert_int_equal(in8(c, 5) & 0x60, 0x60);
	/* No interrupt without IER. */
	assert_int_equal(c->irq.raises, 0);
}

static void test_tx_full_pipe_drops(void **state)
{
	struct ctx *c = *state;
	uint8_t junk[4096];
	ssize_t n;

	memset(junk, 'x', sizeof(junk));
	do {
		n = write(c->pipe_wr, junk, sizeof(junk));
	} while (n > 0);
	assert_int_equal(errno, EAGAIN);
	out8(c, 0, 'A'); /* must return (after a bounded wait), not block */
	assert_int_equal(c->s.tx_dropped, 1);

	/* A closed reader: EPIPE is dropped and output turned off. */
	close(c->pipe_rd);
	c->pipe_rd = open("/dev/null", O_RDONLY);
	out8(c, 0, 'B');
	assert_int_equal(c->s.tx_dropped, 2);
	out8(c, 0, 'C');
	assert_int_equal(c->s.tx_dropped, 2); /* discarded, not retried */
}

static void test_thre_interrupt(void **state)
{
	struct ctx *c = *state;
	uint8_t b;

	/* Enabling THRI with THR empty raises the line. */
	out8(c, 1, 0x02);
	assert_int_equal(c->irq.level, 1);
	assert_int_equal(in8(c, 2), 0x02);
	/* The IIR read acknowledged it: the line drops, IIR shows nothing. */
	assert_int_equal(c->irq.level, 0);
	assert_int_equal(in8(c, 2), 0x01);

	/* Writing THR re-arms it: a new edge after the byte is sent. */
	unsigned raises = c->irq.raises;
	out8(c, 0, 'z');
	assert_int_equal(c->irq.level, 1);
	assert_int_equal(c->irq.raises, raises + 1);
	assert_int_equal(read(c->pipe_rd, &b, 1), 1);
	assert_int_equal(b, 'z');

	/* Toggling IER.THRI re-raises even without a write (Linux THRE test). */
	assert_int_equal(in8(c, 2), 0x02);
	out8(c, 1, 0x00);
	assert_int_equal(c->irq.level, 0);
	out8(c, 1, 0x02);
	assert_int_equal(c->irq.level, 1);
	assert_int_equal(in8(c, 2), 0x02);
}

static void test_irq_only_on_change(void **state)
{
	struct ctx *c = *state;
	unsigned calls = c->irq.calls;

	out8(c, 7, 1);
	out8(c, 3, 0x03);
	in8(c, 5);
	in8(c, 2);
	assert_int_equal(c->irq.calls, calls);
}

static void test_rx_and_priority(void **state)
{
	struct ctx *c = *state;
	const uint8_t in[3] = {'a', 'b', 'c'};

	out8(c, 2, 0x01); /* FIFO on, trigger 1 */
	assert_int_equal(in8(c, 2), 0xc1);
	out8(c, 1, 0x07);		   /* RDI | THRI | RLSI */
	assert_int_equal(in8(c, 2), 0xc2); /* THRE (acknowledged by this read) */
	assert_int_equal(c->irq.level, 0);

	assert_int_equal(serial_receive(&c->s, in, 3), 3);
	assert_int_equal(c->irq.level, 1);
	assert_int_equal(in8(c, 5) & 0x01, 0x01); /* DR */
	assert_int_equal(in8(c, 2), 0xc4);	  /* RDA, at or above trigger 1 */
	assert_int_equal(in8(c, 0), 'a');
	assert_int_equal(in8(c, 0), 'b');
	assert_int_equal(in8(c, 0), 'c');
	assert_int_equal(in8(c, 5) & 0x01, 0);
	assert_int_equal(in8(c, 2), 0xc1);
	assert_int_equal(c->irq.level, 0);

	/* Trigger level 8: fewer bytes are a (immediate) character timeout. */
	out8(c, 2, 0x81);
	assert_int_equal(serial_receive(&c->s, in, 2), 2);
	assert_int_equal(in8(c, 2), 0xcc);
	/* FCR RX clear empties the FIFO and drops the interrupt. */
	out8(c, 2, 0x83);
	assert_int_equal(in8(c, 5) & 0x01, 0);
	assert_int_equal(c->irq.level, 0);
}

static void test_rx_fifo_full_and_wake(void **state)
{
	struct ctx *c = *state;
	uint8_t in[20];
	uint64_t cnt;

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	/* FIFO disabled: one byte holding register. */
	assert_int_equal(serial_receive(&c->s, in, 2), 1);
	assert_int_equal(read(serial_rx_wake_fd(&c->s), &cnt, 8), -1);
	assert_int_equal(in8(c, 0), 0);
	assert_int_equal(read(serial_rx_wake_fd(&c->s), &cnt, 8), 8);

	out8(c, 2, 0x01);
	assert_int_equal(serial_receive(&c->s, in, sizeof(in)), 16);
	assert_int_equal(serial_receive(&c->s, in, sizeof(in)), 0);
	assert_int_equal(in8(c, 5) & 0x02, 0); /* refused input is not an overrun */
	for (unsigned i = 0; i < 15; i++)
		assert_int_equal(in8(c, 0), i);
	/* Not drained yet: no wake. */
	assert_int_equal(read(serial_rx_wake_fd(&c->s), &cnt, 8), -1);
	assert_int_equal(in8(c, 0), 15);
	assert_int_equal(read(serial_rx_wake_fd(&c->s), &cnt, 8), 8);
	assert_int_equal(cnt, 1);
}

static void test_loopback_and_overrun(void **state)
{
	struct ctx *c = *state;
	uint8_t b;

	out8(c, 2, 0x01);
	out8(c, 1, 0x05);	 /* RDI | RLSI */
	out8(c, 4, 0x10 | 0x0a); /* LOOP | OUT2 | RTS */
	/* Linux's loopback probe: MSR lines follow the MCR outputs. */
	assert_int_equal(in8(c, 6) & 0xf0, 0x90);
	out8(c, 4, 0x10 | 0x05); /* LOOP | OUT1 | DTR */
	assert_int_equal(in8(c, 6) & 0xf0, 0x60);

	/* TX goes to RX, not to the fd. */
	out8(c, 0, 'L');
	assert_int_equal(in8(c, 2), 0xc4);
	assert_int_equal(in8(c, 0), 'L');
	assert_int_equal(read(c->pipe_rd, &b, 1), -1);
	/* Host input is disconnected in loopback. */
	assert_int_equal(serial_receive(&c->s, &b, 1), 0);

	/* 17 bytes into a 16-byte FIFO: OE, which is an RLS interrupt. */
	for (unsigned i = 0; i < 17; i++)
		out8(c, 0, (uint8_t)('a' + i));
	assert_int_equal(in8(c, 2), 0xc6);
	assert_int_equal(c->irq.level, 1);
	b = in8(c, 5);
	assert_int_equal(b & 0x03, 0x03);      /* OE | DR */
	assert_int_equal(in8(c, 5) & 0x02, 0); /* cleared by the read */
	assert_int_equal(in8(c, 2), 0xc4);     /* data remains */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(in8(c, 0), 'a' + i); /* the 17th was lost */
	assert_int_equal(in8(c, 2), 0xc1);
	assert_int_equal(c->irq.level, 0);

	/* Leaving loopback restores the lines and reconnects input. */
	out8(c, 4, 0x0b);
	assert_int_equal(in8(c, 6) & 0xf0, 0xb0);
	assert_int_equal(serial_receive(&c->s, &b, 1), 1);
}

static void test_msr_interrupt(void **state)
{
	struct ctx *c = *state;

	out8(c, 1, 0x08); /* MSI */
	out8(c, 4, 0x10); /* LOOP with all outputs low: CTS/DSR/DCD drop */
	assert_int_equal(c->irq.level, 1);
	assert_int_equal(in8(c, 2), 0x00);
	assert_int_equal(in8(c, 6), 0x0b); /* DCTS | DDSR | DDCD, no lines */
	assert_int_equal(c->irq.level, 0);
	assert_int_equal(in8(c, 6), 0x00);
}

static void test_scratch_and_dlab(void **state)
{
	struct ctx *c = *state;

	for (unsigned i = 0; i < 20000; i++)
		out8(c, 7, (uint8_t)i);
	assert_int_equal(in8(c, 7), (uint8_t)19999);

	out8(c, 1, 0x0f);
	out8(c, 3, 0x83); /* DLAB, 8N1 */
	out8(c, 0, 0x01);
	out8(c, 1, 0x00);
	assert_int_equal(in8(c, 0), 0x01);
	assert_int_equal(in8(c, 1), 0x00);
	assert_int_equal(c->s.divisor, 1);
	assert_int_equal(c->s.tx_bytes, 0); /* divisor writes are not output */
	out8(c, 3, 0x03);
	assert_int_equal(in8(c, 1), 0x0f); /* IER untouched */
	assert_int_equal(in8(c, 3), 0x03);
}

static void test_ier_mask_and_wide_access(void **state)
{
	struct ctx *c = *state;
	uint8_t two[2] = {0xaa, 0x55};
	uint8_t back[2];

	out8(c, 1, 0xff);
	assert_int_equal(in8(c, 1), 0x0f); /* no 16750/XScale bits */
	out8(c, 1, 0);
	/* A 16-bit write to base+6 hits MSR (ignored) and scratch. */
	assert_true(bus_write(&c->pio, BASE + 6, two, 2));
	assert_true(bus_read(&c->pio, BASE + 6, back, 2));
	assert_int_equal(back[1], 0x55);
	/* Beyond the 8 ports nothing answers. */
	assert_false(bus_read(&c->pio, BASE + 7, back, 2));
}

static void test_discard_output(void **state)
{
	(void)state;
	struct serial s;
	struct bus pio;
	uint8_t v = 'q';

	assert_int_equal(bus_init(&pio, "pio"), 0);
	assert_int_equal(serial_init(&s, NULL, 4, -1), 0);
	assert_int_equal(serial_attach(&s, &pio, 0x2f8), 0);
	assert_int_equal(serial_attach(&s, &pio, 0x2fc), -EEXIST);
	assert_true(bus_write(&pio, 0x2f8, &v, 1));
	assert_int_equal(s.tx_bytes, 0);
	assert_int_equal(s.tx_dropped, 0);
	serial_destroy(&s);
	bus_destroy(&pio);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reset_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_to_fd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_full_pipe_drops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_irq_only_on_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_and_priority, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_fifo_full_and_wake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loopback_and_overrun, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_msr_interrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scratch_and_dlab, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ier_mask_and_wide_access, setup, teardown),
	    cmocka_unit_test(test_discard_output),
	};

	/* EPIPE must come back as an error, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
