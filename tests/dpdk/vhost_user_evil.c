/* SPDX-License-Identifier: MIT */
/*
 * A hostile vhost-user frontend for the backend side of the issue-5 hostile
 * peer test (tests/dpdk/vsw_hostile.sh): it connects to a backend's socket
 * and plays one malformed scenario per run, then reports whether the
 * backend closed the connection. The backend under test (sluice-vswitch, on
 * rte_vhost) must survive every scenario, keep its other ports forwarding,
 * and accept a real frontend on the same socket afterwards.
 *
 *   vhost_user_evil SOCKET SCENARIO [HOLD_MS]
 *   vhost_user_evil list
 *
 * HOLD_MS (default 0): after the scenario's setup part (for "valid-*", the
 * complete handshake that brings the port up), keep the connection this long
 * before the final malformed part. Exit status: 0 once the scenario was
 * played (whatever the backend did), 1 on a local failure (no backend, a
 * valid step refused), 2 on usage errors. The well-formed messages are built
 * with the protocol library (vhost_user_dep); malformed ones go out raw.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vhost_user_sock.h"

#define EVIL_MEM_SIZE	      (2u << 20) /* the memfd of the valid table */
#define EVIL_QSIZE	      256
#define EVIL_RING_OFF(q)      (0x10000u + (q)*0x10000u) /* desc, +0x1000 avail, +0x2000 used */
#define EVIL_BUF_OFF	      0x100000u
#define EVIL_EOF_WAIT_MS      2000
#define VIRTIO_F_VERSION_1    32
#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_INDIRECT 4

struct evil {
	const char *path;
	int sock;
	struct vhost_user_conn conn; /* replies, validated */
	int memfd;
	uint8_t *mem; /* the memfd mapped here; its address is the table's user address */
	int kick[2], call[2];
	unsigned hold_ms;
	bool used0_past_end; /* valid_handshake: vring 0's used ring runs off the region */
	uint64_t want;	     /* features asked for besides VERSION_1 (if offered) */
};

struct evil_scenario {
	const char *name;
	const char *what;
	int (*play)(struct evil *e, const struct evil_scenario *s);
	long arg;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Raw bytes with fds in one sendmsg: for messages the library refuses to build. */
static int raw_send(struct evil *e, const void *buf, size_t len, const int *fds, unsigned nr_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	memset(&ctl, 0, sizeof(ctl));
	if (nr_fds) {
		struct cmsghdr *cm;

		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr_fds);
	}
	n = sendmsg(e->sock, &mh, MSG_NOSIGNAL);
	if (n < 0) {
		/* The backend may already have dropped us: that is its right. */
		fprintf(stderr, "evil: sendmsg: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/* A header and a payload of len bytes, whatever the header's size field says. */
static int raw_msg(struct evil *e, uint32_t request, uint32_t size, const void *payload, size_t len,
		   const int *fds, unsigned nr_fds)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + 512];
	struct vhost_user_hdr h = {.request = request, .flags = VHOST_USER_VERSION, .size = size};

	if (len > sizeof(buf) - VHOST_USER_HDR_SIZE)
		return -EINVAL;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + VHOST_USER_HDR_SIZE, payload, len);
	return raw_send(e, buf, VHOST_USER_HDR_SIZE + len, fds, nr_fds);
}

static int send_msg(struct evil *e, uint32_t request, const void *payload, uint32_t size,
		    const int *fds, unsigned nr_fds)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = request;
	m.hdr.flags = VHOST_USER_VERSION;
	m.hdr.size = size;
	if (size)
		memcpy(m.payload.raw, payload, size);
	return vhost_user_send(e->sock, &m, fds, nr_fds);
}

static int send_u64(struct evil *e, uint32_t request, uint64_t v, const int *fds, unsigned nr)
{
	return send_msg(e, request, &v, sizeof(v), fds, nr);
}

static int send_state(struct evil *e, uint32_t request, uint32_t index, uint32_t num)
{
	struct vhost_user_vring_state s = {.index = index, .num = num};

	return send_msg(e, request, &s, sizeof(s), NULL, 0);
}

