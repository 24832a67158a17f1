/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user validator against every kind of malformed message a hostile
 * peer can send, the good messages DPDK 22.11's virtio_user and rte_vhost
 * actually exchange, and the socket layer with real fds (memfd, eventfd) over
 * a socketpair, including that a rejected message's fds are all closed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"
#include "vhost_user_msg.h"
#include "vhost_user_sock.h"

#define MAX_VRINGS 4 /* two queue pairs */

static struct vhost_user_msg mk(uint32_t req, uint32_t flags, uint32_t size)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = req;
	m.hdr.flags = VHOST_USER_VERSION | flags;
	m.hdr.size = size;
	return m;
}

static struct vhost_user_msg mk_u64(uint32_t req, uint32_t flags, uint64_t v)
{
	struct vhost_user_msg m = mk(req, flags, sizeof(uint64_t));

	m.payload.u64 = v;
	return m;
}

static struct vhost_user_msg mk_state(uint32_t req, uint32_t flags, uint32_t index, uint32_t num)
{
	struct vhost_user_msg m = mk(req, flags, sizeof(struct vhost_user_vring_state));

	m.payload.state.index = index;
	m.payload.state.num = num;
	return m;
}

static void set_regions(struct vhost_user_msg *m, unsigned n)
{
	m->hdr.size = 8 + 32 * n;
	m->payload.memory.nregions = n;
}

/* One 1 GiB region of guest RAM at GPA 0, mapped at 0x7f0000000000. */
static struct vhost_user_msg mk_mem1(void)
{
	struct vhost_user_msg m = mk(VHOST_USER_SET_MEM_TABLE, VHOST_USER_NEED_REPLY, 0);

	set_regions(&m, 1);
	m.payload.memory.regions[0] = (struct vhost_user_mem_region){
	    .guest_phys_addr = 0, .memory_size = GiB, .userspace_addr = 0x7f0000000000ULL};
	return m;
}

static int check(const struct vhost_user_msg *m, unsigned nr_fds, enum vhost_user_kind kind,
		 char *why, size_t whylen)
{
	return vhost_user_msg_validate(m, VHOST_USER_HDR_SIZE + m->hdr.size, nr_fds, kind,
				       MAX_VRINGS, why, whylen);
}

#define expect_ok(m, fds, kind)                                                                    \
	do {                                                                                       \
		char why_[160];                                                                    \
		int rc_ = check(&(m), (fds), (kind), why_, sizeof(why_));                          \
		if (rc_ != 0)                                                                      \
			fail_msg("%s:%d: want accepted, got %d (%s)", __FILE__, __LINE__, rc_,     \
				 why_);                                                            \
	} while (0)

/* Rejected, and the reason mentions `what` (so it is rejected for that). */
#define expect_bad_bytes(m, bytes, fds, kind, what)                                                \
	do {                                                                                       \
		char why_[160];                                                                    \
		int rc_ = vhost_user_msg_validate(&(m), (bytes), (fds), (kind), MAX_VRINGS, why_,  \
						  sizeof(why_));                                   \
		if (rc_ != -EINVAL)                                                                \
			fail_msg("%s:%d: want -EINVAL, got %d", __FILE__, __LINE__, rc_);          \
		if (!strstr(why_, (what)))                                                         \
			fail_msg("%s:%d: reason \"%s\" does not mention \"%s\"", __FILE__,         \
				 __LINE__, why_, (what));                                          \
	} while (0)

#define expect_bad(m, fds, kind, what)                                                             \
	expect_bad_bytes(m, VHOST_USER_HDR_SIZE + (m).hdr.size, fds, kind, what)

#define FREQ  VHOST_USER_FRONTEND_REQUEST
#define BREPL VHOST_USER_BACKEND_REPLY
#define BREQ  VHOST_USER_BACKEND_REQUEST
#define FREPL VHOST_USER_FRONTEND_REPLY

/* ---- what DPDK 22.11 sends and answers (shared/dpdk/README.md) ---- */

static void test_dpdk_session(void **state)
{
	struct vhost_user_msg m;
	struct vhost_user_vring_addr *a;

	(void)state;
	m = mk(VHOST_USER_SET_OWNER, 0, 0);
	expect_ok(m, 0, FREQ);
	m = mk(VHOST_USER_GET_FEATURES, 0, 0);
	expect_ok(m, 0, FREQ);
	m = mk_u64(VHOST_USER_GET_FEATURES, VHOST_USER_REPLY, 0x950008000ULL);
	expect_ok(m, 0, BREPL);
	m = mk(VHOST_USER_GET_PROTOCOL_FEATURES, 0, 0);
	expect_ok(m, 0, FREQ);
	m = mk_u64(VHOST_USER_GET_PROTOCOL_FEATURES, VHOST_USER_REPLY, 0x10009);
	expect_ok(m, 0, BREPL);
	m = mk_u64(VHOST_USER_SET_PROTOCOL_FEATURES, 0, 0x10009);
	expect_ok(m, 0, FREQ);
	for (unsigned q = 0; q < 2; q++) {
		m = mk_u64(VHOST_USER_SET_VRING_CALL, 0, q);
		expect_ok(m, 1, FREQ);
	}
	m = mk_u64(VHOST_USER_SET_FEATURES, VHOST_USER_NEED_REPLY, 0x950008000ULL);
	expect_ok(m, 0, FREQ);
	m = mk_u64(VHOST_USER_SET_FEATURES, VHOST_USER_REPLY, 0); /* REPLY_ACK */
	expect_ok(m, 0, BREPL);
	m = mk_u64(VHOST_USER_SET_STATUS, 0, 0x0b);
	expect_ok(m, 0, FREQ);
	m = mk(VHOST_USER_GET_STATUS, 0, 0);
	expect_ok(m, 0, FREQ);
	m = mk_u64(VHOST_USER_GET_STATUS, VHOST_USER_REPLY, 0x0b);
	expect_ok(m, 0, BREPL);
	m = mk_mem1();
	expect_ok(m, 1, FREQ);
	m = mk_u64(VHOST_USER_SET_MEM_TABLE, VHOST_USER_REPLY, 0);
	expect_ok(m, 0, BREPL);
	for (unsigned q = 0; q < 2; q++) {
		m = mk_state(VHOST_USER_SET_VRING_NUM, 0, q, 256);
		expect_ok(m, 0, FREQ);
		m = mk_state(VHOST_USER_SET_VRING_BASE, 0, q, 0);
		expect_ok(m, 0, FREQ);
		m = mk(VHOST_USER_SET_VRING_ADDR, 0, sizeof(struct vhost_user_vring_addr));
		a = &m.payload.addr;
		a->index = q;
		a->desc_user_addr = 0x7f0000100000ULL + q * 0x10000;
		a->avail_user_addr = a->desc_user_addr + 4096;
		a->used_user_addr = a->desc_user_addr + 8192;
		expect_ok(m, 0, FREQ);
		m = mk_u64(VHOST_USER_SET_VRING_KICK, 0, q);
		expect_ok(m, 1, FREQ);
		m = mk_state(VHOST_USER_SET_VRING_ENABLE, 0, q, 1);
		expect_ok(m, 0, FREQ);
	}
	m = mk_state(VHOST_USER_GET_VRING_BASE, 0, 1, 0);
	expect_ok(m, 0, FREQ);
	m = mk_state(VHOST_USER_GET_VRING_BASE, VHOST_USER_REPLY, 1, 1234);
	expect_ok(m, 0, BREPL);
	m = mk(VHOST_USER_GET_QUEUE_NUM, 0, 0);
	expect_ok(m, 0, FREQ);
	m = mk_u64(VHOST_USER_GET_QUEUE_NUM, VHOST_USER_REPLY, 1);
	expect_ok(m, 0, BREPL);
}

