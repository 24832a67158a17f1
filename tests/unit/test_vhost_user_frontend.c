/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user frontend state machine against a fake backend on the other
 * end of a socketpair: the replies are queued in the socket before the
 * frontend asks, then the requests the frontend sent are read back (and
 * validated as a backend would) and checked in order. Bad replies (another
 * request's reply, a wrong size, no REPLY flag, no REPLY_ACK at all, an
 * unasked message, EOF) must fail the connection (the backend sees EOF)
 * and leave what was negotiated before untouched.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vhost_user_frontend.h"

#define MAX_VRINGS 4
#define P(bit)	   VHOST_USER_BIT(VHOST_USER_PROTOCOL_F_##bit)
#define WANT	   (P(MQ) | P(REPLY_ACK) | P(STATUS))
#define BACKEND_FEATURES                                                                           \
	((1ULL << 32) | (1ULL << 15) | VHOST_USER_BIT(VHOST_USER_F_PROTOCOL_FEATURES))

struct fixture {
	struct vhost_user_frontend fe;
	int peer;		   /* the fake backend's end */
	struct vhost_user_conn rx; /* validates what the frontend sent */
};

static int setup(void **state)
{
	static struct fixture f;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(vhost_user_frontend_init(&f.fe, "/fake/backend.sock", false, MAX_VRINGS),
			 0);
	assert_int_equal(vhost_user_frontend_attach(&f.fe, sv[0]), 0);
	f.fe.reply_timeout_ms = 200;
	f.peer = sv[1];
	vhost_user_conn_init(&f.rx, dup(sv[1]), VHOST_USER_FRONTEND_REQUEST, MAX_VRINGS,
			     "fake backend");
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vhost_user_frontend_destroy(&f->fe);
	vhost_user_conn_close(&f->rx);
	close(f->peer);
	return 0;
}

/* Queue a reply from the backend. */
static void reply_raw(struct fixture *f, uint32_t req, uint32_t flags, const void *payload,
		      uint32_t size)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = req;
	m.hdr.flags = flags;
	m.hdr.size = size;
	if (size)
		memcpy(m.payload.raw, payload, size);
	assert_int_equal(vhost_user_send(f->peer, &m, NULL, 0), 0);
}

static void reply_u64(struct fixture *f, uint32_t req, uint64_t v)
{
	reply_raw(f, req, VHOST_USER_VERSION | VHOST_USER_REPLY, &v, sizeof(v));
}

/* The next request the frontend sent; its fds are closed here (their count returned). */
static struct vhost_user_msg next_request(struct fixture *f, unsigned *nr_fds)
{
	struct vhost_user_msg m;
	int fds[VHOST_USER_MAX_FDS];
	unsigned n;

	assert_int_equal(vhost_user_recv(&f->rx, &m, fds, &n), 0);
	vhost_user_close_fds(fds, n);
	if (nr_fds)
		*nr_fds = n;
	return m;
}

static void expect_request(struct fixture *f, uint32_t req, bool need_reply, unsigned nr_fds)
{
	unsigned n;
	struct vhost_user_msg m = next_request(f, &n);

	if (m.hdr.request != req)
		fail_msg("request %s, expected %s",
			 vhost_user_request_name(VHOST_USER_FRONTEND_REQUEST, m.hdr.request),
			 vhost_user_request_name(VHOST_USER_FRONTEND_REQUEST, req));
	assert_int_equal(!!(m.hdr.flags & VHOST_USER_NEED_REPLY), need_reply);
	assert_int_equal(n, nr_fds);
}