/* A u64 reply to request (GET_FEATURES), validated by the library. */
static int recv_u64(struct evil *e, uint32_t request, uint64_t *v)
{
	struct pollfd p = {.fd = e->sock, .events = POLLIN};
	struct vhost_user_msg m;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nr_fds;
	int ret;

	do {
		if (poll(&p, 1, 5000) <= 0) {
			fprintf(stderr, "evil: no reply to request %u\n", request);
			return -ETIMEDOUT;
		}
	} while ((ret = vhost_user_recv(&e->conn, &m, fds, &nr_fds)) == -EAGAIN);
	if (ret)
		return ret;
	vhost_user_close_fds(fds, nr_fds);
	if (m.hdr.request != request || m.hdr.size != sizeof(uint64_t)) {
		fprintf(stderr, "evil: reply to %u is %u (%u bytes)\n", request, m.hdr.request,
			m.hdr.size);
		return -EPROTO;
	}
	*v = m.payload.u64;
	return 0;
}

static int memfd_of(size_t size)
{
	int fd = memfd_create("vhost-user-evil", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		perror("evil: memfd");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static struct vhost_user_mem_region region_at(const struct evil *e, uint64_t gpa, uint64_t size)
{
	return (struct vhost_user_mem_region){
	    .guest_phys_addr = gpa,
	    .memory_size = size,
	    .userspace_addr = (uint64_t)(uintptr_t)e->mem + gpa,
	    .mmap_offset = gpa,
	};
}

/* SET_MEM_TABLE of n regions; size_field 0: the right size. */
static int send_table(struct evil *e, const struct vhost_user_mem_region *r, unsigned n,
		      const int *fds, unsigned nr_fds)
{
	uint8_t payload[8 + 16 * sizeof(struct vhost_user_mem_region)];
	uint32_t nregions = n;
	size_t len = 8 + n * sizeof(*r);

	memset(payload, 0, sizeof(payload));
	memcpy(payload, &nregions, sizeof(nregions));
	memcpy(payload + 8, r, n * sizeof(*r));
	/* 9 regions do not fit the library's message: raw for every count. */
	return raw_msg(e, VHOST_USER_SET_MEM_TABLE, (uint32_t)len, payload, len, fds, nr_fds);
}

/* The memfd the well-formed scenarios share with the backend. */
static int map_memory(struct evil *e, size_t file_size)
{
	e->memfd = memfd_of(file_size);
	if (e->memfd < 0)
		return -1;
	e->mem = mmap(NULL, EVIL_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, e->memfd, 0);
	if (e->mem == MAP_FAILED) {
		perror("evil: mmap");
		e->mem = NULL;
		return -1;
	}
	return 0;
}

static int valid_table(struct evil *e)
{
	struct vhost_user_mem_region r = region_at(e, 0, EVIL_MEM_SIZE);

	return send_table(e, &r, 1, &e->memfd, 1);
}

static struct vhost_user_vring_addr ring_addr(const struct evil *e, unsigned q)
{
	uint64_t base = (uint64_t)(uintptr_t)e->mem + EVIL_RING_OFF(q);

	return (struct vhost_user_vring_addr){
	    .index = q,
	    .desc_user_addr = base,
	    .avail_user_addr = base + 0x1000,
	    .used_user_addr = base + 0x2000,
	};
}

/* SET_OWNER, GET_FEATURES, SET_FEATURES(VERSION_1 + want): no protocol features, rings start on
 * kick. */
static int owner_and_features(struct evil *e)
{
	uint64_t f;
	int ret;

	if ((ret = send_msg(e, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0)) ||
	    (ret = send_msg(e, VHOST_USER_GET_FEATURES, NULL, 0, NULL, 0)) ||
	    (ret = recv_u64(e, VHOST_USER_GET_FEATURES, &f)))
		return ret;
	if (!(f & 1ULL << VIRTIO_F_VERSION_1)) {
		fprintf(stderr, "evil: backend without VERSION_1 (0x%llx)\n",
			(unsigned long long)f);
		return -ENOTSUP;
	}
	return send_u64(e, VHOST_USER_SET_FEATURES, 1ULL << VIRTIO_F_VERSION_1 | (f & e->want),
			NULL, 0);
}

/* One ring, fully set up: NUM, BASE, ADDR, CALL, KICK. */
static int valid_ring(struct evil *e, unsigned q)
{
	struct vhost_user_vring_addr a = ring_addr(e, q);
	int ret;

	if (q == 0 && e->used0_past_end)
		a.used_user_addr = (uint64_t)(uintptr_t)e->mem + EVIL_MEM_SIZE - 64;

	if ((ret = send_state(e, VHOST_USER_SET_VRING_NUM, q, EVIL_QSIZE)) ||
	    (ret = send_state(e, VHOST_USER_SET_VRING_BASE, q, 0)) ||
	    (ret = send_msg(e, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0)) ||
	    (ret = send_u64(e, VHOST_USER_SET_VRING_CALL, q, &e->call[q], 1)) ||
	    (ret = send_u64(e, VHOST_USER_SET_VRING_KICK, q, &e->kick[q], 1)))
		return ret;
	return 0;
}

/* Everything a real frontend does: the backend's device comes up. */
static int valid_handshake(struct evil *e)
{
	int ret;

	if ((ret = map_memory(e, EVIL_MEM_SIZE)) || (ret = owner_and_features(e)) ||
	    (ret = valid_table(e)) || (ret = valid_ring(e, 0)) || (ret = valid_ring(e, 1)))
		return ret ? ret : -1;
	fprintf(stderr, "evil: handshake done, the device should be up\n");
	return 0;
}

static void hold(const struct evil *e)
{
	if (e->hold_ms)
		sleep_ms(e->hold_ms);
}

/* --- scenarios --- */

static int play_hdr_size_over_payload(struct evil *e, const struct evil_scenario *s)
{
	uint64_t v = 0;

	(void)s;
	/* SET_VRING_NUM claims 4 KiB (no message is that big) and brings 8 bytes. */
	return raw_msg(e, VHOST_USER_SET_VRING_NUM, 4096, &v, sizeof(v), NULL, 0);
}

static int play_size_mismatch(struct evil *e, const struct evil_scenario *s)
{
	uint8_t p[64] = {0};

	/* A request's payload of the wrong size (arg bytes), all of them sent. */
	return raw_msg(e, VHOST_USER_SET_VRING_NUM, (uint32_t)s->arg, p, (size_t)s->arg, NULL, 0);
}

static int play_truncated(struct evil *e, const struct evil_scenario *s)
{
	struct vhost_user_vring_state st = {.index = 0, .num = 256};
	uint8_t buf[VHOST_USER_HDR_SIZE + sizeof(st)];
	struct vhost_user_hdr h = {
	    .request = VHOST_USER_SET_VRING_NUM, .flags = VHOST_USER_VERSION, .size = sizeof(st)};

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), &st, sizeof(st));
	/* arg bytes of the message, then (after the hold) hang up. */
	return raw_send(e, buf, (size_t)s->arg, NULL, 0);
}