static void test_other_good_messages(void **state)
{
	struct vhost_user_msg m;

	(void)state;
	/* polling instead of a kick fd */
	m = mk_u64(VHOST_USER_SET_VRING_KICK, 0, 3 | VHOST_USER_VRING_NOFD);
	expect_ok(m, 0, FREQ);
	/* reconnect: inflight area */
	m = mk(VHOST_USER_GET_INFLIGHT_FD, 0, sizeof(struct vhost_user_inflight));
	m.payload.inflight.num_queues = 2;
	m.payload.inflight.queue_size = 256;
	expect_ok(m, 0, FREQ);
	m.hdr.flags |= VHOST_USER_REPLY;
	m.payload.inflight.mmap_size = vhost_user_inflight_split_size(2, 256);
	expect_ok(m, 1, BREPL);
	m = mk(VHOST_USER_SET_INFLIGHT_FD, 0, sizeof(struct vhost_user_inflight));
	m.payload.inflight.num_queues = 2;
	m.payload.inflight.queue_size = 256;
	m.payload.inflight.mmap_size = vhost_user_inflight_split_size(2, 256);
	expect_ok(m, 1, FREQ);
	/* config space */
	m = mk(VHOST_USER_GET_CONFIG, 0, 12 + 12);
	m.payload.config.size = 12;
	expect_ok(m, 0, FREQ);
	m.hdr.flags |= VHOST_USER_REPLY;
	expect_ok(m, 0, BREPL);
	m = mk(VHOST_USER_GET_CONFIG, VHOST_USER_REPLY, 0); /* backend's "failed" */
	expect_ok(m, 0, BREPL);
	/* log with LOG_SHMFD */
	m = mk(VHOST_USER_SET_LOG_BASE, 0, sizeof(struct vhost_user_log));
	m.payload.log.mmap_size = 4096;
	expect_ok(m, 1, FREQ);
	/* memory hotplug */
	m = mk(VHOST_USER_ADD_MEM_REG, 0, sizeof(struct vhost_user_mem_reg));
	m.payload.mem_reg.region.memory_size = MiB;
	m.payload.mem_reg.region.userspace_addr = 0x10000;
	expect_ok(m, 1, FREQ);
	m.hdr.request = VHOST_USER_REM_MEM_REG;
	expect_ok(m, 0, FREQ);
	expect_ok(m, 1, FREQ); /* tolerated, and then closed by the backend */
	/* backend channel */
	m = mk(VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, VHOST_USER_NEED_REPLY, 0);
	expect_ok(m, 0, BREQ);
	m = mk_u64(VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, VHOST_USER_REPLY, 0);
	expect_ok(m, 0, FREPL);
	m = mk(VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG, 0, sizeof(struct vhost_user_vring_area));
	m.payload.area.u64 = 1;
	m.payload.area.size = 4096;
	expect_ok(m, 1, BREQ);
	m.payload.area.u64 = 1 | VHOST_USER_VRING_NOFD;
	expect_ok(m, 0, BREQ);
	m = mk_state(VHOST_USER_BACKEND_VRING_CALL, 0, 1, 0);
	expect_ok(m, 0, BREQ);
	m = mk(VHOST_USER_IOTLB_MSG, 0, sizeof(struct vhost_user_iotlb));
	m.payload.iotlb.type = VHOST_USER_IOTLB_UPDATE;
	m.payload.iotlb.perm = VHOST_USER_IOTLB_PERM_RW;
	m.payload.iotlb.size = 4096;
	expect_ok(m, 0, FREQ);
}

/* ---- header ---- */

static void test_short_and_lying_sizes(void **state)
{
	struct vhost_user_msg m = mk_u64(VHOST_USER_SET_FEATURES, 0, 1);

	(void)state;
	expect_bad_bytes(m, 0, 0, FREQ, "short message");
	expect_bad_bytes(m, 11, 0, FREQ, "short message");
	/* the header claims 8 payload bytes; fewer or more arrived */
	expect_bad_bytes(m, 12, 0, FREQ, "header says 8");
	expect_bad_bytes(m, 19, 0, FREQ, "header says 8");
	expect_bad_bytes(m, 21, 0, FREQ, "header says 8");
	/* the size agrees with the bytes but not with the request */
	m.hdr.size = 4;
	expect_bad(m, 0, FREQ, "payload is 4 bytes, want 8");
	m.hdr.size = 16;
	expect_bad(m, 0, FREQ, "payload is 16 bytes, want 8");
	m = mk(VHOST_USER_SET_OWNER, 0, 8);
	expect_bad(m, 0, FREQ, "want 0");
	m = mk(VHOST_USER_SET_VRING_ADDR, 0, 32);
	expect_bad(m, 0, FREQ, "want 40");
	/* bigger than any payload */
	m.hdr.size = VHOST_USER_PAYLOAD_MAX + 1;
	expect_bad(m, 0, FREQ, "exceeds");
	m.hdr.size = UINT32_MAX;
	expect_bad_bytes(m, 12 + 8, 0, FREQ, "exceeds");
}