/* Nothing more was sent, and the socket is still open. */
static void expect_quiet(struct fixture *f)
{
	char c;

	assert_int_equal(recv(f->peer, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

/* The frontend shut the connection down: the backend reads EOF. */
static void expect_eof(struct fixture *f)
{
	char buf[512];
	ssize_t n;

	/* Drain what the frontend sent before it gave up. */
	while ((n = recv(f->peer, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	assert_int_equal(n, 0);
	assert_false(f->fe.connected);
}

static void handshake_ok(struct fixture *f)
{
	reply_u64(f, VHOST_USER_GET_FEATURES, BACKEND_FEATURES);
	reply_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES, WANT | P(CONFIG) | P(INFLIGHT_SHMFD));
	reply_u64(f, VHOST_USER_GET_QUEUE_NUM, 2);
	assert_int_equal(vhost_user_frontend_handshake(&f->fe, WANT), 0);
}

static void test_handshake(void **state)
{
	struct fixture *f = *state;
	struct vhost_user_msg m;

	handshake_ok(f);
	assert_int_equal(f->fe.features, BACKEND_FEATURES);
	assert_int_equal(f->fe.protocol_features, WANT);
	assert_int_equal(f->fe.queue_num, 2);

	expect_request(f, VHOST_USER_SET_OWNER, false, 0);
	expect_request(f, VHOST_USER_GET_FEATURES, false, 0);
	expect_request(f, VHOST_USER_GET_PROTOCOL_FEATURES, false, 0);
	m = next_request(f, NULL);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_PROTOCOL_FEATURES);
	/* Only what both sides want: not CONFIG or INFLIGHT, which the backend also offered. */
	assert_int_equal(m.payload.u64, WANT);
	assert_false(m.hdr.flags & VHOST_USER_NEED_REPLY);
	expect_request(f, VHOST_USER_GET_QUEUE_NUM, false, 0);
	expect_quiet(f);
}

/* A backend without protocol features: no GET_PROTOCOL_FEATURES, no REPLY_ACK, no ENABLE. */
static void test_handshake_plain(void **state)
{
	struct fixture *f = *state;

	reply_u64(f, VHOST_USER_GET_FEATURES, 1ULL << 32);
	assert_int_equal(vhost_user_frontend_handshake(&f->fe, WANT), 0);
	assert_int_equal(f->fe.protocol_features, 0);
	expect_request(f, VHOST_USER_SET_OWNER, false, 0);
	expect_request(f, VHOST_USER_GET_FEATURES, false, 0);
	expect_quiet(f);
	assert_int_equal(vhost_user_frontend_set_features(&f->fe, 1ULL << 32), 0);
	expect_request(f, VHOST_USER_SET_FEATURES, false, 0);
	assert_int_equal(vhost_user_frontend_set_vring_enable(&f->fe, 0, true), -EOPNOTSUPP);
	assert_int_equal(vhost_user_frontend_set_status(&f->fe, 0xf), -EOPNOTSUPP);
	expect_quiet(f);
}

/* The ring setup DPDK expects, each request REPLY_ACKed, fds where they belong. */
static void test_ring_setup(void **state)
{
	struct fixture *f = *state;
	struct vhost_user_memory mem = {.nregions = 1};
	struct vhost_user_vring_addr addr = {.index = 1};
	struct vhost_user_msg m;
	unsigned n, base = 0;
	int memfd = memfd_create("guest", MFD_CLOEXEC);
	int efd = eventfd(0, EFD_CLOEXEC);
	static const uint32_t acked[] = {
	    VHOST_USER_SET_FEATURES,   VHOST_USER_SET_MEM_TABLE,    VHOST_USER_SET_VRING_NUM,
	    VHOST_USER_SET_VRING_BASE, VHOST_USER_SET_VRING_ADDR,   VHOST_USER_SET_VRING_KICK,
	    VHOST_USER_SET_VRING_CALL, VHOST_USER_SET_VRING_ENABLE, VHOST_USER_SET_STATUS,
	};

	assert_true(memfd >= 0 && efd >= 0);
	handshake_ok(f);
	for (unsigned i = 0; i < 5; i++)
		next_request(f, NULL);

	mem.regions[0] = (struct vhost_user_mem_region){
	    .guest_phys_addr = 0, .memory_size = 1 << 20, .userspace_addr = 0x7f0000000000};
	addr.desc_user_addr = 0x7f0000001000;
	addr.avail_user_addr = 0x7f0000002000;
	addr.used_user_addr = 0x7f0000003000;
	for (unsigned i = 0; i < sizeof(acked) / sizeof(acked[0]); i++)
		reply_u64(f, acked[i], 0);
	{
		struct vhost_user_vring_state st = {.index = 1, .num = 7};

		reply_raw(f, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION | VHOST_USER_REPLY, &st,
			  sizeof(st));
	}
	assert_int_equal(vhost_user_frontend_set_features(&f->fe, 1ULL << 32), 0);
	assert_int_equal(vhost_user_frontend_set_mem_table(&f->fe, &mem, &memfd), 0);
	assert_int_equal(vhost_user_frontend_set_vring_num(&f->fe, 1, 256), 0);
	assert_int_equal(vhost_user_frontend_set_vring_base(&f->fe, 1, 5), 0);
	assert_int_equal(vhost_user_frontend_set_vring_addr(&f->fe, &addr), 0);
	assert_int_equal(vhost_user_frontend_set_vring_kick(&f->fe, 1, efd), 0);
	assert_int_equal(vhost_user_frontend_set_vring_call(&f->fe, 1, efd), 0);
	assert_int_equal(vhost_user_frontend_set_vring_enable(&f->fe, 1, true), 0);
	assert_int_equal(vhost_user_frontend_set_status(&f->fe, 0xf), 0);
	assert_int_equal(vhost_user_frontend_get_vring_base(&f->fe, 1, &base), 0);
	assert_int_equal(base, 7);

	expect_request(f, VHOST_USER_SET_FEATURES, true, 0);
	m = next_request(f, &n);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_MEM_TABLE);
	assert_int_equal(n, 1);
	assert_int_equal(m.payload.memory.regions[0].userspace_addr, 0x7f0000000000);
	m = next_request(f, NULL);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_VRING_NUM);
	assert_int_equal(m.payload.state.num, 256);
	m = next_request(f, NULL);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_VRING_BASE);
	assert_int_equal(m.payload.state.num, 5);
	m = next_request(f, NULL);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_VRING_ADDR);
	assert_int_equal(m.payload.addr.used_user_addr, 0x7f0000003000);
	expect_request(f, VHOST_USER_SET_VRING_KICK, true, 1);
	expect_request(f, VHOST_USER_SET_VRING_CALL, true, 1);
	expect_request(f, VHOST_USER_SET_VRING_ENABLE, true, 0);
	expect_request(f, VHOST_USER_SET_STATUS, true, 0);
	/* A GET has its own reply: no NEED_REPLY. */
	expect_request(f, VHOST_USER_GET_VRING_BASE, false, 0);
	expect_quiet(f);
	assert_true(f->fe.connected);
	close(memfd);
	close(efd);
}

