/* SPDX-License-Identifier: MIT */
/*
 * Descriptor-chain parsing against an arbitrary driver. Input layout:
 *   byte 0     log2 of the queue size (mod 9: 1..256)
 *   byte 1     bit 0: EVENT_IDX; bit 1: toggle notification suppression
 *              while draining; bits 2-7: how many bytes the device claims to
 *              write per chain (as a fraction of the chain's writable total)
 *   the rest   guest RAM from GPA 0: descriptor table at 0, the available
 *              ring right after it, then the used ring (packed, so a short
 *              input already reaches avail->idx); buffers and indirect
 *              tables anywhere in the 64 KiB
 * The device pops and pushes until the ring is empty or the guest errs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dma.h"
#include "guest_mem.h"
#include "virtqueue.h"

#define FUZZ_RAM (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Created once: a memfd and a mapping per input would dominate. */
	static struct guest_mem gm;
	static struct dma_space dma; /* identity over gm, as every device has */
	static int ready;
	static struct iovec iov[VIRTQ_MAX_CHAIN];
	struct virtq_elem elem = {.iov = iov, .max_iov = VIRTQ_MAX_CHAIN};
	struct virtq vq;
	uint64_t avail, used;
	uint16_t qsize;
	unsigned fraction, rounds = 0;
	bool toggle;
	int ret;

	if (!ready) {
		if (guest_mem_init(&gm, FUZZ_RAM, false) < 0 ||
		    dma_space_identity_init(&dma, &gm) < 0)
			abort();
		ready = 1;
	}
	if (size < 2)
		return 0;
	qsize = (uint16_t)(1u << (data[0] % 9));
	toggle = data[1] & 2;
	fraction = data[1] >> 2;
	memset(gm.base, 0, FUZZ_RAM);
	memcpy(gm.base, data + 2, size - 2 < FUZZ_RAM ? size - 2 : FUZZ_RAM);

	avail = 16ULL * qsize;
	used = (avail + 6 + 2ULL * qsize + 3) & ~3ULL;
	if (virtq_init(&vq, &dma, qsize) < 0 || virtq_set_addrs(&vq, 0, avail, used) < 0 ||
	    virtq_enable(&vq, data[1] & 1) < 0)
		abort(); /* valid by construction */

	for (;;) {
		if (toggle && (rounds & 1))
			virtq_disable_notify(&vq);
		ret = virtq_pop(&vq, &elem);
		if (ret <= 0) {
			if (ret == 0 && (vq.error || virtq_enable_notify(&vq)))
				abort(); /* nothing changed the ring meanwhile */
			break;
		}
		if (elem.nr_out + elem.nr_in > elem.max_iov || elem.head >= qsize)
			abort();
		/* Touch every byte the device was handed: ASan checks the
		 * mapping, and the totals must match the iovecs. */
		uint64_t out = 0, in = 0;
		for (unsigned i = 0; i < elem.nr_out + elem.nr_in; i++) {
			volatile uint8_t *p = iov[i].iov_base;
			if (iov[i].iov_len == 0 || p < gm.base ||
			    p + iov[i].iov_len > gm.base + FUZZ_RAM)
				abort();
			if (i < elem.nr_out) {
				(void)p[0];
				(void)p[iov[i].iov_len - 1];
				out += iov[i].iov_len;
			} else {
				p[0] = p[0];
				p[iov[i].iov_len - 1] = 0;
				in += iov[i].iov_len;
			}
		}
		if (out != elem.total_out || in != elem.total_in)
			abort();
		if (virtq_push(&vq, &elem, (uint32_t)((uint64_t)elem.total_in * fraction / 63)) < 0)
			abort();
		(void)virtq_should_notify(&vq);
		if (toggle && (rounds & 1))
			(void)virtq_enable_notify(&vq);
		/* Each pop consumes one of at most qsize available entries,
		 * but the in-buffer writes above may rewrite avail->idx (the
		 * rings are in the same RAM), so bound the loop on its own. */
		if (++rounds > 4u * VIRTQ_MAX_SIZE)
			break;
	}
	virtq_reset(&vq);
	return 0;
}