static void test_unknown_and_unsupported(void **state)
{
	struct vhost_user_msg m;

	(void)state;
	m = mk(0, 0, 0);
	expect_bad(m, 0, FREQ, "unknown frontend request 0");
	m = mk(VHOST_USER_REQUEST_MAX, 0, 0);
	expect_bad(m, 0, FREQ, "unknown frontend request");
	m = mk(0xdeadbeef, 0, 0);
	expect_bad(m, 0, FREQ, "unknown frontend request");
	m = mk(VHOST_USER_BACKEND_REQUEST_MAX, 0, 0);
	expect_bad(m, 0, BREQ, "unknown backend request");
	m = mk(VHOST_USER_POSTCOPY_ADVISE, 0, 0);
	expect_bad(m, 0, FREQ, "unsupported request POSTCOPY_ADVISE");
	m = mk(VHOST_USER_GPU_SET_SOCKET, 0, 0);
	expect_bad(m, 1, FREQ, "unsupported");
	m = mk(VHOST_USER_BACKEND_SHARED_OBJECT_ADD, 0, 0);
	expect_bad(m, 0, BREQ, "unsupported");
}

static void test_flags_and_direction(void **state)
{
	struct vhost_user_msg m;

	(void)state;
	m = mk(VHOST_USER_SET_OWNER, 0, 0);
	m.hdr.flags = 0;
	expect_bad(m, 0, FREQ, "protocol version 0");
	m.hdr.flags = 2;
	expect_bad(m, 0, FREQ, "protocol version 2");
	m.hdr.flags = VHOST_USER_VERSION | 0x10;
	expect_bad(m, 0, FREQ, "unknown header flags");
	/* a "reply" arriving where requests come, and the reverse */
	m = mk(VHOST_USER_SET_OWNER, VHOST_USER_REPLY, 0);
	expect_bad(m, 0, FREQ, "REPLY flag on a request");
	m = mk(VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, VHOST_USER_REPLY, 0);
	expect_bad(m, 0, BREQ, "REPLY flag on a request");
	m = mk_u64(VHOST_USER_GET_FEATURES, 0, 1);
	expect_bad(m, 0, BREPL, "without the REPLY flag");
	m = mk_u64(VHOST_USER_GET_FEATURES, VHOST_USER_REPLY | VHOST_USER_NEED_REPLY, 1);
	expect_bad(m, 0, BREPL, "NEED_REPLY flag on a reply");
	/* a reply must carry the reply's payload, not the request's */
	m = mk(VHOST_USER_GET_FEATURES, VHOST_USER_REPLY, 0);
	expect_bad(m, 0, BREPL, "want 8");
	m = mk_mem1();
	m.hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY;
	expect_bad(m, 1, BREPL, "want 8");
	/* backend-channel codes mean other things on the main socket */
	m = mk_state(VHOST_USER_BACKEND_VRING_CALL, 0, 0, 0);
	expect_bad(m, 0, FREQ, "want 0"); /* 4 = RESET_OWNER there */
}

/* ---- fds ---- */

static void test_fd_counts(void **state)
{
	struct vhost_user_msg m;

	(void)state;
	m = mk_u64(VHOST_USER_SET_FEATURES, 0, 1);
	expect_bad(m, 1, FREQ, "1 fds attached, want 0");
	m = mk(VHOST_USER_GET_FEATURES, 0, 0);
	expect_bad(m, 2, FREQ, "2 fds attached, want 0");
	m = mk_u64(VHOST_USER_GET_FEATURES, VHOST_USER_REPLY, 1);
	expect_bad(m, 1, BREPL, "1 fds attached, want 0");
	/* missing */
	m = mk_u64(VHOST_USER_SET_VRING_KICK, 0, 0);
	expect_bad(m, 0, FREQ, "0 fds attached, want 1");
	m = mk_u64(VHOST_USER_SET_VRING_CALL, 0, 1 | VHOST_USER_VRING_NOFD);
	expect_bad(m, 1, FREQ, "1 fds attached, want 0");
	m = mk(VHOST_USER_SET_BACKEND_REQ_FD, 0, 0);
	expect_bad(m, 0, FREQ, "want 1");
	m = mk(VHOST_USER_SET_LOG_FD, 0, 0);
	expect_bad(m, 2, FREQ, "want 1");
	m = mk(VHOST_USER_GET_INFLIGHT_FD, VHOST_USER_REPLY, sizeof(struct vhost_user_inflight));
	m.payload.inflight.num_queues = 1;
	m.payload.inflight.queue_size = 256;
	m.payload.inflight.mmap_size = 1 << 20;
	expect_bad(m, 0, BREPL, "want 1");
	/* one per region */
	m = mk_mem1();
	expect_bad(m, 0, FREQ, "0 fds attached, want 1");
	expect_bad(m, 2, FREQ, "2 fds attached, want 1");
	/* too many for any message */
	m = mk_mem1();
	expect_bad(m, VHOST_USER_MAX_FDS + 1, FREQ, "at most 8");
	m = mk(VHOST_USER_REM_MEM_REG, 0, sizeof(struct vhost_user_mem_reg));
	m.payload.mem_reg.region.memory_size = 4096;
	expect_bad(m, 2, FREQ, "at most 1");
}

/* ---- memory table ---- */

