/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user message validator, shared by the frontend (sluice) and the
 * backend (sluice-vswitch). Every message from the peer goes through
 * vhost_user_msg_validate() before any field of it is used: the peer is
 * hostile. The checks here need nothing but the message itself (and the
 * receiver's queue limit); checks that need connection state (features
 * negotiated, the memory table for ring addresses, a reply matching the
 * request that was sent) are the caller's, helped by the functions below.
 *
 * These functions never log: they write the reason into `why` so the caller
 * can log one line that also names the connection, then close it.
 */
#ifndef SLUICE_VHOST_USER_MSG_H
#define SLUICE_VHOST_USER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_user_proto.h"

/*
 * What a received message is, which follows from the channel and the
 * receiver's role: the main socket carries frontend requests and backend
 * replies; the backend channel (SET_BACKEND_REQ_FD) carries backend requests
 * and frontend replies.
 */
enum vhost_user_kind {
	VHOST_USER_FRONTEND_REQUEST, /* main socket, received by the backend */
	VHOST_USER_BACKEND_REPLY,    /* main socket, received by the frontend */
	VHOST_USER_BACKEND_REQUEST,  /* backend channel, received by the frontend */
	VHOST_USER_FRONTEND_REPLY,   /* backend channel, received by the backend */
};

/*
 * Validate one received message: `bytes` wire bytes (header + payload) were
 * read and `nr_fds` descriptors arrived with them. max_vrings (1..256) bounds
 * every vring index and inflight queue count. Returns 0, or -EINVAL with the
 * reason in why. The message's fds are not touched: on failure the caller
 * closes them (vhost_user_recv() does).
 */
int vhost_user_msg_validate(const struct vhost_user_msg *msg, size_t bytes, unsigned nr_fds,
			    enum vhost_user_kind kind, unsigned max_vrings, char *why,
			    size_t whylen);

/* A memory table on its own: 1..8 regions, sizes, overflow, overlaps. */
int vhost_user_mem_table_check(const struct vhost_user_memory *mem, char *why, size_t whylen);

/*
 * The region of a (validated) memory table that holds the user-address range
 * [uaddr, uaddr + len) entirely, or -1. A range straddling two regions is not
 * held: the regions need not be adjacent in the receiver's mapping.
 */
int vhost_user_mem_find_user(const struct vhost_user_memory *mem, uint64_t uaddr, uint64_t len);

/* The same by guest-physical address. */
int vhost_user_mem_find_guest(const struct vhost_user_memory *mem, uint64_t gpa, uint64_t len);

/* Bytes of a split ring's parts for `num` entries (event_idx adds the trailing u16). */
uint64_t vhost_user_split_desc_size(unsigned num);
uint64_t vhost_user_split_avail_size(unsigned num, bool event_idx);
uint64_t vhost_user_split_used_size(unsigned num, bool event_idx);

/*
 * A split ring's addresses (SET_VRING_ADDR) against the memory table (from
 * SET_MEM_TABLE, already checked) and the queue size (SET_VRING_NUM): each of
 * desc/avail/used must be aligned as the virtio spec requires and lie fully
 * inside one region. Returns 0 or -EINVAL with the reason in why.
 */
int vhost_user_vring_addr_check(const struct vhost_user_memory *mem,
				const struct vhost_user_vring_addr *addr, unsigned num,
				bool event_idx, char *why, size_t whylen);

/*
 * The least size of an inflight area in the split-ring layout for this many
 * queues of this size (per-queue header + one descriptor state per entry,
 * each queue's part aligned to 64 bytes as DPDK and libvhost-user lay it out).
 */
uint64_t vhost_user_inflight_split_size(unsigned num_queues, unsigned queue_size);

/* A request's name for logs ("SET_MEM_TABLE"); "unknown" when it has none. */
const char *vhost_user_request_name(enum vhost_user_kind kind, uint32_t request);

#endif