static int play_unknown(struct evil *e, const struct evil_scenario *s)
{
	uint64_t v = 0;

	return raw_msg(e, (uint32_t)s->arg, sizeof(v), &v, sizeof(v), NULL, 0);
}

static int play_bad_flags(struct evil *e, const struct evil_scenario *s)
{
	uint8_t buf[VHOST_USER_HDR_SIZE];
	struct vhost_user_hdr h = {.request = VHOST_USER_SET_OWNER, .flags = (uint32_t)s->arg};

	memcpy(buf, &h, sizeof(h));
	return raw_send(e, buf, sizeof(buf), NULL, 0);
}

static int play_mem_count(struct evil *e, const struct evil_scenario *s)
{
	struct vhost_user_mem_region r[9];
	int fds[8];
	unsigned n = (unsigned)s->arg;
	int ret;

	if ((ret = map_memory(e, EVIL_MEM_SIZE)))
		return ret;
	for (unsigned i = 0; i < 9; i++) {
		r[i] = region_at(e, (uint64_t)i * 0x40000, 0x40000);
		if (i < 8)
			fds[i] = e->memfd;
	}
	return send_table(e, r, n, fds, n < 8 ? n : 8);
}

static int play_mem_overlap(struct evil *e, const struct evil_scenario *s)
{
	struct vhost_user_mem_region r[2];
	int fds[2];
	int ret;

	if ((ret = map_memory(e, EVIL_MEM_SIZE)))
		return ret;
	r[0] = region_at(e, 0, 0x100000);
	r[1] = region_at(e, 0x80000, 0x100000);
	if (s->arg) { /* overlapping in the frontend's address space only */
		r[1].guest_phys_addr = 0x1000000;
	}
	fds[0] = fds[1] = e->memfd;
	if ((ret = send_table(e, r, 2, fds, 2)))
		return ret;
	/* A ring in the overlap, so an accepted table gets used. */
	return send_state(e, VHOST_USER_SET_VRING_NUM, 0, EVIL_QSIZE);
}