static void test_region_counts(void **state)
{
	struct vhost_user_msg m = mk_mem1();

	(void)state;
	set_regions(&m, 0);
	expect_bad(m, 0, FREQ, "0 regions");
	m.hdr.size = 8 + 32 * 9; /* does not even fit a message */
	m.payload.memory.nregions = 9;
	expect_bad(m, 8, FREQ, "exceeds");
	m.hdr.size = 8 + 32 * 8;
	expect_bad(m, 8, FREQ, "9 regions");
	m.payload.memory.nregions = UINT32_MAX;
	expect_bad(m, 8, FREQ, "regions");
	/* nregions lying about the payload */
	m = mk_mem1();
	m.payload.memory.nregions = 2;
	expect_bad(m, 2, FREQ, "want 72");
	m = mk(VHOST_USER_SET_MEM_TABLE, 0, 4);
	expect_bad(m, 0, FREQ, "too short");
	/* 8 disjoint regions is the most */
	m = mk(VHOST_USER_SET_MEM_TABLE, 0, 0);
	set_regions(&m, 8);
	for (unsigned i = 0; i < 8; i++)
		m.payload.memory.regions[i] =
		    (struct vhost_user_mem_region){.guest_phys_addr = i * GiB,
						   .memory_size = GiB,
						   .userspace_addr = (i + 1) * GiB};
	expect_ok(m, 8, FREQ);
}

static void test_region_overlap_overflow(void **state)
{
	struct vhost_user_msg m = mk_mem1();
	struct vhost_user_mem_region *r = m.payload.memory.regions;

	(void)state;
	set_regions(&m, 2);
	r[0] = (struct vhost_user_mem_region){0, 2 * GiB, 0x7f0000000000ULL, 0};
	/* adjacent in both spaces: fine */
	r[1] = (struct vhost_user_mem_region){2 * GiB, GiB, 0x7f0000000000ULL + 2 * GiB, 0};
	expect_ok(m, 2, FREQ);
	/* one byte of guest-physical overlap */
	r[1].guest_phys_addr = 2 * GiB - 1;
	expect_bad(m, 2, FREQ, "overlap in guest-physical space");
	/* contained entirely */
	r[1].guest_phys_addr = GiB;
	r[1].memory_size = 4096;
	expect_bad(m, 2, FREQ, "overlap in guest-physical space");
	/* user-space overlap with disjoint guest ranges */
	r[1] = (struct vhost_user_mem_region){4 * GiB, GiB, 0x7f0000000000ULL + GiB, 0};
	expect_bad(m, 2, FREQ, "overlap in user space");
	/* the later region below the earlier one */
	r[1] = (struct vhost_user_mem_region){4 * GiB, GiB, 0x7f0000000000ULL - 4096, 0};
	expect_bad(m, 2, FREQ, "overlap in user space");

	set_regions(&m, 1);
	r[0] = (struct vhost_user_mem_region){0, 0, 0x1000, 0};
	expect_bad(m, 1, FREQ, "size 0");
	r[0] = (struct vhost_user_mem_region){UINT64_MAX - 4095, 4096, 0x1000, 0};
	expect_bad(m, 1, FREQ, "guest range");
	r[0] = (struct vhost_user_mem_region){0, 2 * 4096, UINT64_MAX - 4095, 0};
	expect_bad(m, 1, FREQ, "user range");
	r[0] = (struct vhost_user_mem_region){0, 4096, 0x1000, UINT64_MAX - 100};
	expect_bad(m, 1, FREQ, "mmap range");
	r[0] = (struct vhost_user_mem_region){0, 4096, 0x1000, (uint64_t)INT64_MAX};
	expect_bad(m, 1, FREQ, "mmap range"); /* past any off_t */
	/* a region is checked the same way when it comes alone */
	m = mk(VHOST_USER_ADD_MEM_REG, 0, sizeof(struct vhost_user_mem_reg));
	m.payload.mem_reg.region = (struct vhost_user_mem_region){UINT64_MAX, 1, 0, 0};
	expect_bad(m, 1, FREQ, "overflows");
	m.payload.mem_reg.region = (struct vhost_user_mem_region){0, 0, 0, 0};
	expect_bad(m, 1, FREQ, "size 0");
}

/* ---- vrings ---- */

static void test_vring_index_and_num(void **state)
{
	struct vhost_user_msg m;

	(void)state;
	m = mk_state(VHOST_USER_SET_VRING_NUM, 0, MAX_VRINGS - 1, 32768);
	expect_ok(m, 0, FREQ);
	m = mk_state(VHOST_USER_SET_VRING_NUM, 0, MAX_VRINGS, 256);
	expect_bad(m, 0, FREQ, "vring index 4 out of range");
	m = mk_state(VHOST_USER_SET_VRING_NUM, 0, UINT32_MAX, 256);
	expect_bad(m, 0, FREQ, "out of range");
	static const uint32_t bad_num[] = {0, 3, 255, 257, 65536, 0x80000000u, UINT32_MAX};
	for (size_t i = 0; i < ARRAY_SIZE(bad_num); i++) {
		m = mk_state(VHOST_USER_SET_VRING_NUM, 0, 0, bad_num[i]);
		expect_bad(m, 0, FREQ, "power of two");
	}
	m = mk_state(VHOST_USER_SET_VRING_BASE, 0, 0, 0x10000);
	expect_bad(m, 0, FREQ, "16 bits");
	m = mk_state(VHOST_USER_GET_VRING_BASE, VHOST_USER_REPLY, 0, 0x10000);
	expect_bad(m, 0, BREPL, "16 bits");
	m = mk_state(VHOST_USER_GET_VRING_BASE, VHOST_USER_REPLY, 9, 0);
	expect_bad(m, 0, BREPL, "out of range");
	m = mk_state(VHOST_USER_SET_VRING_ENABLE, 0, 0, 2);
	expect_bad(m, 0, FREQ, "not 0 or 1");
	m = mk_state(VHOST_USER_VRING_KICK, 0, 0, 1);
	expect_bad(m, 0, FREQ, "reserved");
	m = mk_state(VHOST_USER_BACKEND_VRING_CALL, 0, 0, 1);
	expect_bad(m, 0, BREQ, "reserved");
	m = mk_state(VHOST_USER_BACKEND_VRING_ERR, 0, 7, 0);
	expect_bad(m, 0, BREQ, "out of range");
	/* kick/call/err: index in the low byte, NOFD, nothing else */
	m = mk_u64(VHOST_USER_SET_VRING_CALL, 0, MAX_VRINGS);
	expect_bad(m, 1, FREQ, "out of range");
	m = mk_u64(VHOST_USER_SET_VRING_ERR, 0, 1ULL << 9);
	expect_bad(m, 1, FREQ, "unknown bits");
	m = mk_u64(VHOST_USER_SET_VRING_KICK, 0, 0x100000000ULL);
	expect_bad(m, 1, FREQ, "unknown bits");
	m = mk(VHOST_USER_SET_VRING_ADDR, 0, sizeof(struct vhost_user_vring_addr));
	m.payload.addr.index = MAX_VRINGS;
	expect_bad(m, 0, FREQ, "out of range");
	m.payload.addr.index = 0;
	m.payload.addr.flags = 2;
	expect_bad(m, 0, FREQ, "unknown address flags");
	m.payload.addr.flags = VHOST_VRING_F_LOG;
	expect_ok(m, 0, FREQ);
}

