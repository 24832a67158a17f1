/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user frontend state machine against a fake backend on the other
 * end of a socketpair: the replies are queued in the socket before the
 * frontend asks, then the requests the frontend sent are read back (and
 * validated as a backend would) and checked in order. Bad replies (another
 * request's reply, a wrong size, no REPLY flag, no REPLY_ACK at all, an
 * unasked message, EOF) must fail the connection (the backend sees EOF)
 * and leave what was negotiated before untouched.
 *
 * Inflight tracking: the area from GET_INFLIGHT_FD is mapped, handed back
 * with SET_INFLIGHT_FD (the same file, compared by inode) before the rings
 * on every connection, zeroed on reset; a bad GET_INFLIGHT_FD reply fails
 * the connection and leaves no fd or mapping behind.
 */
#include <dirent.h>
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vhost_user_frontend.h"

#define MAX_VRINGS    4
#define P(bit)	      VHOST_USER_BIT(VHOST_USER_PROTOCOL_F_##bit)
#define WANT	      (P(MQ) | P(REPLY_ACK) | P(STATUS))
#define WANT_INFLIGHT (WANT | P(INFLIGHT_SHMFD))
/* The geometry the tests ask for, and the split-ring area it takes. */
#define IF_QUEUES 4
#define IF_QSIZE  256
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

/* Like next_request(), but the fds are handed back (up to VHOST_USER_MAX_FDS). */
static struct vhost_user_msg next_request_fds(struct fixture *f, int *fds, unsigned *nr_fds)
{
	struct vhost_user_msg m;

	assert_int_equal(vhost_user_recv(&f->rx, &m, fds, nr_fds), 0);
	return m;
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

/* --- inflight tracking --- */

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static ino_t fd_ino(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

/* A backend's inflight file of size bytes (as rte_vhost makes it: a memfd). */
static int inflight_file(off_t size)
{
	int fd = memfd_create("inflight", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	return fd;
}

static uint64_t inflight_need(void)
{
	return vhost_user_inflight_split_size(IF_QUEUES, IF_QSIZE);
}

static void reply_inflight(struct fixture *f, uint64_t size, uint64_t offset, const int *fds,
			   unsigned nr_fds)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = VHOST_USER_GET_INFLIGHT_FD;
	m.hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY;
	m.hdr.size = sizeof(struct vhost_user_inflight);
	m.payload.inflight = (struct vhost_user_inflight){.mmap_size = size,
							  .mmap_offset = offset,
							  .num_queues = IF_QUEUES,
							  .queue_size = IF_QSIZE};
	assert_int_equal(vhost_user_send(f->peer, &m, fds, nr_fds), 0);
}

/* Handshake offering and wanting INFLIGHT_SHMFD; its requests are consumed. */
static void handshake_inflight(struct fixture *f, uint64_t offered)
{
	reply_u64(f, VHOST_USER_GET_FEATURES, BACKEND_FEATURES);
	reply_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES, offered);
	reply_u64(f, VHOST_USER_GET_QUEUE_NUM, 2);
	assert_int_equal(vhost_user_frontend_handshake(&f->fe, WANT_INFLIGHT), 0);
	assert_int_equal(f->fe.protocol_features, offered & WANT_INFLIGHT);
	for (unsigned i = 0; i < 5; i++)
		next_request(f, NULL);
	expect_quiet(f);
}

/* The backend restarted: a new socket pair, the frontend attached to one end. */
static void reconnect(struct fixture *f)
{
	int sv[2];

	vhost_user_frontend_close(&f->fe);
	vhost_user_conn_close(&f->rx);
	close(f->peer);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(vhost_user_frontend_attach(&f->fe, sv[0]), 0);
	f->peer = sv[1];
	vhost_user_conn_init(&f->rx, dup(sv[1]), VHOST_USER_FRONTEND_REQUEST, MAX_VRINGS,
			     "fake backend");
}

/* The SET_INFLIGHT_FD the frontend sent: the area of the file with inode ino. */
static void expect_set_inflight(struct fixture *f, ino_t ino, uint64_t size)
{
	int fds[VHOST_USER_MAX_FDS];
	unsigned n;
	struct vhost_user_msg m = next_request_fds(f, fds, &n);

	assert_int_equal(m.hdr.request, VHOST_USER_SET_INFLIGHT_FD);
	assert_true(m.hdr.flags & VHOST_USER_NEED_REPLY);
	assert_int_equal(n, 1);
	assert_int_equal(fd_ino(fds[0]), ino);
	assert_int_equal(m.payload.inflight.mmap_size, size);
	assert_int_equal(m.payload.inflight.mmap_offset, 0);
	assert_int_equal(m.payload.inflight.num_queues, IF_QUEUES);
	assert_int_equal(m.payload.inflight.queue_size, IF_QSIZE);
	close(fds[0]);
}

/*
 * Offered: GET_INFLIGHT_FD with the geometry, the area mapped shared, then
 * SET_INFLIGHT_FD. A restarted backend gets the same file back before its
 * rings, with no second GET; a device reset zeroes the area.
 */
static void test_inflight_get_set_reconnect(void **state)
{
	struct fixture *f = *state;
	uint64_t size = inflight_need();
	int backend_fd = inflight_file((off_t)size);
	ino_t ino = fd_ino(backend_fd);
	volatile uint8_t *backend_map;
	struct vhost_user_msg m;
	unsigned n;

	backend_map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, backend_fd, 0);
	assert_true(backend_map != MAP_FAILED);
	handshake_inflight(f, WANT | P(INFLIGHT_SHMFD) | P(CONFIG));