enum bad_fd { FD_PIPE, FD_EVENTFD, FD_NONE, FD_TOO_FEW };

static int play_mem_bad_fd(struct evil *e, const struct evil_scenario *s)
{
	struct vhost_user_mem_region r[2];
	int fds[2], p[2] = {-1, -1}, ret;
	unsigned n = 1, nr_fds = 1;

	if ((ret = map_memory(e, EVIL_MEM_SIZE)))
		return ret;
	r[0] = region_at(e, 0, 0x100000);
	r[1] = region_at(e, 0x100000, 0x100000);
	fds[0] = fds[1] = e->memfd;
	switch ((enum bad_fd)s->arg) {
	case FD_PIPE:
		if (pipe2(p, O_CLOEXEC) != 0)
			return -errno;
		fds[0] = p[0];
		break;
	case FD_EVENTFD:
		fds[0] = eventfd(0, EFD_CLOEXEC);
		if (fds[0] < 0)
			return -errno;
		break;
	case FD_NONE:
		nr_fds = 0;
		break;
	case FD_TOO_FEW:
		n = 2;
		break;
	}
	ret = send_table(e, r, n, fds, nr_fds);
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	return ret;
}

static int play_mem_size(struct evil *e, const struct evil_scenario *s)
{
	struct vhost_user_mem_region r;

	/* A 1 MiB memfd; the region says arg bytes (or wraps). */
	if (map_memory(e, 1u << 20))
		return -1;
	r = region_at(e, 0, (uint64_t)s->arg);
	if (s->arg == 0) { /* mmap_offset + size wraps */
		r.memory_size = 0x100000;
		r.mmap_offset = ~0ULL - 0xfff;
	}
	return send_table(e, &r, 1, &e->memfd, 1);
}

/* A ring whose parts lie where s->arg says, the rest of the setup valid. */
static int play_ring_addr(struct evil *e, const struct evil_scenario *s)
{
	struct vhost_user_vring_addr a;
	int ret;

	if ((ret = map_memory(e, EVIL_MEM_SIZE)) || (ret = owner_and_features(e)) ||
	    (ret = valid_table(e)))
		return ret ? ret : -1;
	a = ring_addr(e, 0);
	switch (s->arg) {
	case 0: /* far outside every region */
		a.desc_user_addr = 0x7ff000000000ULL;
		break;
	case 1: /* the used ring runs off the end of the region */
		a.used_user_addr = (uint64_t)(uintptr_t)e->mem + EVIL_MEM_SIZE - 64;
		break;
	case 2: /* misaligned descriptor table */
		a.desc_user_addr += 3;
		break;
	case 3: /* wraps the address space */
		a.avail_user_addr = ~0ULL - 16;
		break;
	}
	if ((ret = send_state(e, VHOST_USER_SET_VRING_NUM, 0, EVIL_QSIZE)) ||
	    (ret = send_state(e, VHOST_USER_SET_VRING_BASE, 0, 0)) ||
	    (ret = send_msg(e, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0)) ||
	    (ret = send_u64(e, VHOST_USER_SET_VRING_CALL, 0, &e->call[0], 1)) ||
	    (ret = send_u64(e, VHOST_USER_SET_VRING_KICK, 0, &e->kick[0], 1)))
		return ret;
	return valid_ring(e, 1);
}

static int play_vring_num(struct evil *e, const struct evil_scenario *s)
{
	int ret;

	if ((ret = owner_and_features(e)))
		return ret;
	/* arg < 0: a bad index with a good size. */
	if (s->arg < 0)
		return send_state(e, VHOST_USER_SET_VRING_NUM, (uint32_t)-s->arg, EVIL_QSIZE);
	return send_state(e, VHOST_USER_SET_VRING_NUM, 0, (uint32_t)s->arg);
}

/* SET_VRING_KICK (arg bit 8: CALL) with arg & 0xff fds and no NOFD bit. */
static int play_vring_fd(struct evil *e, const struct evil_scenario *s)
{
	uint32_t req = s->arg & 0x100 ? VHOST_USER_SET_VRING_CALL : VHOST_USER_SET_VRING_KICK;
	unsigned n = s->arg & 0xff;
	int fds[8], ret;

	if ((ret = owner_and_features(e)))
		return ret;
	for (unsigned i = 0; i < n; i++)
		if ((fds[i] = eventfd(0, EFD_CLOEXEC)) < 0)
			return -errno;
	ret = send_u64(e, req, 0, fds, n);
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
	return ret;
}