static void test_vring_addr_in_regions(void **state)
{
	struct vhost_user_msg mm = mk_mem1();
	struct vhost_user_memory *mem = &mm.payload.memory;
	const uint64_t base = 0x7f0000000000ULL;
	struct vhost_user_vring_addr a = {0};
	char why[160];
	const unsigned num = 256;

	(void)state;
	/* two regions that are adjacent in user space */
	set_regions(&mm, 2);
	mem->regions[1] = (struct vhost_user_mem_region){
	    .guest_phys_addr = 4 * GiB, .memory_size = GiB, .userspace_addr = base + GiB};
	assert_int_equal(vhost_user_mem_table_check(mem, why, sizeof(why)), 0);

	a.desc_user_addr = base;
	a.avail_user_addr = base + vhost_user_split_desc_size(num);
	a.used_user_addr = ALIGN_UP(a.avail_user_addr + vhost_user_split_avail_size(num, true), 4);
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, num, true, why, sizeof(why)), 0);

	/* used ring ending exactly at the region's end: inside */
	a.used_user_addr = base + GiB - vhost_user_split_used_size(num, false);
	a.used_user_addr &= ~3ULL;
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, num, false, why, sizeof(why)), 0);
	/* one entry more and it straddles into region 1: refused even though
	 * the two are adjacent in the frontend's address space */
	a.used_user_addr = base + GiB - 8 * num;
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, num, false, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "used ring"));
	/* the same ring fits if the queue is smaller */
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, num / 2, false, why, sizeof(why)), 0);
	a.used_user_addr = base + 8192;

	/* entirely outside every region */
	a.desc_user_addr = 0x1000;
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, num, false, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "descriptor table"));
	/* past the end of the last region */
	a.desc_user_addr = base + 2 * GiB;
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, num, false, why, sizeof(why)),
			 -EINVAL);
	/* starting inside, wrapping the address space */
	a.desc_user_addr = UINT64_MAX & ~15ULL;
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, num, false, why, sizeof(why)),
			 -EINVAL);
	a.desc_user_addr = base;
	/* avail ring straddling the end of region 1 */
	a.avail_user_addr = base + 2 * GiB - 2;
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, num, false, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "available ring"));
	a.avail_user_addr = base + 4096;
	/* misaligned */
	a.desc_user_addr = base + 8;
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, num, false, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "aligned"));
	a.desc_user_addr = base;
	a.used_user_addr = base + 8194;
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, num, false, why, sizeof(why)),
			 -EINVAL);
	a.used_user_addr = base + 8192;
	/* queue size not a power of two */
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, 100, false, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, 0, false, why, sizeof(why)), -EINVAL);
	assert_int_equal(vhost_user_vring_addr_check(mem, &a, num, false, why, sizeof(why)), 0);

	/* lookups by guest address */
	assert_int_equal(vhost_user_mem_find_guest(mem, 4 * GiB + 100, 100), 1);
	assert_int_equal(vhost_user_mem_find_guest(mem, GiB - 1, 2), -1);
	assert_int_equal(vhost_user_mem_find_guest(mem, 2 * GiB, 1), -1);
	assert_int_equal(vhost_user_mem_find_guest(mem, 0, 0), -1);
}

/* ---- other payloads ---- */