	reply_inflight(f, size, 0, &backend_fd, 1);
	reply_u64(f, VHOST_USER_SET_INFLIGHT_FD, 0);
	assert_int_equal(vhost_user_frontend_inflight_start(&f->fe, IF_QUEUES, IF_QSIZE), 0);
	m = next_request(f, &n);
	assert_int_equal(m.hdr.request, VHOST_USER_GET_INFLIGHT_FD);
	assert_false(m.hdr.flags & VHOST_USER_NEED_REPLY); /* it has its own reply */
	assert_int_equal(n, 0);
	assert_int_equal(m.payload.inflight.num_queues, IF_QUEUES);
	assert_int_equal(m.payload.inflight.queue_size, IF_QSIZE);
	expect_set_inflight(f, ino, size);
	expect_quiet(f);
	assert_true(f->fe.connected);

	/* Mapped shared: what the backend records, the frontend sees. */
	assert_non_null(f->fe.inflight.map);
	assert_int_equal(fd_ino(f->fe.inflight.fd), ino);
	backend_map[size - 1] = 0x5a;
	assert_int_equal(((uint8_t *)f->fe.inflight.map)[size - 1], 0x5a);

	/* The backend dies; the area outlives the connection. */
	reconnect(f);
	assert_int_equal(fd_ino(f->fe.inflight.fd), ino);
	assert_int_equal(((uint8_t *)f->fe.inflight.map)[size - 1], 0x5a);
	handshake_inflight(f, WANT | P(INFLIGHT_SHMFD));
	reply_u64(f, VHOST_USER_SET_INFLIGHT_FD, 0);
	reply_u64(f, VHOST_USER_SET_VRING_NUM, 0);
	assert_int_equal(vhost_user_frontend_inflight_start(&f->fe, IF_QUEUES, IF_QSIZE), 0);
	assert_int_equal(vhost_user_frontend_set_vring_num(&f->fe, 0, IF_QSIZE), 0);
	expect_set_inflight(f, ino, size); /* first, and no GET_INFLIGHT_FD */
	expect_request(f, VHOST_USER_SET_VRING_NUM, true, 0);
	expect_quiet(f);
	/* Still what the old backend recorded: for the new one to resubmit. */
	assert_int_equal(backend_map[size - 1], 0x5a);

	/* Guest reset: tracking restarts from zero. */
	backend_map[0] = 0x11;
	vhost_user_frontend_inflight_reset(&f->fe);
	assert_int_equal(backend_map[0], 0);
	assert_int_equal(backend_map[size - 1], 0);

	munmap((void *)backend_map, size);
	close(backend_fd);
}

/* A different geometry asks for a new area; the old one is released. */
static void test_inflight_new_geometry(void **state)
{
	struct fixture *f = *state;
	uint64_t size = inflight_need();
	uint64_t size2 = vhost_user_inflight_split_size(2, IF_QSIZE);
	int a = inflight_file((off_t)size), b = inflight_file((off_t)size2);
	ino_t ino_b = fd_ino(b);
	struct vhost_user_msg m;
	unsigned before;

	handshake_inflight(f, WANT_INFLIGHT);
	reply_inflight(f, size, 0, &a, 1);
	reply_u64(f, VHOST_USER_SET_INFLIGHT_FD, 0);
	assert_int_equal(vhost_user_frontend_inflight_start(&f->fe, IF_QUEUES, IF_QSIZE), 0);
	close(a);
	next_request(f, NULL);
	next_request(f, NULL);
	before = count_fds();

	{
		struct vhost_user_msg r;

		memset(&r, 0, sizeof(r));
		r.hdr.request = VHOST_USER_GET_INFLIGHT_FD;
		r.hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY;
		r.hdr.size = sizeof(r.payload.inflight);
		r.payload.inflight = (struct vhost_user_inflight){
		    .mmap_size = size2, .num_queues = 2, .queue_size = IF_QSIZE};
		assert_int_equal(vhost_user_send(f->peer, &r, &b, 1), 0);
	}
	reply_u64(f, VHOST_USER_SET_INFLIGHT_FD, 0);
	assert_int_equal(vhost_user_frontend_inflight_start(&f->fe, 2, IF_QSIZE), 0);
	m = next_request(f, NULL);
	assert_int_equal(m.hdr.request, VHOST_USER_GET_INFLIGHT_FD);
	assert_int_equal(m.payload.inflight.num_queues, 2);
	m = next_request(f, NULL);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_INFLIGHT_FD);
	assert_int_equal(m.payload.inflight.num_queues, 2);
	assert_int_equal(fd_ino(f->fe.inflight.fd), ino_b);
	assert_int_equal(f->fe.inflight.size, size2);
	/* The old area's fd was closed, the new one's taken: same count. */
	assert_int_equal(count_fds(), before);
	close(b);
}