/* The device comes up (HOLD_MS lets the test see it), then garbage. */
static int play_valid_then_garbage(struct evil *e, const struct evil_scenario *s)
{
	uint8_t junk[256];
	int ret;

	(void)s;
	if ((ret = valid_handshake(e)))
		return ret;
	hold(e);
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	return raw_send(e, junk, sizeof(junk), NULL, 0);
}

/*
 * The device comes up, then its TX ring (vring 1) offers descriptors that
 * point outside guest memory, are absurdly long, loop, or name indirect
 * tables that are not there, and one head beyond the ring, after one good
 * broadcast frame.
 */
static int play_valid_bad_descs(struct evil *e, const struct evil_scenario *s)
{
	struct {
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
	} * desc;
	uint16_t *avail;
	uint8_t *frame;
	uint64_t one = 1;
	int ret;

	(void)s;
	if ((ret = valid_handshake(e)))
		return ret;
	desc = (void *)(e->mem + EVIL_RING_OFF(1));
	avail = (uint16_t *)(e->mem + EVIL_RING_OFF(1) + 0x1000);
	desc[0].addr = 0x7ff000000000ULL; /* outside every region */
	desc[0].len = 1500;
	desc[1].addr = EVIL_BUF_OFF; /* inside, but runs far past the end */
	desc[1].len = 0x7fffffff;
	desc[2].addr = EVIL_BUF_OFF; /* a chain that loops on itself */
	desc[2].len = 64;
	desc[2].flags = VRING_DESC_F_NEXT;
	desc[2].next = 2;
	desc[3].addr = 0x7ff000000000ULL; /* an indirect table outside memory */
	desc[3].len = 4096;
	desc[3].flags = VRING_DESC_F_INDIRECT;
	desc[4].addr = EVIL_BUF_OFF; /* chain to a descriptor beyond the ring */
	desc[4].len = 64;
	desc[4].flags = VRING_DESC_F_NEXT;
	desc[4].next = 60000;
	desc[5].addr = EVIL_MEM_SIZE - 8; /* straddles the end of the region */
	desc[5].len = 64;
	/* First one good broadcast frame, so the ring is known to be served. */
	frame = e->mem + EVIL_BUF_OFF + 0x10000;
	memset(frame, 0, 12 + 60);
	memset(frame + 12, 0xff, 6);
	memcpy(frame + 12 + 6, "\x02\x00\x00\x00\x00\x0e\x08\x00", 8);
	desc[6].addr = EVIL_BUF_OFF + 0x10000;
	desc[6].len = 12 + 60;
	avail[2] = 6;
	for (unsigned i = 0; i < 6; i++)
		avail[3 + i] = (uint16_t)i;
	avail[3 + 6] = 1000; /* a head beyond the ring */
	__atomic_store_n(&avail[1], (uint16_t)8, __ATOMIC_RELEASE);
	if (write(e->kick[1], &one, sizeof(one)) < 0)
		return -errno;
	hold(e);
	/* Then an avail index that claims far more entries than the ring has. */
	__atomic_store_n(&avail[1], (uint16_t)40000, __ATOMIC_RELEASE);
	if (write(e->kick[1], &one, sizeof(one)) < 0)
		return -errno;
	sleep_ms(200);
	return 0;
}

/*
 * The device comes up although vring 0's used ring (2 KiB) starts 64 bytes
 * before the end of the only region; then vring 0 offers receive buffers,
 * so a backend that forwards to this port writes used elements past it.
 */
static int play_valid_used_past_end(struct evil *e, const struct evil_scenario *s)
{
	struct {
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
	} * desc;
	uint16_t *avail;
	uint64_t one = 1;
	int ret;

	(void)s;
	e->used0_past_end = true;
	if ((ret = valid_handshake(e)))
		return ret;
	desc = (void *)(e->mem + EVIL_RING_OFF(0));
	avail = (uint16_t *)(e->mem + EVIL_RING_OFF(0) + 0x1000);
	for (unsigned i = 0; i < 64; i++) {
		desc[i].addr = EVIL_BUF_OFF + i * 2048;
		desc[i].len = 2048;
		desc[i].flags = 2; /* VRING_DESC_F_WRITE */
		avail[2 + i] = (uint16_t)i;
	}
	__atomic_store_n(&avail[1], (uint16_t)64, __ATOMIC_RELEASE);
	if (write(e->kick[0], &one, sizeof(one)) < 0)
		return -errno;
	hold(e);
	return 0;
}