static void test_log_inflight_config_iotlb(void **state)
{
	struct vhost_user_msg m;

	(void)state;
	m = mk(VHOST_USER_SET_LOG_BASE, 0, sizeof(struct vhost_user_log));
	expect_bad(m, 1, FREQ, "log: mmap size is 0");
	m.payload.log.mmap_size = 4096;
	m.payload.log.mmap_offset = UINT64_MAX - 10;
	expect_bad(m, 1, FREQ, "overflows");
	m = mk_u64(VHOST_USER_SET_LOG_BASE, 0, 0x1000); /* the legacy fd-less form */
	expect_bad(m, 0, FREQ, "want 16");

	m = mk(VHOST_USER_SET_INFLIGHT_FD, 0, sizeof(struct vhost_user_inflight));
	m.payload.inflight.num_queues = 2;
	m.payload.inflight.queue_size = 256;
	m.payload.inflight.mmap_size = vhost_user_inflight_split_size(2, 256) - 1;
	expect_bad(m, 1, FREQ, "too small");
	m.payload.inflight.mmap_size = 0;
	expect_bad(m, 1, FREQ, "mmap size is 0");
	m.payload.inflight.mmap_size = 1 << 20;
	m.payload.inflight.mmap_offset = INT64_MAX;
	expect_bad(m, 1, FREQ, "overflows");
	m.payload.inflight.mmap_offset = 0;
	m.payload.inflight.num_queues = 0;
	expect_bad(m, 1, FREQ, "0 queues");
	m.payload.inflight.num_queues = MAX_VRINGS + 1;
	expect_bad(m, 1, FREQ, "queues");
	m.payload.inflight.num_queues = 1;
	m.payload.inflight.queue_size = 100;
	expect_bad(m, 1, FREQ, "power of two");
	m.hdr.size = 20; /* the unpadded struct */
	expect_bad(m, 1, FREQ, "want 24");
	assert_int_equal(vhost_user_inflight_split_size(1, 256), 16 + 16 * 256 + 48);
	assert_int_equal(vhost_user_inflight_split_size(3, 1), 3 * 64);

	m = mk(VHOST_USER_SET_CONFIG, 0, 12 + 300);
	expect_bad(m, 0, FREQ, "exceeds");
	m = mk(VHOST_USER_SET_CONFIG, 0, 12 + 8);
	m.payload.config.size = 300;
	expect_bad(m, 0, FREQ, "config size 300");
	m.payload.config.size = 16;
	expect_bad(m, 0, FREQ, "want 28");
	m.payload.config.size = 8;
	m.payload.config.offset = 250;
	expect_bad(m, 0, FREQ, "beyond");
	m.payload.config.offset = UINT32_MAX;
	expect_bad(m, 0, FREQ, "beyond");
	m.payload.config.offset = 0;
	m.payload.config.flags = 7;
	expect_bad(m, 0, FREQ, "unknown flags");
	m.payload.config.flags = VHOST_USER_CONFIG_MIGRATION;
	expect_ok(m, 0, FREQ);

	m = mk(VHOST_USER_IOTLB_MSG, 0, sizeof(struct vhost_user_iotlb));
	m.payload.iotlb.type = 9;
	expect_bad(m, 0, FREQ, "unknown type");
	m.payload.iotlb.type = VHOST_USER_IOTLB_UPDATE;
	m.payload.iotlb.perm = 4;
	expect_bad(m, 0, FREQ, "unknown permission");
	m.payload.iotlb.perm = 1;
	m.payload.iotlb.iova = UINT64_MAX;
	m.payload.iotlb.size = 2;
	expect_bad(m, 0, FREQ, "overflows");

	m = mk_u64(VHOST_USER_SET_STATUS, 0, 0x100);
	expect_bad(m, 0, FREQ, "8 bits");
	m = mk_u64(VHOST_USER_NET_SET_MTU, 0, 10);
	expect_bad(m, 0, FREQ, "MTU");
	m = mk(VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG, 0, sizeof(struct vhost_user_vring_area));
	m.payload.area.u64 = 0;
	expect_bad(m, 1, BREQ, "empty or overflows");
	m.payload.area.u64 = MAX_VRINGS;
	expect_bad(m, 1, BREQ, "out of range");
}

static void test_request_names(void **state)
{
	(void)state;
	assert_string_equal(vhost_user_request_name(FREQ, VHOST_USER_SET_MEM_TABLE),
			    "SET_MEM_TABLE");
	assert_string_equal(vhost_user_request_name(BREPL, VHOST_USER_GET_VRING_BASE),
			    "GET_VRING_BASE");
	assert_string_equal(vhost_user_request_name(BREQ, VHOST_USER_BACKEND_VRING_CALL),
			    "VRING_CALL");
	assert_string_equal(vhost_user_request_name(FREQ, 1000), "unknown");
	assert_string_equal(vhost_user_request_name(FREQ, 0), "unknown");
}

/* ---- the socket layer ---- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

struct pair {
	int tx;
	struct vhost_user_conn rx;
};

static void pair_open(struct pair *p, enum vhost_user_kind kind, bool nonblock)
{
	int sv[2];

	assert_int_equal(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0, sv),
	    0);
	p->tx = sv[0];
	vhost_user_conn_init(&p->rx, sv[1], kind, MAX_VRINGS, "test");
}

static void pair_close(struct pair *p)
{
	if (p->tx >= 0)
		close(p->tx);
	vhost_user_conn_close(&p->rx);
}

/* Send raw bytes with fds (so tests can build what vhost_user_send refuses). */
static void raw_send(int fd, const void *buf, size_t len, const int *fds, unsigned nr)
{
	char ctl[CMSG_SPACE(sizeof(int) * 16)];
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;

	assert_true(nr <= 16);
	memset(ctl, 0, sizeof(ctl));
	if (nr) {
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nr);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr);
	}
	assert_int_equal(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* Header and payload as they go on the wire. */
static size_t wire(const struct vhost_user_msg *m, uint8_t *buf)
{
	memcpy(buf, &m->hdr, VHOST_USER_HDR_SIZE);
	memcpy(buf + VHOST_USER_HDR_SIZE, m->payload.raw, m->hdr.size);
	return VHOST_USER_HDR_SIZE + m->hdr.size;
}

static void test_sock_real_fds(void **state)
{
	struct vhost_user_msg m, got;
	int fds[VHOST_USER_MAX_FDS], send_fds[2];
	unsigned nr;
	struct pair p;
	struct stat a, b;
	uint64_t v = 0;
	char buf[6] = {0};
	int memfd, efd;

	(void)state;
	pair_open(&p, FREQ, false);

	/* SET_MEM_TABLE with two memfd regions */
	memfd = memfd_create("vu-test", MFD_CLOEXEC);
	assert_true(memfd >= 0);
	assert_int_equal(ftruncate(memfd, 2 * 4096), 0);
	assert_int_equal(pwrite(memfd, "sluice", 6, 4096), 6);
	m = mk(VHOST_USER_SET_MEM_TABLE, VHOST_USER_NEED_REPLY, 0);
	set_regions(&m, 2);
	m.payload.memory.regions[0] = (struct vhost_user_mem_region){0, 4096, 0x10000, 0};
	m.payload.memory.regions[1] = (struct vhost_user_mem_region){4096, 4096, 0x20000, 4096};
	send_fds[0] = send_fds[1] = memfd;
	assert_int_equal(vhost_user_send(p.tx, &m, send_fds, 2), 0);
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(got.hdr.request, VHOST_USER_SET_MEM_TABLE);
	assert_int_equal(got.hdr.size, 8 + 2 * 32);
	assert_memory_equal(&got.payload.memory, &m.payload.memory, got.hdr.size);
	/* the same file arrived, as new descriptors, close-on-exec */
	assert_int_equal(fstat(memfd, &a), 0);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_not_equal(fds[i], memfd);
		assert_int_equal(fstat(fds[i], &b), 0);
		assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
		assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
	}
	assert_int_equal(pread(fds[1], buf, 6, got.payload.memory.regions[1].mmap_offset), 6);
	assert_memory_equal(buf, "sluice", 6);
	vhost_user_close_fds(fds, nr);
	close(memfd);

	/* SET_VRING_KICK with an eventfd: a kick on ours is seen on theirs */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(efd >= 0);
	m = mk_u64(VHOST_USER_SET_VRING_KICK, 0, 1);
	assert_int_equal(vhost_user_send(p.tx, &m, &efd, 1), 0);
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), 0);
	assert_int_equal(nr, 1);
	assert_int_equal(got.payload.u64, 1);
	v = 5;
	assert_int_equal(write(efd, &v, 8), 8);
	v = 0;
	assert_int_equal(read(fds[0], &v, 8), 8);
	assert_int_equal(v, 5);
	close(fds[0]);
	close(efd);

	/* a message without fds, then EOF between messages */
	m = mk(VHOST_USER_GET_FEATURES, 0, 0);
	assert_int_equal(vhost_user_send(p.tx, &m, NULL, 0), 0);
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), 0);
	assert_int_equal(nr, 0);
	assert_int_equal(got.hdr.request, VHOST_USER_GET_FEATURES);
	close(p.tx);
	p.tx = -1;
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), -ECONNRESET);
	pair_close(&p);
}

