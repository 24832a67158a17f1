/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "util.h"
#include "vhost_user_msg.h"

/* Payload shapes. */
enum vu_payload {
	P_NONE,
	P_U64,
	P_STATE,
	P_ADDR,
	P_MEMORY,
	P_MEM_REG,
	P_LOG,
	P_INFLIGHT,
	P_CONFIG,
	P_IOTLB,
	P_AREA,
};

/* How many fds travel with a message. */
enum vu_fds {
	FD_NONE,
	FD_ONE,
	FD_NOFD_FLAG, /* one unless the u64 payload's NOFD bit says none */
	FD_REGIONS,   /* one per memory region */
	FD_ZERO_OR_ONE,
};

struct vu_req_info {
	const char *name;
	uint8_t supported;
	uint8_t req_payload;
	uint8_t req_fds;
	/* Reply payload when the request has an explicit reply; P_NONE: a
	 * REPLY_ACK u64 is the only reply it can get. */
	uint8_t reply_payload;
	uint8_t reply_fds;
};

#define REQ(code, sup, rp, rf, yp, yf) [VHOST_USER_##code] = {#code, sup, rp, rf, yp, yf}

static const struct vu_req_info frontend_reqs[VHOST_USER_REQUEST_MAX] = {
    REQ(GET_FEATURES, 1, P_NONE, FD_NONE, P_U64, FD_NONE),
    REQ(SET_FEATURES, 1, P_U64, FD_NONE, P_NONE, FD_NONE),
    REQ(SET_OWNER, 1, P_NONE, FD_NONE, P_NONE, FD_NONE),
    REQ(RESET_OWNER, 1, P_NONE, FD_NONE, P_NONE, FD_NONE),
    REQ(SET_MEM_TABLE, 1, P_MEMORY, FD_REGIONS, P_NONE, FD_NONE),
    REQ(SET_LOG_BASE, 1, P_LOG, FD_ONE, P_U64, FD_NONE),
    REQ(SET_LOG_FD, 1, P_NONE, FD_ONE, P_NONE, FD_NONE),
    REQ(SET_VRING_NUM, 1, P_STATE, FD_NONE, P_NONE, FD_NONE),
    REQ(SET_VRING_ADDR, 1, P_ADDR, FD_NONE, P_NONE, FD_NONE),
    REQ(SET_VRING_BASE, 1, P_STATE, FD_NONE, P_NONE, FD_NONE),
    REQ(GET_VRING_BASE, 1, P_STATE, FD_NONE, P_STATE, FD_NONE),
    REQ(SET_VRING_KICK, 1, P_U64, FD_NOFD_FLAG, P_NONE, FD_NONE),
    REQ(SET_VRING_CALL, 1, P_U64, FD_NOFD_FLAG, P_NONE, FD_NONE),
    REQ(SET_VRING_ERR, 1, P_U64, FD_NOFD_FLAG, P_NONE, FD_NONE),
    REQ(GET_PROTOCOL_FEATURES, 1, P_NONE, FD_NONE, P_U64, FD_NONE),
    REQ(SET_PROTOCOL_FEATURES, 1, P_U64, FD_NONE, P_NONE, FD_NONE),
    REQ(GET_QUEUE_NUM, 1, P_NONE, FD_NONE, P_U64, FD_NONE),
    REQ(SET_VRING_ENABLE, 1, P_STATE, FD_NONE, P_NONE, FD_NONE),
    REQ(SEND_RARP, 1, P_U64, FD_NONE, P_NONE, FD_NONE),
    REQ(NET_SET_MTU, 1, P_U64, FD_NONE, P_NONE, FD_NONE),
    REQ(SET_BACKEND_REQ_FD, 1, P_NONE, FD_ONE, P_NONE, FD_NONE),
    REQ(IOTLB_MSG, 1, P_IOTLB, FD_NONE, P_U64, FD_NONE),
    REQ(SET_VRING_ENDIAN, 1, P_STATE, FD_NONE, P_NONE, FD_NONE),
    REQ(GET_CONFIG, 1, P_CONFIG, FD_NONE, P_CONFIG, FD_NONE),
    REQ(SET_CONFIG, 1, P_CONFIG, FD_NONE, P_NONE, FD_NONE),
    /* Known but not spoken by sluice: crypto, postcopy, GPU, device state. */
    REQ(CREATE_CRYPTO_SESSION, 0, P_NONE, FD_NONE, P_NONE, FD_NONE),
    REQ(CLOSE_CRYPTO_SESSION, 0, P_NONE, FD_NONE, P_NONE, FD_NONE),
    REQ(POSTCOPY_ADVISE, 0, P_NONE, FD_NONE, P_NONE, FD_NONE),
    REQ(POSTCOPY_LISTEN, 0, P_NONE, FD_NONE, P_NONE, FD_NONE),
    REQ(POSTCOPY_END, 0, P_NONE, FD_NONE, P_NONE, FD_NONE),
    REQ(GET_INFLIGHT_FD, 1, P_INFLIGHT, FD_NONE, P_INFLIGHT, FD_ONE),
    REQ(SET_INFLIGHT_FD, 1, P_INFLIGHT, FD_ONE, P_NONE, FD_NONE),
    REQ(GPU_SET_SOCKET, 0, P_NONE, FD_NONE, P_NONE, FD_NONE),
    REQ(RESET_DEVICE, 1, P_NONE, FD_NONE, P_NONE, FD_NONE),
    REQ(VRING_KICK, 1, P_STATE, FD_NONE, P_NONE, FD_NONE),
    REQ(GET_MAX_MEM_SLOTS, 1, P_NONE, FD_NONE, P_U64, FD_NONE),
    REQ(ADD_MEM_REG, 1, P_MEM_REG, FD_ONE, P_NONE, FD_NONE),
    /* The spec lets a backend accept (and close) one stray fd here. */
    REQ(REM_MEM_REG, 1, P_MEM_REG, FD_ZERO_OR_ONE, P_NONE, FD_NONE),
    REQ(SET_STATUS, 1, P_U64, FD_NONE, P_NONE, FD_NONE),
    REQ(GET_STATUS, 1, P_NONE, FD_NONE, P_U64, FD_NONE),
    REQ(GET_SHARED_OBJECT, 0, P_NONE, FD_NONE, P_NONE, FD_NONE),
    REQ(SET_DEVICE_STATE_FD, 0, P_NONE, FD_NONE, P_NONE, FD_NONE),
    REQ(CHECK_DEVICE_STATE, 0, P_NONE, FD_NONE, P_NONE, FD_NONE),
};

