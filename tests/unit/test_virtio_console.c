/* SPDX-License-Identifier: MIT */
/*
 * virtio-console driven as a driver would (tests/unit/virtio_harness.h):
 * guest output to a pipe, host input through the device's console sink,
 * both directly and fed by the host console (vmm-core/host_console.c) reading a
 * pipe through an event loop, with backpressure when the guest has posted
 * no receive buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "host_console.h"
#include "evloop.h"
#include "power.h"
#include "virtio_console.h"
#include "virtio_harness.h"

#define RAM   (16ULL << 20)
#define QSIZE 16
#define RXQ   VIRTIO_CONSOLE_RXQ
#define TXQ   VIRTIO_CONSOLE_TXQ

struct ctx {
	struct vh vh;
	struct virtio_console con;
	struct console_sink sink;
	int out_rd; /* read end of the device's output pipe */
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	int p[2];

	assert_non_null(c);
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	c->out_rd = p[0];
	vh_setup(&c->vh, RAM);
	assert_int_equal(virtio_console_init(&c->con, p[1], &c->vh.env), 0);
	vh_attach(&c->vh, &c->con.vdev);
	virtio_console_sink(&c->con, &c->sink);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	virtio_console_destroy(&c->con);
	vh_teardown(&c->vh);
	if (c->out_rd >= 0)
		close(c->out_rd);
	free(c);
	return 0;
}

static void bring_up(struct ctx *c)
{
	vh_bring_up(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1), 2, QSIZE);
}

static uint64_t put_bytes(struct ctx *c, const char *s)
{
	uint64_t gpa = vh_alloc(&c->vh, strlen(s));

	assert_int_equal(guest_mem_write(&c->vh.gm, gpa, s, strlen(s)), 0);
	return gpa;
}

/* Post one writable buffer of len bytes as receive chain head; returns its address. */
static uint64_t post_rx(struct ctx *c, uint16_t head, uint32_t len)
{
	uint64_t gpa = vh_alloc(&c->vh, len);

	vh_put_desc(&c->vh, RXQ, head, gpa, len, VIRTQ_DESC_F_WRITE, 0);
	vh_offer(&c->vh, RXQ, head);
	return gpa;
}

static size_t feed(struct ctx *c, const char *s)
{
	return c->sink.receive(c->sink.opaque, (const uint8_t *)s, strlen(s));
}

static bool wake_pending(struct ctx *c)
{
	uint64_t v;

	return read(c->sink.wake_fd, &v, sizeof(v)) == sizeof(v);
}

static void assert_guest_bytes(struct ctx *c, uint64_t gpa, const char *want)
{
	char got[64] = {0};

	assert_true(strlen(want) < sizeof(got));
	assert_int_equal(guest_mem_read(&c->vh.gm, gpa, got, strlen(want)), 0);
	assert_string_equal(got, want);
}