/* A memory table the backend would refuse is never sent. */
static void test_bad_mem_table_not_sent(void **state)
{
	struct fixture *f = *state;
	struct vhost_user_memory mem = {.nregions = 2};
	int fds[2] = {0, 0};

	mem.regions[0] = (struct vhost_user_mem_region){.memory_size = 0x2000};
	mem.regions[1] = (struct vhost_user_mem_region){
	    .guest_phys_addr = 0x1000, .memory_size = 0x2000, .userspace_addr = 0x10000};
	assert_int_equal(vhost_user_frontend_set_mem_table(&f->fe, &mem, fds), -EINVAL);
	expect_quiet(f);
	assert_true(f->fe.connected);
}

static void test_reply_to_other_request(void **state)
{
	struct fixture *f = *state;

	reply_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES, WANT); /* where GET_FEATURES is due */
	assert_int_equal(vhost_user_frontend_handshake(&f->fe, WANT), -EPROTO);
	assert_int_equal(f->fe.features, 0);
	assert_int_equal(f->fe.protocol_features, 0);
	expect_eof(f);
	/* Every later request is refused without touching the socket. */
	assert_int_equal(vhost_user_frontend_set_features(&f->fe, 1), -ENOTCONN);
}

static void test_reply_bad_size(void **state)
{
	struct fixture *f = *state;
	uint32_t four = 4;

	reply_raw(f, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION | VHOST_USER_REPLY, &four, 4);
	assert_int_equal(vhost_user_frontend_handshake(&f->fe, WANT), -EPROTO);
	assert_int_equal(f->fe.features, 0);
	expect_eof(f);
}