/* --- offload-tx: a well-behaved sender of checksum/TSO offload frames --- */

#define VIRTIO_NET_F_CSUM	    0
#define VIRTIO_NET_F_HOST_TSO4	    11
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_GSO_TCPV4    1

struct vnet_hdr { /* virtio 1.0 virtio_net_hdr, little endian */
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
} __attribute__((packed));

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int parse_ip(const char *s, uint8_t ip[4])
{
	unsigned b[4];

	if (sscanf(s, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]) != 4)
		return -1;
	for (int i = 0; i < 4; i++)
		ip[i] = (uint8_t)b[i];
	return 0;
}

/*
 * One frame at buf: virtio header, Ethernet, IPv4 (complete checksum), then
 * TCP or UDP with payload bytes of a pattern and, as the virtio spec asks of
 * a NEEDS_CSUM frame, only the pseudo-header sum in the checksum field.
 * Returns the descriptor length.
 */
static uint32_t offload_frame(uint8_t *buf, const uint8_t dmac[6], const uint8_t dip[4], bool tcp,
			      uint32_t payload, uint16_t mss, uint32_t seq)
{
	static const uint8_t smac[6] = {2, 0, 0, 0, 0, 0x0e}, sip[4] = {198, 51, 100, 2};
	struct vnet_hdr *h = (struct vnet_hdr *)buf;
	uint8_t *eth = buf + sizeof(*h), *ip = eth + 14, *l4 = ip + 20;
	uint32_t l4len = (tcp ? 20 : 8) + payload;
	uint16_t csum_off = tcp ? 16 : 6, v;

	memset(buf, 0, sizeof(*h) + 14 + 20 + l4len);
	memcpy(eth, dmac, 6);
	memcpy(eth + 6, smac, 6);
	eth[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + l4len) >> 8);
	ip[3] = (uint8_t)(20 + l4len);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = tcp ? 6 : 17;
	memcpy(ip + 12, sip, 4);
	memcpy(ip + 16, dip, 4);
	v = (uint16_t)~fold(sum16(ip, 20, 0));
	ip[10] = (uint8_t)(v >> 8);
	ip[11] = (uint8_t)v;
	l4[0] = 0x9c; /* source port 40000 */
	l4[1] = 0x40;
	l4[2] = 0x1f; /* destination port 8080 */
	l4[3] = 0x90;
	if (tcp) {
		l4[4] = (uint8_t)(seq >> 24);
		l4[5] = (uint8_t)(seq >> 16);
		l4[6] = (uint8_t)(seq >> 8);
		l4[7] = (uint8_t)seq;
		l4[12] = 5 << 4;
		l4[13] = 0x18; /* PSH ACK */
		l4[14] = 0xff;
		l4[15] = 0xff;
	} else {
		l4[4] = (uint8_t)(l4len >> 8);
		l4[5] = (uint8_t)l4len;
	}
	for (uint32_t i = 0; i < payload; i++)
		l4[(tcp ? 20 : 8) + i] = (uint8_t)(i * 7 + seq);
	/* Pseudo header: addresses, protocol, L4 length (the whole frame's, for TSO too). */
	v = fold(sum16(ip + 12, 8, ip[9] + l4len));
	l4[csum_off] = (uint8_t)(v >> 8);
	l4[csum_off + 1] = (uint8_t)v;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = 14 + 20;
	h->csum_offset = csum_off;
	if (mss) {
		h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		h->gso_size = mss;
		h->hdr_len = 14 + 20 + 20;
	}
	return (uint32_t)sizeof(*h) + 14 + 20 + l4len;
}

/*
 * Negotiates CSUM and HOST_TSO4 and sends three frames to EVIL_DST_MAC /
 * EVIL_DST_IP (environment; default broadcast, 198.51.100.1), TCP port
 * 8080: TCP with 1000 payload bytes and a partial checksum, one TSO frame of
 * 8000 payload bytes with MSS 1000, and UDP with 500 bytes and a partial
 * checksum.
 */