static void test_sock_bad_message_closes_fds(void **state)
{
	struct vhost_user_msg m, got;
	int fds[VHOST_USER_MAX_FDS], sent[2];
	uint8_t buf[VHOST_USER_MSG_WIRE_MAX];
	unsigned nr;
	struct pair p;
	int before;

	(void)state;
	pair_open(&p, FREQ, false);
	before = count_fds();

	/* fds on a request that takes none */
	sent[0] = memfd_create("vu-bad", MFD_CLOEXEC);
	sent[1] = eventfd(0, EFD_CLOEXEC);
	m = mk_u64(VHOST_USER_SET_FEATURES, 0, 1);
	assert_int_equal(vhost_user_send(p.tx, &m, sent, 2), 0);
	close(sent[0]);
	close(sent[1]);
	assert_int_equal(count_fds(), before);
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), -EPROTO);
	assert_int_equal(nr, 0);
	assert_int_equal(count_fds(), before);
	pair_close(&p);

	/* a memory table with overlapping regions, its fds closed too */
	pair_open(&p, FREQ, false);
	before = count_fds();
	sent[0] = memfd_create("vu-bad", MFD_CLOEXEC);
	m = mk(VHOST_USER_SET_MEM_TABLE, 0, 0);
	set_regions(&m, 2);
	m.payload.memory.regions[0] = (struct vhost_user_mem_region){0, 8192, 0x10000, 0};
	m.payload.memory.regions[1] = (struct vhost_user_mem_region){4096, 4096, 0x90000, 0};
	sent[1] = sent[0];
	assert_int_equal(vhost_user_send(p.tx, &m, sent, 2), 0);
	close(sent[0]);
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), -EPROTO);
	assert_int_equal(count_fds(), before);
	pair_close(&p);

	/* more fds than any message may carry: MSG_CTRUNC */
	pair_open(&p, FREQ, false);
	before = count_fds();
	{
		int many[12];

		for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
			many[i] = eventfd(0, EFD_CLOEXEC);
		m = mk_u64(VHOST_USER_SET_VRING_CALL, 0, 0);
		raw_send(p.tx, buf, wire(&m, buf), many, ARRAY_SIZE(many));
		for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
			close(many[i]);
	}
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), -EPROTO);
	assert_int_equal(count_fds(), before);
	pair_close(&p);

	/* the peer hangs up inside a message that brought an fd */
	pair_open(&p, FREQ, false);
	before = count_fds();
	sent[0] = eventfd(0, EFD_CLOEXEC);
	m = mk_u64(VHOST_USER_SET_VRING_CALL, 0, 0);
	raw_send(p.tx, buf, wire(&m, buf) - 3, sent, 1);
	close(sent[0]);
	close(p.tx);
	p.tx = -1;
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), -EPROTO);
	assert_int_equal(count_fds(), before - 1); /* p.tx is gone too */
	pair_close(&p);

	/* a header announcing a payload larger than any: rejected at once */
	pair_open(&p, FREQ, false);
	m = mk(VHOST_USER_SET_CONFIG, 0, 0);
	m.hdr.size = 100000;
	raw_send(p.tx, &m.hdr, VHOST_USER_HDR_SIZE, NULL, 0);
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), -EPROTO);
	pair_close(&p);
}