static void test_config(void **state)
{
	struct ctx *c = *state;
	uint64_t f = vh_device_features(&c->vh);

	assert_int_equal(vh_cfg_read(&c->vh, PCI_DEVICE_ID, 2), 0x1043);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
	assert_true(f & VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
	assert_false(f & VIRTIO_FEATURE(VIRTIO_CONSOLE_F_MULTIPORT));
	/* A pipe has no window size. */
	assert_false(f & VIRTIO_FEATURE(VIRTIO_CONSOLE_F_SIZE));
	assert_int_not_equal(vh_find_cap(&c->vh, VIRTIO_PCI_CAP_DEVICE_CFG), 0);
	assert_int_equal(vh_devcfg_read(&c->vh, VIRTIO_CONSOLE_CFG_COLS, 2), 0);
	assert_int_equal(vh_devcfg_read(&c->vh, VIRTIO_CONSOLE_CFG_MAX_NR_PORTS, 4), 0);
	/* Multiport cannot be negotiated. */
	assert_false(vh_negotiate(&c->vh, VIRTIO_FEATURE(VIRTIO_F_VERSION_1) |
					      VIRTIO_FEATURE(VIRTIO_CONSOLE_F_MULTIPORT)) &
		     VIRTIO_STATUS_FEATURES_OK);
}

static void test_output(void **state)
{
	struct ctx *c = *state;
	char buf[64] = {0};

	bring_up(c);
	vh_put_desc(&c->vh, TXQ, 0, put_bytes(c, "hello, "), 7, VIRTQ_DESC_F_NEXT, 1);
	vh_put_desc(&c->vh, TXQ, 1, put_bytes(c, "world\n"), 6, 0, 0);
	assert_true(vh_run(&c->vh, TXQ, 0));
	assert_int_equal(vh_used_id(&c->vh, TXQ, 0), 0);
	assert_int_equal(vh_used_len(&c->vh, TXQ, 0), 0);
	assert_int_equal(read(c->out_rd, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "hello, world\n");
	/* Two chains in one kick, in order. */
	vh_put_desc(&c->vh, TXQ, 2, put_bytes(c, "ab"), 2, 0, 0);
	vh_put_desc(&c->vh, TXQ, 3, put_bytes(c, "cd"), 2, 0, 0);
	vh_offer(&c->vh, TXQ, 2);
	vh_offer(&c->vh, TXQ, 3);
	vh_kick(&c->vh, TXQ);
	assert_int_equal(vh_used_idx(&c->vh, TXQ), 3);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read(c->out_rd, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "abcd");
	assert_int_equal(c->con.bytes_out, 17);
}

static void test_input(void **state)
{
	struct ctx *c = *state;
	uint64_t a, b, d;

	bring_up(c);
	a = post_rx(c, 0, 8);
	vh_kick(&c->vh, RXQ);
	assert_false(wake_pending(c)); /* nothing was refused: no wake-up needed */
	assert_int_equal(feed(c, "abc"), 3);
	assert_int_equal(vh_used_idx(&c->vh, RXQ), 1);
	assert_int_equal(vh_used_id(&c->vh, RXQ, 0), 0);
	assert_int_equal(vh_used_len(&c->vh, RXQ, 0), 3);
	assert_guest_bytes(c, a, "abc");

	/* More than the posted buffers hold: they are filled, the rest is refused. */
	a = post_rx(c, 1, 4);
	b = post_rx(c, 2, 4);
	assert_int_equal(feed(c, "0123456789"), 8);
	assert_int_equal(vh_used_idx(&c->vh, RXQ), 3);
	assert_int_equal(vh_used_len(&c->vh, RXQ, 1), 4);
	assert_int_equal(vh_used_len(&c->vh, RXQ, 2), 4);
	assert_guest_bytes(c, a, "0123");
	assert_guest_bytes(c, b, "4567");
	assert_false(wake_pending(c));
	/* A new buffer and its kick wake the sink's user up. */
	d = post_rx(c, 3, 16);
	vh_kick(&c->vh, RXQ);
	assert_true(wake_pending(c));
	assert_int_equal(feed(c, "89"), 2);
	assert_guest_bytes(c, d, "89");
	assert_int_equal(c->con.bytes_in, 13);
}

static void test_backpressure(void **state)
{
	struct ctx *c = *state;
	uint64_t a;

	/* No driver yet: nothing is taken. */
	assert_int_equal(feed(c, "x"), 0);
	assert_false(wake_pending(c));
	bring_up(c);
	/* DRIVER_OK: worth another try (buffers may have come before it). */
	assert_true(wake_pending(c));
	/* Driver ready but no receive buffers: still nothing. */
	assert_int_equal(feed(c, "xyz"), 0);
	assert_false(wake_pending(c));
	a = post_rx(c, 5, 8);
	vh_kick(&c->vh, RXQ);
	assert_true(wake_pending(c));
	assert_false(wake_pending(c)); /* once */
	assert_int_equal(feed(c, "xyz"), 3);
	assert_guest_bytes(c, a, "xyz");
	assert_int_equal(vh_used_id(&c->vh, RXQ, 0), 5);
}

static void test_tx_wrong_direction(void **state)
{
	struct ctx *c = *state;
	char buf[8];

	bring_up(c);
	vh_put_desc(&c->vh, TXQ, 0, put_bytes(c, "no"), 2, VIRTQ_DESC_F_WRITE, 0);
	assert_false(vh_run(&c->vh, TXQ, 0));
	assert_true(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(vh_used_idx(&c->vh, TXQ), 0);
	assert_int_equal(read(c->out_rd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
}

static void test_rx_wrong_direction(void **state)
{
	struct ctx *c = *state;

	bring_up(c);
	vh_put_desc(&c->vh, RXQ, 0, vh_alloc(&c->vh, 8), 8, 0, 0); /* device-readable */
	vh_offer(&c->vh, RXQ, 0);
	assert_int_equal(feed(c, "abc"), 0);
	assert_true(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(vh_used_idx(&c->vh, RXQ), 0);
	/* Broken until reset: good buffers are not used either. */
	post_rx(c, 1, 8);
	vh_kick(&c->vh, RXQ);
	assert_int_equal(feed(c, "abc"), 0);
}

static void test_bad_chain(void **state)
{
	struct ctx *c = *state;
	uint64_t a = put_bytes(c, "loop");

	bring_up(c);
	vh_put_desc(&c->vh, TXQ, 0, a, 4, VIRTQ_DESC_F_NEXT, 1);
	vh_put_desc(&c->vh, TXQ, 1, a, 4, VIRTQ_DESC_F_NEXT, 0);
	assert_false(vh_run(&c->vh, TXQ, 0));
	assert_true(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	/* A buffer outside guest RAM on the receive side is just as fatal. */
	bring_up(c);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	vh_put_desc(&c->vh, RXQ, 0, RAM - 4, 8, VIRTQ_DESC_F_WRITE, 0);
	vh_offer(&c->vh, RXQ, 0);
	assert_int_equal(feed(c, "abc"), 0);
	assert_true(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_reset(void **state)
{
	struct ctx *c = *state;
	uint64_t a;
	char buf[8] = {0};

	bring_up(c);
	post_rx(c, 0, 8);
	vh_bar_write(&c->vh, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(vh_status(&c->vh), 0);
	/* The posted buffer went with the reset. */
	assert_int_equal(feed(c, "abc"), 0);
	/* The driver comes back and everything works again. */
	bring_up(c);
	a = post_rx(c, 0, 8);
	vh_kick(&c->vh, RXQ);
	assert_true(wake_pending(c));
	assert_int_equal(feed(c, "abc"), 3);
	assert_guest_bytes(c, a, "abc");
	vh_put_desc(&c->vh, TXQ, 0, put_bytes(c, "ok"), 2, 0, 0);
	assert_true(vh_run(&c->vh, TXQ, 0));
	assert_int_equal(read(c->out_rd, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "ok");
}

static void power_stop(struct vm_power *p, enum vm_stop_reason reason, unsigned code)
{
	(void)p;
	(void)reason;
	(void)code;
	fail_msg("the console asked for a stop");
}

struct pump {
	struct evloop loop;
	int fd; /* eventfd that ends a pass */
	int rounds;
};

static void on_stop(void *opaque, int fd, uint32_t events)
{
	struct pump *p = opaque;
	uint64_t v;

	(void)events;
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	/* epoll gives no order within a batch: go round once more so every fd ready now runs. */
	if (++p->rounds < 2)
		assert_int_equal(eventfd_write(fd, 1), 0);
	else
		evloop_stop(&p->loop);
}

/* Serve what is ready now, then return. */
static void pump(struct pump *p)
{
	p->rounds = 0;
	p->loop.stop = false;
	assert_int_equal(eventfd_write(p->fd, 1), 0);
	assert_int_equal(evloop_run(&p->loop), 0);
}

/* The host console reading a pipe into the device, through the event loop. */
static void test_console_feeds_device(void **state)
{
	struct ctx *c = *state;
	struct vm_power power = {.request_stop = power_stop};
	struct pump p;
	struct console cons;
	int in[2];
	uint64_t a, b;

	assert_int_equal(pipe2(in, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(evloop_init(&p.loop), 0);
	p.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(p.fd >= 0);
	assert_int_equal(evloop_add(&p.loop, p.fd, EPOLLIN, on_stop, &p), 0);
	assert_int_equal(console_init(&cons, &c->sink, &p.loop, &power, in[0]), 0);

	bring_up(c);
	/* Input before any receive buffer: held back, not lost. */
	assert_int_equal(write(in[1], "hello", 5), 5);
	pump(&p);
	assert_int_equal(c->con.bytes_in, 0);
	assert_int_equal(write(in[1], " there", 6), 6); /* stays in the pipe meanwhile */
	pump(&p);
	a = post_rx(c, 0, 3);
	b = post_rx(c, 1, 64);
	vh_kick(&c->vh, RXQ); /* on a real VM the kick runs on this loop too */
	pump(&p);	      /* wake fd: the held bytes go in */
	assert_int_equal(c->con.bytes_in, 5);
	assert_guest_bytes(c, a, "hel");
	assert_guest_bytes(c, b, "lo");
	assert_int_equal(vh_used_len(&c->vh, RXQ, 1), 2);
	assert_int_equal(vh_used_idx(&c->vh, RXQ), 2);
	/* stdin is watched again: " there" is read, and held for want of buffers. */
	pump(&p);
	assert_int_equal(c->con.bytes_in, 5);
	b = post_rx(c, 2, 64);
	vh_kick(&c->vh, RXQ);
	pump(&p);
	assert_guest_bytes(c, b, " there");
	assert_int_equal(c->con.bytes_in, 11);
	assert_int_equal(vh_used_idx(&c->vh, RXQ), 3);

	console_destroy(&cons);
	evloop_destroy(&p.loop);
	close(p.fd);
	close(in[0]);
	close(in[1]);
}

/* The writer of stdin goes away while input is held back: nothing is lost or overrun. */
static void test_console_hangup_while_parked(void **state)
{
	struct ctx *c = *state;
	struct vm_power power = {.request_stop = power_stop};
	struct pump p;
	struct console cons;
	uint8_t in_bytes[600], got[600];
	int in[2];
	uint64_t a;

	for (size_t i = 0; i < sizeof(in_bytes); i++)
		in_bytes[i] = (uint8_t)('a' + i % 26);
	assert_int_equal(pipe2(in, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(evloop_init(&p.loop), 0);
	p.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(p.fd >= 0);
	assert_int_equal(evloop_add(&p.loop, p.fd, EPOLLIN, on_stop, &p), 0);
	assert_int_equal(console_init(&cons, &c->sink, &p.loop, &power, in[0]), 0);
	bring_up(c);
	assert_int_equal(write(in[1], in_bytes, sizeof(in_bytes)), sizeof(in_bytes));
	close(in[1]);
	for (int i = 0; i < 4; i++)
		pump(&p);
	assert_int_equal(c->con.bytes_in, 0);
	assert_true(cons.in_fd >= 0); /* EOF not taken while parked */
	a = vh_alloc(&c->vh, 1024);
	vh_put_desc(&c->vh, RXQ, 0, a, 1024, VIRTQ_DESC_F_WRITE, 0);
	vh_offer(&c->vh, RXQ, 0);
	for (uint16_t i = 1; i < 4; i++) {
		vh_put_desc(&c->vh, RXQ, i, vh_alloc(&c->vh, 1024), 1024, VIRTQ_DESC_F_WRITE, 0);
		vh_offer(&c->vh, RXQ, i);
	}
	vh_kick(&c->vh, RXQ);
	for (int i = 0; i < 6; i++)
		pump(&p);
	assert_int_equal(c->con.bytes_in, sizeof(in_bytes));
	/* Each console read went into its own chain, in order. */
	assert_int_equal(vh_used_len(&c->vh, RXQ, 0), 256);
	assert_int_equal(vh_used_len(&c->vh, RXQ, 1), 256);
	assert_int_equal(vh_used_len(&c->vh, RXQ, 2), 88);
	for (uint16_t n = 0, off = 0; n < 3; off += (uint16_t)vh_used_len(&c->vh, RXQ, n), n++)
		assert_int_equal(guest_mem_read(&c->vh.gm, a + 1024ULL * n, got + off,
						vh_used_len(&c->vh, RXQ, n)),
				 0);
	assert_memory_equal(got, in_bytes, sizeof(in_bytes));
	assert_int_equal(cons.in_fd, -1); /* and then the hang-up */

	console_destroy(&cons);
	evloop_destroy(&p.loop);
	close(p.fd);
	close(in[0]);
}

static void test_output_failure(void **state)
{
	struct ctx *c = *state;

	/* Nobody reads the output any more: the guest must not notice. */
	signal(SIGPIPE, SIG_IGN);
	close(c->out_rd);
	c->out_rd = -1;
	bring_up(c);
	vh_put_desc(&c->vh, TXQ, 0, put_bytes(c, "lost"), 4, 0, 0);
	assert_true(vh_run(&c->vh, TXQ, 0));
	assert_true(c->con.out_failed);
	vh_put_desc(&c->vh, TXQ, 1, put_bytes(c, "too"), 3, 0, 0);
	assert_true(vh_run(&c->vh, TXQ, 1));
	assert_int_equal(vh_used_idx(&c->vh, TXQ), 2);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(c->con.bytes_out, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_wrong_direction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_wrong_direction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_console_feeds_device, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_console_hangup_while_parked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output_failure, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