static int play_offload_tx(struct evil *e, const struct evil_scenario *s)
{
	struct {
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
	} * desc;
	uint8_t dmac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, dip[4] = {198, 51, 100, 1};
	const char *env_mac = getenv("EVIL_DST_MAC"), *env_ip = getenv("EVIL_DST_IP");
	uint16_t *avail;
	uint64_t one = 1;
	int ret;

	if ((env_mac && parse_mac(env_mac, dmac)) || (env_ip && parse_ip(env_ip, dip))) {
		fprintf(stderr, "evil: bad EVIL_DST_MAC or EVIL_DST_IP\n");
		return -EINVAL;
	}
	e->want = 1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_HOST_TSO4;
	if ((ret = valid_handshake(e)))
		return ret;
	desc = (void *)(e->mem + EVIL_RING_OFF(1));
	avail = (uint16_t *)(e->mem + EVIL_RING_OFF(1) + 0x1000);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t off = EVIL_BUF_OFF + i * 0x4000u;

		desc[i].addr = off;
		desc[i].len = offload_frame(e->mem + off, dmac, dip, i < 2,
					    i == 0   ? 1000
					    : i == 1 ? 8000
						     : 500,
					    i == 1 ? 1000 : 0, 1000 + i * 100000);
		avail[2 + i] = (uint16_t)i;
	}
	if (s->arg) {
		/* Hostile headers on the same frames: a checksum start past the
		 * frame, a TSO frame with MSS 0, a checksum field past the frame. */
		struct vnet_hdr *h0 = (struct vnet_hdr *)(e->mem + desc[0].addr);
		struct vnet_hdr *h1 = (struct vnet_hdr *)(e->mem + desc[1].addr);
		struct vnet_hdr *h2 = (struct vnet_hdr *)(e->mem + desc[2].addr);

		h0->csum_start = 4000;
		h1->gso_size = 0;
		h2->csum_offset = 0xfff0;
	}
	__atomic_store_n(&avail[1], (uint16_t)3, __ATOMIC_RELEASE);
	if (write(e->kick[1], &one, sizeof(one)) < 0)
		return -errno;
	hold(e);
	return 0;
}

#define CALL 0x100
static const struct evil_scenario scenarios[] = {
    {"hdr-size-over-payload", "header size 4096, 8 payload bytes", play_hdr_size_over_payload, 0},
    {"size-short", "SET_VRING_NUM with a 4-byte payload", play_size_mismatch, 4},
    {"size-long", "SET_VRING_NUM with a 40-byte payload", play_size_mismatch, 40},
    {"truncated-hdr", "6 bytes of a header, then hang up", play_truncated, 6},
    {"stall-after-header", "a header announcing 8 bytes, then silence (HOLD_MS)", play_truncated,
     12},
    {"truncated-payload", "header + 4 of 8 payload bytes, then hang up", play_truncated, 16},
    {"unknown-req", "request 99", play_unknown, 99},
    {"req-zero", "request 0 (NONE)", play_unknown, 0},
    {"bad-flags", "version 3 and unknown flag bits", play_bad_flags, 0xfff3},
    {"mem-0-regions", "SET_MEM_TABLE with 0 regions", play_mem_count, 0},
    {"mem-9-regions", "SET_MEM_TABLE with 9 regions (8 fds)", play_mem_count, 9},
    {"mem-overlap", "two regions overlapping in guest-physical space", play_mem_overlap, 0},
    {"mem-overlap-user", "two regions overlapping in user space", play_mem_overlap, 1},
    {"mem-fd-pipe", "a region whose fd is a pipe", play_mem_bad_fd, FD_PIPE},
    {"mem-fd-eventfd", "a region whose fd is an eventfd", play_mem_bad_fd, FD_EVENTFD},
    {"mem-no-fd", "a region without an fd", play_mem_bad_fd, FD_NONE},
    {"mem-fd-too-few", "two regions, one fd", play_mem_bad_fd, FD_TOO_FEW},
    {"mem-past-eof", "a 64 MiB region on a 1 MiB memfd", play_mem_size, 64 << 20},
    {"mem-huge", "a 2^62-byte region", play_mem_size, 1LL << 62},
    {"mem-offset-wraps", "mmap_offset + size wraps", play_mem_size, 0},
    {"ring-outside", "SET_VRING_ADDR outside every region", play_ring_addr, 0},
    {"ring-past-end", "the used ring runs off the region's end", play_ring_addr, 1},
    {"ring-misaligned", "a misaligned descriptor table", play_ring_addr, 2},
    {"ring-wraps", "an avail ring address that wraps", play_ring_addr, 3},
    {"vring-num-3", "SET_VRING_NUM 3 (not a power of two)", play_vring_num, 3},
    {"vring-num-0", "SET_VRING_NUM 0", play_vring_num, 0},
    {"vring-num-65536", "SET_VRING_NUM 65536", play_vring_num, 65536},
    {"vring-index-255", "SET_VRING_NUM on vring 255", play_vring_num, -255},
    {"kick-no-fd", "SET_VRING_KICK without an fd or NOFD", play_vring_fd, 0},
    {"kick-8-fds", "SET_VRING_KICK with 8 fds", play_vring_fd, 8},
    {"call-no-fd", "SET_VRING_CALL without an fd or NOFD", play_vring_fd, CALL | 0},
    {"call-8-fds", "SET_VRING_CALL with 8 fds", play_vring_fd, CALL | 8},
    {"valid-then-garbage", "a working device, then 256 bytes of garbage", play_valid_then_garbage,
     0},
    {"valid-bad-descs", "a working device whose TX ring offers hostile descriptors",
     play_valid_bad_descs, 0},
    {"valid-used-past-end", "a working device whose used ring runs off its region",
     play_valid_used_past_end, 0},
    {"valid-offload-tx", "a working device sending partial-checksum and TSO frames",
     play_offload_tx, 0},
    {"valid-offload-hostile",
     "the same frames with a checksum start and a checksum field past the frame and MSS 0",
     play_offload_tx, 1},
};