static void test_sock_nonblocking_partial(void **state)
{
	struct vhost_user_msg m, got;
	uint8_t buf[VHOST_USER_MSG_WIRE_MAX];
	int fds[VHOST_USER_MAX_FDS], efd;
	struct pair p;
	unsigned nr;
	size_t len;

	(void)state;
	pair_open(&p, FREQ, true);
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), -EAGAIN);

	/* header in two pieces (the fd with the first), payload in two more */
	efd = eventfd(0, EFD_CLOEXEC);
	m = mk_u64(VHOST_USER_SET_VRING_CALL, 0, 2);
	len = wire(&m, buf);
	raw_send(p.tx, buf, 5, &efd, 1);
	close(efd);
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), -EAGAIN);
	raw_send(p.tx, buf + 5, 7, NULL, 0);
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), -EAGAIN);
	raw_send(p.tx, buf + 12, 3, NULL, 0);
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), -EAGAIN);
	raw_send(p.tx, buf + 15, len - 15, NULL, 0);
	assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), 0);
	assert_int_equal(nr, 1);
	assert_true(fd_is_open(fds[0]));
	assert_int_equal(got.payload.u64, 2);
	close(fds[0]);

	/* two messages back to back, each with its own fd: not mixed up */
	{
		int e1 = eventfd(0, EFD_CLOEXEC), e2 = memfd_create("two", MFD_CLOEXEC);
		struct stat s1, s2, r;
		uint8_t two[2 * VHOST_USER_MSG_WIRE_MAX];
		size_t l1;

		fstat(e1, &s1);
		fstat(e2, &s2);
		m = mk_u64(VHOST_USER_SET_VRING_CALL, 0, 0);
		assert_int_equal(vhost_user_send(p.tx, &m, &e1, 1), 0);
		m = mk_u64(VHOST_USER_SET_VRING_KICK, 0, 0);
		assert_int_equal(vhost_user_send(p.tx, &m, &e2, 1), 0);
		assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), 0);
		assert_int_equal(got.hdr.request, VHOST_USER_SET_VRING_CALL);
		assert_int_equal(nr, 1);
		fstat(fds[0], &r);
		assert_true(r.st_ino == s1.st_ino);
		close(fds[0]);
		assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), 0);
		assert_int_equal(got.hdr.request, VHOST_USER_SET_VRING_KICK);
		assert_int_equal(nr, 1);
		fstat(fds[0], &r);
		assert_true(r.st_ino == s2.st_ino);
		close(fds[0]);
		close(e1);
		close(e2);
		/* and without fds, in one write */
		m = mk(VHOST_USER_GET_FEATURES, 0, 0);
		l1 = wire(&m, two);
		m = mk_u64(VHOST_USER_SET_FEATURES, 0, 7);
		l1 += wire(&m, two + l1);
		raw_send(p.tx, two, l1, NULL, 0);
		assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), 0);
		assert_int_equal(got.hdr.request, VHOST_USER_GET_FEATURES);
		assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), 0);
		assert_int_equal(got.hdr.request, VHOST_USER_SET_FEATURES);
		assert_int_equal(got.payload.u64, 7);
		assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), -EAGAIN);
	}

	/* a non-blocking sender whose peer never reads: -EAGAIN, nothing half sent */
	{
		int rc = 0;
		unsigned sent = 0;

		m = mk_u64(VHOST_USER_SET_FEATURES, 0, 7);
		while (sent < 1000000 && (rc = vhost_user_send(p.tx, &m, NULL, 0)) == 0)
			sent++;
		assert_int_equal(rc, -EAGAIN);
		for (unsigned i = 0; i < sent; i++) {
			assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), 0);
			assert_int_equal(got.payload.u64, 7);
		}
		assert_int_equal(vhost_user_recv(&p.rx, &got, fds, &nr), -EAGAIN);
	}

	/* the sender refuses what it must not send */
	m = mk(VHOST_USER_SET_CONFIG, 0, VHOST_USER_PAYLOAD_MAX + 1);
	assert_int_equal(vhost_user_send(p.tx, &m, NULL, 0), -EINVAL);
	pair_close(&p);
}

static void test_sock_listen_connect(void **state)
{
	char dir[] = "/tmp/vu-test-XXXXXX", path[128], longpath[200];
	struct vhost_user_msg m, got;
	struct vhost_user_conn be;
	int fds[VHOST_USER_MAX_FDS];
	int lfd, cfd, afd, lfd2;
	unsigned nr;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vhost.sock", dir);

	assert_int_equal(vhost_user_connect(path, false), -ENOENT);
	lfd = vhost_user_listen(path, true);
	assert_true(lfd >= 0);
	assert_int_equal(vhost_user_accept(lfd, true), -EAGAIN);
	/* a second server on a live socket is refused; its probe shows up at
	 * the live server as a connection that hangs up at once */
	assert_int_equal(vhost_user_listen(path, false), -EADDRINUSE);
	afd = vhost_user_accept(lfd, false);
	assert_true(afd >= 0);
	vhost_user_conn_init(&be, afd, FREQ, MAX_VRINGS, path);
	assert_int_equal(vhost_user_recv(&be, &got, fds, &nr), -ECONNRESET);
	vhost_user_conn_close(&be);

	cfd = vhost_user_connect(path, true);
	assert_true(cfd >= 0);
	assert_true(fcntl(cfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(cfd, F_GETFD) & FD_CLOEXEC);
	afd = vhost_user_accept(lfd, false);
	assert_true(afd >= 0);
	vhost_user_conn_init(&be, afd, FREQ, MAX_VRINGS, path);
	m = mk(VHOST_USER_SET_OWNER, 0, 0);
	assert_int_equal(vhost_user_send(cfd, &m, NULL, 0), 0);
	assert_int_equal(vhost_user_recv(&be, &got, fds, &nr), 0);
	assert_int_equal(got.hdr.request, VHOST_USER_SET_OWNER);
	vhost_user_conn_close(&be);
	close(cfd);

	/* the server dies leaving its socket file: a new one takes it over,
	 * and a client gets ECONNREFUSED in between */
	close(lfd);
	assert_int_equal(vhost_user_connect(path, false), -ECONNREFUSED);
	lfd2 = vhost_user_listen(path, false);
	assert_true(lfd2 >= 0);
	close(lfd2);
	unlink(path);

	/* never replace something that is not a socket */
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(vhost_user_listen(path, false), -EEXIST);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(vhost_user_listen(longpath, false), -ENAMETOOLONG);
	assert_int_equal(vhost_user_connect(longpath, false), -ENAMETOOLONG);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dpdk_session),
	    cmocka_unit_test(test_other_good_messages),
	    cmocka_unit_test(test_short_and_lying_sizes),
	    cmocka_unit_test(test_unknown_and_unsupported),
	    cmocka_unit_test(test_flags_and_direction),
	    cmocka_unit_test(test_fd_counts),
	    cmocka_unit_test(test_region_counts),
	    cmocka_unit_test(test_region_overlap_overflow),
	    cmocka_unit_test(test_vring_index_and_num),
	    cmocka_unit_test(test_vring_addr_in_regions),
	    cmocka_unit_test(test_log_inflight_config_iotlb),
	    cmocka_unit_test(test_request_names),
	    cmocka_unit_test(test_sock_real_fds),
	    cmocka_unit_test(test_sock_bad_message_closes_fds),
	    cmocka_unit_test(test_sock_nonblocking_partial),
	    cmocka_unit_test(test_sock_listen_connect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