#define BREQ(code, sup, rp, rf) [VHOST_USER_BACKEND_##code] = {#code, sup, rp, rf, P_NONE, FD_NONE}

static const struct vu_req_info backend_reqs[VHOST_USER_BACKEND_REQUEST_MAX] = {
    BREQ(IOTLB_MSG, 1, P_IOTLB, FD_NONE),
    BREQ(CONFIG_CHANGE_MSG, 1, P_NONE, FD_NONE),
    BREQ(VRING_HOST_NOTIFIER_MSG, 1, P_AREA, FD_NOFD_FLAG),
    BREQ(VRING_CALL, 1, P_STATE, FD_NONE),
    BREQ(VRING_ERR, 1, P_STATE, FD_NONE),
    BREQ(SHARED_OBJECT_ADD, 0, P_NONE, FD_NONE),
    BREQ(SHARED_OBJECT_REMOVE, 0, P_NONE, FD_NONE),
    BREQ(SHARED_OBJECT_LOOKUP, 0, P_NONE, FD_NONE),
};

__attribute__((format(printf, 3, 4))) static int reject(char *why, size_t whylen, const char *fmt,
							...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool main_channel(enum vhost_user_kind kind)
{
	return kind == VHOST_USER_FRONTEND_REQUEST || kind == VHOST_USER_BACKEND_REPLY;
}

static const struct vu_req_info *req_info(enum vhost_user_kind kind, uint32_t request)
{
	const struct vu_req_info *t = main_channel(kind) ? frontend_reqs : backend_reqs;
	size_t n = main_channel(kind) ? ARRAY_SIZE(frontend_reqs) : ARRAY_SIZE(backend_reqs);

	if (request >= n || !t[request].name)
		return NULL;
	return &t[request];
}

const char *vhost_user_request_name(enum vhost_user_kind kind, uint32_t request)
{
	const struct vu_req_info *info = req_info(kind, request);

	return info ? info->name : "unknown";
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* [a, a + alen) and [b, b + blen) intersect; both ends are known not to wrap. */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int region_check(const struct vhost_user_mem_region *r, unsigned i, char *why, size_t whylen)
{
	uint64_t end;

	if (r->memory_size == 0)
		return reject(why, whylen, "region %u has size 0", i);
	/* The end is exclusive; a range ending exactly at 2^64 is refused too,
	 * which costs nothing real and keeps every `end` representable. */
	if (add_overflows_u64(r->guest_phys_addr, r->memory_size, &end))
		return reject(why, whylen, "region %u guest range 0x%llx+0x%llx overflows", i,
			      (unsigned long long)r->guest_phys_addr,
			      (unsigned long long)r->memory_size);
	if (add_overflows_u64(r->userspace_addr, r->memory_size, &end))
		return reject(why, whylen, "region %u user range 0x%llx+0x%llx overflows", i,
			      (unsigned long long)r->userspace_addr,
			      (unsigned long long)r->memory_size);
	if (add_overflows_u64(r->mmap_offset, r->memory_size, &end) || end > (uint64_t)INT64_MAX)
		return reject(why, whylen, "region %u mmap range 0x%llx+0x%llx overflows", i,
			      (unsigned long long)r->mmap_offset,
			      (unsigned long long)r->memory_size);
	return 0;
}

int vhost_user_mem_table_check(const struct vhost_user_memory *mem, char *why, size_t whylen)
{
	const struct vhost_user_mem_region *a, *b;
	int rc;

	if (mem->nregions == 0 || mem->nregions > VHOST_USER_MAX_REGIONS)
		return reject(why, whylen, "memory table has %u regions (1..%u)", mem->nregions,
			      VHOST_USER_MAX_REGIONS);
	for (unsigned i = 0; i < mem->nregions; i++) {
		rc = region_check(&mem->regions[i], i, why, whylen);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < mem->nregions; i++) {
		a = &mem->regions[i];
		for (unsigned j = i + 1; j < mem->nregions; j++) {
			b = &mem->regions[j];
			if (ranges_overlap(a->guest_phys_addr, a->memory_size, b->guest_phys_addr,
					   b->memory_size))
				return reject(why, whylen,
					      "regions %u and %u overlap in guest-physical space",
					      i, j);
			if (ranges_overlap(a->userspace_addr, a->memory_size, b->userspace_addr,
					   b->memory_size))
				return reject(why, whylen,
					      "regions %u and %u overlap in user space", i, j);
		}
	}
	return 0;
}

static int find_range(const struct vhost_user_memory *mem, uint64_t addr, uint64_t len, bool user)
{
	const struct vhost_user_mem_region *r;
	uint64_t base, end;

	if (len == 0 || add_overflows_u64(addr, len, &end))
		return -1;
	for (unsigned i = 0; i < mem->nregions && i < VHOST_USER_MAX_REGIONS; i++) {
		r = &mem->regions[i];
		base = user ? r->userspace_addr : r->guest_phys_addr;
		/* region_check guaranteed base + size does not wrap */
		if (addr >= base && end <= base + r->memory_size)
			return (int)i;
	}
	return -1;
}

int vhost_user_mem_find_user(const struct vhost_user_memory *mem, uint64_t uaddr, uint64_t len)
{
	return find_range(mem, uaddr, len, true);
}

int vhost_user_mem_find_guest(const struct vhost_user_memory *mem, uint64_t gpa, uint64_t len)
{
	return find_range(mem, gpa, len, false);
}

uint64_t vhost_user_split_desc_size(unsigned num)
{
	return 16ULL * num;
}

uint64_t vhost_user_split_avail_size(unsigned num, bool event_idx)
{
	return 4 + 2ULL * num + (event_idx ? 2 : 0);
}

uint64_t vhost_user_split_used_size(unsigned num, bool event_idx)
{
	return 4 + 8ULL * num + (event_idx ? 2 : 0);
}

int vhost_user_vring_addr_check(const struct vhost_user_memory *mem,
				const struct vhost_user_vring_addr *addr, unsigned num,
				bool event_idx, char *why, size_t whylen)
{
	const struct {
		const char *part;
		uint64_t uaddr, len, align;
	} parts[] = {
	    {"descriptor table", addr->desc_user_addr, vhost_user_split_desc_size(num), 16},
	    {"available ring", addr->avail_user_addr, vhost_user_split_avail_size(num, event_idx),
	     2},
	    {"used ring", addr->used_user_addr, vhost_user_split_used_size(num, event_idx), 4},
	};

	if (!is_pow2(num) || num > VHOST_USER_MAX_QUEUE_SIZE)
		return reject(why, whylen, "vring %u: queue size %u is not a power of two <= %u",
			      addr->index, num, VHOST_USER_MAX_QUEUE_SIZE);
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		if (parts[i].uaddr & (parts[i].align - 1))
			return reject(
			    why, whylen, "vring %u: %s at 0x%llx is not %llu-byte aligned",
			    addr->index, parts[i].part, (unsigned long long)parts[i].uaddr,
			    (unsigned long long)parts[i].align);
		if (vhost_user_mem_find_user(mem, parts[i].uaddr, parts[i].len) < 0)
			return reject(why, whylen,
				      "vring %u: %s 0x%llx+0x%llx is not inside one memory region",
				      addr->index, parts[i].part,
				      (unsigned long long)parts[i].uaddr,
				      (unsigned long long)parts[i].len);
	}
	return 0;
}

uint64_t vhost_user_inflight_split_size(unsigned num_queues, unsigned queue_size)
{
	uint64_t per_queue = sizeof(struct vhost_user_inflight_split) +
			     (uint64_t)queue_size * sizeof(struct vhost_user_inflight_desc_split);

	return (uint64_t)num_queues * ALIGN_UP(per_queue, 64ULL);
}

/* Expected payload size for a shape, given the message (memory/config vary). */
static int payload_size_check(const struct vhost_user_msg *msg, enum vu_payload p, char *why,
			      size_t whylen)
{
	uint32_t size = msg->hdr.size;
	uint64_t want;

	switch (p) {
	case P_NONE:
		want = 0;
		break;
	case P_U64:
		want = sizeof(uint64_t);
		break;
	case P_STATE:
		want = sizeof(struct vhost_user_vring_state);
		break;
	case P_ADDR:
		want = sizeof(struct vhost_user_vring_addr);
		break;
	case P_MEM_REG:
		want = sizeof(struct vhost_user_mem_reg);
		break;
	case P_LOG:
		want = sizeof(struct vhost_user_log);
		break;
	case P_INFLIGHT:
		want = sizeof(struct vhost_user_inflight);
		break;
	case P_IOTLB:
		want = sizeof(struct vhost_user_iotlb);
		break;
	case P_AREA:
		want = sizeof(struct vhost_user_vring_area);
		break;
	case P_MEMORY:
		/* nregions is read only once size covers it */
		if (size < offsetof(struct vhost_user_memory, regions))
			return reject(why, whylen,
				      "payload of %u bytes is too short for a memory "
				      "table",
				      size);
		if (msg->payload.memory.nregions > VHOST_USER_MAX_REGIONS)
			return reject(why, whylen, "memory table has %u regions (1..%u)",
				      msg->payload.memory.nregions, VHOST_USER_MAX_REGIONS);
		want =
		    offsetof(struct vhost_user_memory, regions) +
		    (uint64_t)msg->payload.memory.nregions * sizeof(struct vhost_user_mem_region);
		break;
	case P_CONFIG:
		if (size < VHOST_USER_CONFIG_HDR_SIZE)
			return reject(why, whylen,
				      "payload of %u bytes is too short for a config message",
				      size);
		if (msg->payload.config.size > VHOST_USER_MAX_CONFIG_SIZE)
			return reject(why, whylen, "config size %u exceeds %u",
				      msg->payload.config.size, VHOST_USER_MAX_CONFIG_SIZE);
		want = VHOST_USER_CONFIG_HDR_SIZE + (uint64_t)msg->payload.config.size;
		break;
	default:
		return reject(why, whylen, "internal: payload shape %d", (int)p);
	}
	if (size != want)
		return reject(why, whylen, "payload is %u bytes, want %llu", size,
			      (unsigned long long)want);
	return 0;
}

static int fds_check(const struct vhost_user_msg *msg, enum vu_fds rule, unsigned nr_fds, char *why,
		     size_t whylen)
{
	unsigned want;

	switch (rule) {
	case FD_NONE:
		want = 0;
		break;
	case FD_ONE:
		want = 1;
		break;
	case FD_NOFD_FLAG:
		/* the u64 is the first field of both the u64 and area payloads */
		want = (msg->payload.u64 & VHOST_USER_VRING_NOFD) ? 0 : 1;
		break;
	case FD_REGIONS:
		want = msg->payload.memory.nregions;
		break;
	case FD_ZERO_OR_ONE:
		if (nr_fds > 1)
			return reject(why, whylen, "%u fds attached, at most 1 allowed", nr_fds);
		return 0;
	default:
		return reject(why, whylen, "internal: fd rule %d", (int)rule);
	}
	if (nr_fds != want)
		return reject(why, whylen, "%u fds attached, want %u", nr_fds, want);
	return 0;
}

static int vring_index_check(uint32_t index, unsigned max_vrings, char *why, size_t whylen)
{
	if (index >= max_vrings)
		return reject(why, whylen, "vring index %u out of range (< %u)", index, max_vrings);
	return 0;
}

static int check_u64_vring_file(uint64_t v, unsigned max_vrings, char *why, size_t whylen)
{
	if (v & ~(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD))
		return reject(why, whylen, "unknown bits in vring file payload 0x%llx",
			      (unsigned long long)v);
	return vring_index_check((uint32_t)(v & VHOST_USER_VRING_IDX_MASK), max_vrings, why,
				 whylen);
}

static int check_state(uint32_t request, bool reply, const struct vhost_user_vring_state *s,
		       unsigned max_vrings, char *why, size_t whylen)
{
	int rc = vring_index_check(s->index, max_vrings, why, whylen);

	if (rc)
		return rc;
	switch (request) {
	case VHOST_USER_SET_VRING_NUM:
		if (!is_pow2(s->num) || s->num > VHOST_USER_MAX_QUEUE_SIZE)
			return reject(why, whylen, "vring %u: size %u is not a power of two <= %u",
				      s->index, s->num, VHOST_USER_MAX_QUEUE_SIZE);
		break;
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
		/* a split ring's index is 16 bits; a request's num is ignored */
		if ((request == VHOST_USER_SET_VRING_BASE || reply) && s->num > 0xffff)
			return reject(why, whylen, "vring %u: base %u exceeds 16 bits", s->index,
				      s->num);
		break;
	case VHOST_USER_SET_VRING_ENABLE:
	case VHOST_USER_SET_VRING_ENDIAN:
		if (s->num > 1)
			return reject(why, whylen, "vring %u: value %u is not 0 or 1", s->index,
				      s->num);
		break;
	case VHOST_USER_VRING_KICK:
		if (s->num != 0)
			return reject(why, whylen, "vring %u: reserved num %u is not 0", s->index,
				      s->num);
		break;
	}
	return 0;
}

static int check_inflight(const struct vhost_user_inflight *in, bool need_area, unsigned max_vrings,
			  char *why, size_t whylen)
{
	uint64_t end;

	if (in->num_queues == 0 || in->num_queues > max_vrings)
		return reject(why, whylen, "inflight: %u queues (1..%u)", in->num_queues,
			      max_vrings);
	if (!is_pow2(in->queue_size) || in->queue_size > VHOST_USER_MAX_QUEUE_SIZE)
		return reject(why, whylen, "inflight: queue size %u is not a power of two <= %u",
			      in->queue_size, VHOST_USER_MAX_QUEUE_SIZE);
	if (!need_area)
		return 0;
	if (in->mmap_size == 0)
		return reject(why, whylen, "inflight: mmap size is 0");
	if (add_overflows_u64(in->mmap_offset, in->mmap_size, &end) || end > (uint64_t)INT64_MAX)
		return reject(why, whylen, "inflight: mmap range 0x%llx+0x%llx overflows",
			      (unsigned long long)in->mmap_offset,
			      (unsigned long long)in->mmap_size);
	if (in->mmap_size < vhost_user_inflight_split_size(in->num_queues, in->queue_size))
		return reject(why, whylen,
			      "inflight: mmap size 0x%llx too small for %u queues of %u",
			      (unsigned long long)in->mmap_size, in->num_queues, in->queue_size);
	return 0;
}

static int check_iotlb(const struct vhost_user_iotlb *t, char *why, size_t whylen)
{
	uint64_t end;

	if (t->type < VHOST_USER_IOTLB_MISS || t->type > VHOST_USER_IOTLB_ACCESS_FAIL)
		return reject(why, whylen, "iotlb: unknown type %u", t->type);
	if (t->perm > VHOST_USER_IOTLB_PERM_RW)
		return reject(why, whylen, "iotlb: unknown permission %u", t->perm);
	if ((t->type == VHOST_USER_IOTLB_UPDATE || t->type == VHOST_USER_IOTLB_INVALIDATE) &&
	    (t->size == 0 || add_overflows_u64(t->iova, t->size, &end)))
		return reject(why, whylen, "iotlb: range 0x%llx+0x%llx is empty or overflows",
			      (unsigned long long)t->iova, (unsigned long long)t->size);
	if (t->type == VHOST_USER_IOTLB_UPDATE && add_overflows_u64(t->uaddr, t->size, &end))
		return reject(why, whylen, "iotlb: user range 0x%llx+0x%llx overflows",
			      (unsigned long long)t->uaddr, (unsigned long long)t->size);
	return 0;
}

static int check_config(const struct vhost_user_config *c, char *why, size_t whylen)
{
	if ((uint64_t)c->offset + c->size > VHOST_USER_MAX_CONFIG_SIZE)
		return reject(why, whylen, "config: offset %u + size %u beyond %u", c->offset,
			      c->size, VHOST_USER_MAX_CONFIG_SIZE);
	if (c->flags > VHOST_USER_CONFIG_MIGRATION)
		return reject(why, whylen, "config: unknown flags 0x%x", c->flags);
	return 0;
}

/* Field checks for a payload whose size is already right. */
static int payload_check(const struct vhost_user_msg *msg, enum vu_payload p, bool reply,
			 bool backend_channel, unsigned max_vrings, char *why, size_t whylen)
{
	const union vhost_user_payload *pl = &msg->payload;
	uint32_t req = msg->hdr.request;
	uint64_t end;

	switch (p) {
	case P_NONE:
		return 0;
	case P_U64:
		if (reply)
			return 0;
		switch (req) {
		case VHOST_USER_SET_VRING_KICK:
		case VHOST_USER_SET_VRING_CALL:
		case VHOST_USER_SET_VRING_ERR:
			return check_u64_vring_file(pl->u64, max_vrings, why, whylen);
		case VHOST_USER_SET_STATUS:
			if (pl->u64 > 0xff)
				return reject(why, whylen, "device status 0x%llx exceeds 8 bits",
					      (unsigned long long)pl->u64);
			return 0;
		case VHOST_USER_NET_SET_MTU:
			if (pl->u64 < 68 || pl->u64 > 65535)
				return reject(why, whylen, "MTU %llu out of range 68..65535",
					      (unsigned long long)pl->u64);
			return 0;
		}
		return 0;
	case P_STATE:
		/* The backend channel's VRING_CALL/ERR reserve num, as VRING_KICK does. */
		return check_state(backend_channel ? VHOST_USER_VRING_KICK : req, reply, &pl->state,
				   max_vrings, why, whylen);
	case P_ADDR:
		if (vring_index_check(pl->addr.index, max_vrings, why, whylen))
			return -EINVAL;
		if (pl->addr.flags & ~VHOST_VRING_F_LOG)
			return reject(why, whylen, "vring %u: unknown address flags 0x%x",
				      pl->addr.index, pl->addr.flags);
		return 0;
	case P_MEMORY:
		return vhost_user_mem_table_check(&pl->memory, why, whylen);
	case P_MEM_REG:
		return region_check(&pl->mem_reg.region, 0, why, whylen);
	case P_LOG:
		if (pl->log.mmap_size == 0)
			return reject(why, whylen, "log: mmap size is 0");
		if (add_overflows_u64(pl->log.mmap_offset, pl->log.mmap_size, &end) ||
		    end > (uint64_t)INT64_MAX)
			return reject(why, whylen, "log: mmap range 0x%llx+0x%llx overflows",
				      (unsigned long long)pl->log.mmap_offset,
				      (unsigned long long)pl->log.mmap_size);
		return 0;
	case P_INFLIGHT:
		/* GET_INFLIGHT_FD asks with queue geometry only; its reply and
		 * SET_INFLIGHT_FD carry the shared area too. */
		return check_inflight(&pl->inflight, reply || req == VHOST_USER_SET_INFLIGHT_FD,
				      max_vrings, why, whylen);
	case P_CONFIG:
		return check_config(&pl->config, why, whylen);
	case P_IOTLB:
		return check_iotlb(&pl->iotlb, why, whylen);
	case P_AREA:
		if (check_u64_vring_file(pl->area.u64, max_vrings, why, whylen))
			return -EINVAL;
		if (!(pl->area.u64 & VHOST_USER_VRING_NOFD) &&
		    (pl->area.size == 0 || add_overflows_u64(pl->area.offset, pl->area.size, &end)))
			return reject(why, whylen,
				      "host notifier area 0x%llx+0x%llx is empty or "
				      "overflows",
				      (unsigned long long)pl->area.offset,
				      (unsigned long long)pl->area.size);
		return 0;
	}
	return reject(why, whylen, "internal: payload shape %d", (int)p);
}

int vhost_user_msg_validate(const struct vhost_user_msg *msg, size_t bytes, unsigned nr_fds,
			    enum vhost_user_kind kind, unsigned max_vrings, char *why,
			    size_t whylen)
{
	const struct vu_req_info *info;
	bool reply = kind == VHOST_USER_BACKEND_REPLY || kind == VHOST_USER_FRONTEND_REPLY;
	enum vu_payload p;
	enum vu_fds f;
	uint32_t flags;
	int rc;

	if (why && whylen)
		why[0] = '\0';
	if (kind > VHOST_USER_FRONTEND_REPLY || max_vrings == 0 ||
	    max_vrings > VHOST_USER_MAX_VRINGS)
		return reject(why, whylen, "internal: bad validation context");
	if (bytes < VHOST_USER_HDR_SIZE)
		return reject(why, whylen, "short message: %zu bytes, header is %zu", bytes,
			      VHOST_USER_HDR_SIZE);
	if (msg->hdr.size > VHOST_USER_PAYLOAD_MAX)
		return reject(why, whylen, "payload size %u exceeds %zu", msg->hdr.size,
			      VHOST_USER_PAYLOAD_MAX);
	if (bytes != VHOST_USER_HDR_SIZE + msg->hdr.size)
		return reject(why, whylen, "header says %u payload bytes, %zu arrived",
			      msg->hdr.size, bytes - VHOST_USER_HDR_SIZE);
	if (nr_fds > VHOST_USER_MAX_FDS)
		return reject(why, whylen, "%u fds attached, at most %u", nr_fds,
			      VHOST_USER_MAX_FDS);

	flags = msg->hdr.flags;
	if ((flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		return reject(why, whylen, "protocol version %u, want %u",
			      flags & VHOST_USER_VERSION_MASK, VHOST_USER_VERSION);
	if (flags & ~VHOST_USER_FLAGS_KNOWN)
		return reject(why, whylen, "unknown header flags 0x%x", flags);
	if (reply && !(flags & VHOST_USER_REPLY))
		return reject(why, whylen, "a reply without the REPLY flag");
	if (!reply && (flags & VHOST_USER_REPLY))
		return reject(why, whylen, "REPLY flag on a request");
	if (reply && (flags & VHOST_USER_NEED_REPLY))
		return reject(why, whylen, "NEED_REPLY flag on a reply");

	info = req_info(kind, msg->hdr.request);
	if (!info)
		return reject(why, whylen, "unknown %s request %u",
			      main_channel(kind) ? "frontend" : "backend", msg->hdr.request);
	if (!info->supported)
		return reject(why, whylen, "unsupported request %s", info->name);

	if (!reply) {
		p = info->req_payload;
		f = info->req_fds;
	} else if (info->reply_payload != P_NONE) {
		p = info->reply_payload;
		f = info->reply_fds;
		/* a backend signals a failed GET_CONFIG with an empty payload */
		if (msg->hdr.request == VHOST_USER_GET_CONFIG && kind == VHOST_USER_BACKEND_REPLY &&
		    msg->hdr.size == 0)
			p = P_NONE;
	} else {
		/* REPLY_ACK: a u64 status, nothing else */
		p = P_U64;
		f = FD_NONE;
	}

	rc = payload_size_check(msg, p, why, whylen);
	if (rc)
		return rc;
	rc = fds_check(msg, f, nr_fds, why, whylen);
	if (rc)
		return rc;
	rc = payload_check(msg, p, reply, !main_channel(kind), max_vrings, why, whylen);
	if (rc)
		return rc;
	return 0;
}