/* Not offered by the backend, or not wanted: neither message is sent. */
static void test_inflight_not_negotiated(void **state)
{
	struct fixture *f = *state;

	handshake_inflight(f, WANT | P(CONFIG));
	assert_int_equal(vhost_user_frontend_inflight_start(&f->fe, IF_QUEUES, IF_QSIZE), 0);
	expect_quiet(f);
	assert_null(f->fe.inflight.map);
	assert_int_equal(f->fe.inflight.fd, -1);

	reconnect(f);
	handshake_ok(f); /* offered, but WANT leaves it out */
	for (unsigned i = 0; i < 5; i++)
		next_request(f, NULL);
	assert_int_equal(vhost_user_frontend_inflight_start(&f->fe, IF_QUEUES, IF_QSIZE), 0);
	expect_quiet(f);
	assert_true(f->fe.connected);
}

enum bad_inflight {
	BAD_NO_FD,
	BAD_TWO_FDS,
	BAD_SIZE_ZERO,
	BAD_LARGER_THAN_FD,
	BAD_OFFSET_OVERFLOW,
	BAD_OFFSET_PAST_FD,
	BAD_OFFSET_UNALIGNED,
	BAD_TOO_SMALL,
	BAD_TOO_LARGE,
	BAD_NOT_A_FILE,
	BAD_OTHER_REPLY,
	BAD_NR,
};

/* Each bad GET_INFLIGHT_FD reply: the connection fails, no fd or mapping is kept. */
static void test_inflight_bad_replies(void **state)
{
	struct fixture *f = *state;
	uint64_t size = inflight_need();

	for (unsigned bad = 0; bad < BAD_NR; bad++) {
		unsigned before = count_fds();
		int fds[2] = {inflight_file((off_t)size), inflight_file((off_t)size)};
		uint64_t sz = size, off = 0;
		unsigned nr = 1;
		int ret;

		handshake_inflight(f, WANT_INFLIGHT);
		switch (bad) {
		case BAD_NO_FD:
			nr = 0;
			break;
		case BAD_TWO_FDS:
			nr = 2;
			break;
		case BAD_SIZE_ZERO:
			sz = 0;
			break;
		case BAD_LARGER_THAN_FD:
			sz = size + 4096;
			break;
		case BAD_OFFSET_OVERFLOW:
			off = UINT64_MAX - 4095;
			break;
		case BAD_OFFSET_PAST_FD:
			off = 4096;
			break;
		case BAD_OFFSET_UNALIGNED:
			off = 64;
			assert_int_equal(ftruncate(fds[0], (off_t)(size + 64)), 0);
			break;
		case BAD_TOO_SMALL:
			sz = size - 64;
			break;
		case BAD_TOO_LARGE:
			sz = 64ULL << 20;
			assert_int_equal(ftruncate(fds[0], (off_t)sz), 0);
			break;
		case BAD_NOT_A_FILE:
			close(fds[0]);
			fds[0] = eventfd(0, EFD_CLOEXEC);
			break;
		}
		if (bad == BAD_OTHER_REPLY)
			reply_u64(f, VHOST_USER_GET_FEATURES, 1);
		else
			reply_inflight(f, sz, off, fds, nr);
		close(fds[0]);
		close(fds[1]);
		ret = vhost_user_frontend_inflight_start(&f->fe, IF_QUEUES, IF_QSIZE);
		if (ret != -EPROTO)
			fail_msg("bad reply %u: %d, expected -EPROTO", bad, ret);
		expect_request(f, VHOST_USER_GET_INFLIGHT_FD, false, 0);
		expect_eof(f); /* no SET_INFLIGHT_FD followed */
		assert_null(f->fe.inflight.map);
		assert_int_equal(f->fe.inflight.fd, -1);
		reconnect(f);
		if (count_fds() != before)
			fail_msg("bad reply %u: %u fds open, %u before", bad, count_fds(), before);
	}
}

/* A geometry the backend could not be asked for is refused before sending. */
static void test_inflight_bad_geometry(void **state)
{
	struct fixture *f = *state;

	handshake_inflight(f, WANT_INFLIGHT);
	assert_int_equal(vhost_user_frontend_inflight_start(&f->fe, 0, IF_QSIZE), -EINVAL);
	assert_int_equal(vhost_user_frontend_inflight_start(&f->fe, MAX_VRINGS + 1, IF_QSIZE),
			 -EINVAL);
	assert_int_equal(vhost_user_frontend_inflight_start(&f->fe, 1, 100), -EINVAL);
	assert_int_equal(vhost_user_frontend_inflight_start(&f->fe, 1, 65536), -EINVAL);
	expect_quiet(f);
	assert_true(f->fe.connected);
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
	    cmocka_unit_test_setup_teardown(test_inflight_get_set_reconnect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inflight_new_geometry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inflight_not_negotiated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inflight_bad_replies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inflight_bad_geometry, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