/* Did the backend hang up on us (within EVIL_EOF_WAIT_MS)? */
static bool backend_closed(struct evil *e)
{
	struct pollfd p = {.fd = e->sock, .events = POLLIN};
	uint8_t buf[512];

	for (;;) {
		ssize_t n;

		if (poll(&p, 1, EVIL_EOF_WAIT_MS) <= 0)
			return false;
		n = recv(e->sock, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return true;
	}
}

static void evil_close(struct evil *e)
{
	if (e->sock >= 0)
		close(e->sock);
	for (unsigned i = 0; i < 2; i++) {
		if (e->kick[i] >= 0)
			close(e->kick[i]);
		if (e->call[i] >= 0)
			close(e->call[i]);
	}
	if (e->mem)
		munmap(e->mem, EVIL_MEM_SIZE);
	if (e->memfd >= 0)
		close(e->memfd);
}

int main(int argc, char **argv)
{
	const struct evil_scenario *s = NULL;
	struct evil e = {.sock = -1, .memfd = -1, .kick = {-1, -1}, .call = {-1, -1}};
	int ret;

	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			printf("%s\n", scenarios[i].name);
		return 0;
	}
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s SOCKET SCENARIO [HOLD_MS] | %s list\n", argv[0],
			argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (strcmp(argv[2], scenarios[i].name) == 0)
			s = &scenarios[i];
	if (s == NULL) {
		fprintf(stderr, "evil: unknown scenario %s\n", argv[2]);
		return 2;
	}
	e.path = argv[1];
	e.hold_ms = argc == 4 ? (unsigned)strtoul(argv[3], NULL, 10) : 0;
	for (unsigned i = 0; i < 2; i++) {
		e.kick[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		e.call[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (e.kick[i] < 0 || e.call[i] < 0) {
			perror("evil: eventfd");
			evil_close(&e);
			return 1;
		}
	}
	e.sock = vhost_user_connect(e.path, false);
	if (e.sock < 0) {
		fprintf(stderr, "evil: cannot connect to %s: %s\n", e.path, strerror(-e.sock));
		e.sock = -1;
		evil_close(&e);
		return 1;
	}
	vhost_user_conn_init(&e.conn, e.sock, VHOST_USER_BACKEND_REPLY, 2, e.path);
	ret = s->play(&e, s);
	if (ret == 0 && strncmp(s->name, "valid-", 6) != 0)
		hold(&e);
	printf("evil %s (%s): %s; backend %s\n", s->name, s->what,
	       ret == 0 ? "played" : "a step failed",
	       backend_closed(&e) ? "hung up" : "kept the connection");
	evil_close(&e);
	/* A send refused because the backend already hung up is the scenario working. */
	return ret == 0 || ret == -EPIPE || ret == -ECONNRESET ? 0 : 1;
}