static void test_reply_without_reply_flag(void **state)
{
	struct fixture *f = *state;
	uint64_t v = BACKEND_FEATURES;

	reply_raw(f, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, &v, sizeof(v));
	assert_int_equal(vhost_user_frontend_handshake(&f->fe, WANT), -EPROTO);
	expect_eof(f);
}

/* REPLY_ACK negotiated and never sent: the request times out and the connection fails. */
static void test_missing_reply_ack(void **state)
{
	struct fixture *f = *state;

	handshake_ok(f);
	assert_int_equal(vhost_user_frontend_set_features(&f->fe, 1ULL << 32), -ETIMEDOUT);
	/* What the handshake negotiated stays as it was. */
	assert_int_equal(f->fe.features, BACKEND_FEATURES);
	assert_int_equal(f->fe.protocol_features, WANT);
	expect_eof(f);
}

/* An ack with a failure status is a refusal, not a protocol error. */
static void test_reply_ack_failure(void **state)
{
	struct fixture *f = *state;

	handshake_ok(f);
	reply_u64(f, VHOST_USER_SET_VRING_NUM, 1);
	assert_int_equal(vhost_user_frontend_set_vring_num(&f->fe, 0, 256), -EIO);
	assert_true(f->fe.connected);
}

static void test_vring_base_wrong_index(void **state)
{
	struct fixture *f = *state;
	struct vhost_user_vring_state st = {.index = 0, .num = 3};
	unsigned base = 99;

	handshake_ok(f);
	reply_raw(f, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION | VHOST_USER_REPLY, &st,
		  sizeof(st));
	assert_int_equal(vhost_user_frontend_get_vring_base(&f->fe, 1, &base), -EPROTO);
	assert_int_equal(base, 99);
	expect_eof(f);
}

/* A vring index the frontend never had is refused before anything is sent. */
static void test_vring_index_range(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vhost_user_frontend_set_vring_num(&f->fe, MAX_VRINGS, 256), -EINVAL);
	expect_quiet(f);
}

static void test_poll(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vhost_user_frontend_poll(&f->fe), 0); /* nothing there */
	reply_u64(f, VHOST_USER_GET_FEATURES, 1);	       /* nobody asked */
	assert_int_equal(vhost_user_frontend_poll(&f->fe), -EPROTO);
	expect_eof(f);
	vhost_user_frontend_close(&f->fe);
	assert_int_equal(f->fe.conn.fd, -1);
}

static void test_poll_eof(void **state)
{
	struct fixture *f = *state;

	shutdown(f->peer, SHUT_WR);
	assert_int_equal(vhost_user_frontend_poll(&f->fe), -ECONNRESET);
	assert_false(f->fe.connected);
}

/* A reconnect starts from nothing negotiated. */
static void test_reattach_clears(void **state)
{
	struct fixture *f = *state;
	int sv[2];

	handshake_ok(f);
	vhost_user_frontend_close(&f->fe);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(vhost_user_frontend_attach(&f->fe, sv[0]), 0);
	assert_int_equal(vhost_user_frontend_attach(&f->fe, sv[1]), -EISCONN);
	assert_int_equal(f->fe.features, 0);
	assert_int_equal(f->fe.protocol_features, 0);
	close(sv[1]);
}

/* Client mode without a server: quiet -ENOENT, for the reconnect timer to try again. */
static void test_connect_nobody(void **state)
{
	struct vhost_user_frontend fe;

	(void)state;
	assert_int_equal(vhost_user_frontend_init(&fe, "/nonexistent/vu.sock", false, 2), 0);
	assert_int_equal(vhost_user_frontend_connect(&fe), -ENOENT);
	assert_false(fe.connected);
	vhost_user_frontend_destroy(&fe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_handshake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handshake_plain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ring_setup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_mem_table_not_sent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_to_other_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_bad_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_without_reply_flag, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_reply_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_ack_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vring_base_wrong_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vring_index_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_poll, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_poll_eof, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reattach_clears, setup, teardown),
	    cmocka_unit_test(test_connect_nobody),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
