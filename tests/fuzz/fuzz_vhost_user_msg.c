/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the vhost-user message validator. Input: one control byte
 * (low 4 bits: how many fds "arrived", 0..15; next 2 bits: which kind of
 * message this end receives; top 2 bits: max vrings 1, 2, 64 or 256), then
 * the raw wire bytes of a message. Whatever the validator accepts is then
 * used the way a backend would: its memory table is checked once more on its
 * own and every vring address is looked up against it, so an accepted message
 * that is not really sound would show up as a sanitizer report or an abort.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vhost_user_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned max_vrings_of[4] = {1, 2, 64, 256};

static void use_accepted(const struct vhost_user_msg *m, enum vhost_user_kind kind)
{
	const struct vhost_user_memory *mem = &m->payload.memory;
	struct vhost_user_vring_addr a;
	char why[160];

	if (kind != VHOST_USER_FRONTEND_REQUEST)
		return;
	if (m->hdr.request == VHOST_USER_SET_MEM_TABLE) {
		if (vhost_user_mem_table_check(mem, why, sizeof(why)) != 0)
			abort(); /* accepted, yet the table alone is refused */
		for (unsigned i = 0; i < mem->nregions; i++) {
			const struct vhost_user_mem_region *r = &mem->regions[i];

			/* each region holds its own ranges and only those */
			if (vhost_user_mem_find_user(mem, r->userspace_addr, r->memory_size) !=
				(int)i ||
			    vhost_user_mem_find_guest(mem, r->guest_phys_addr, r->memory_size) !=
				(int)i)
				abort();
			/* a ring laid out at the region's start, checked for sizes
			 * up to the largest queue, must never crash the checker */
			a = (struct vhost_user_vring_addr){
			    .index = 0,
			    .desc_user_addr = r->userspace_addr,
			    .avail_user_addr = r->userspace_addr + r->memory_size / 2,
			    .used_user_addr = r->userspace_addr + r->memory_size - 4,
			};
			for (unsigned num = 1; num <= VHOST_USER_MAX_QUEUE_SIZE; num <<= 3)
				(void)vhost_user_vring_addr_check(mem, &a, num, num & 8, why,
								  sizeof(why));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhost_user_msg m;
	enum vhost_user_kind kind;
	unsigned nr_fds, max_vrings;
	size_t bytes, take;
	char why[160];

	if (size < 1)
		return 0;
	nr_fds = data[0] & 0xf;
	kind = (enum vhost_user_kind)((data[0] >> 4) & 3);
	max_vrings = max_vrings_of[data[0] >> 6];
	data++;
	size--;

	/* Scatter the wire bytes as vhost_user_recv() does; the rest of the
	 * struct is filler the validator must not let through. */
	memset(&m, 0xa5, sizeof(m));
	bytes = size;
	take = bytes < VHOST_USER_HDR_SIZE ? bytes : VHOST_USER_HDR_SIZE;
	memcpy(&m.hdr, data, take);
	if (bytes > VHOST_USER_HDR_SIZE) {
		take = bytes - VHOST_USER_HDR_SIZE;
		if (take > sizeof(m.payload))
			take = sizeof(m.payload);
		memcpy(m.payload.raw, data + VHOST_USER_HDR_SIZE, take);
	}

	if (vhost_user_msg_validate(&m, bytes, nr_fds, kind, max_vrings, why, sizeof(why)) == 0) {
		/* the basic promise: what was accepted matches what arrived */
		if (bytes != VHOST_USER_HDR_SIZE + m.hdr.size ||
		    m.hdr.size > VHOST_USER_PAYLOAD_MAX)
			abort();
		use_accepted(&m, kind);
	} else if (why[0] == '\0') {
		abort(); /* every refusal says why */
	}
	(void)vhost_user_request_name(kind, m.hdr.request);
	return 0;
}
