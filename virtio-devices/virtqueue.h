/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, device side (virtio 1.2 section 2.7).
 *
 * The rings live in guest RAM and the guest can rewrite them at any moment,
 * so every index, address and length read from them is checked once, on a
 * private copy, before it is used. A malformed chain does not stop the VMM:
 * virtq_pop() returns -EINVAL, sets vq->error to the reason (logged once),
 * and the queue refuses further work until virtq_reset(). The device then
 * sets VIRTIO_STATUS_NEEDS_RESET and notifies the driver of a config change.
 *
 * Every guest address (rings, indirect tables, buffers) is an IOVA of the
 * queue's DMA address space (dma.h), translated here and nowhere else: all
 * virtio DMA in the VMM funnels through this file. A buffer contiguous in
 * IOVA may become several host iovecs, and the chain limits (elem->max_iov,
 * VIRTQ_MAX_CHAIN for descriptors) count what the device gets: iovecs after
 * translation. The identity space never splits a buffer; a space that does
 * (a vIOMMU mapping page by page) makes devices whose segment limits are
 * tight (virtio-blk seg_max + 2 == max_iov) refuse chains a driver thinks
 * legal, so those limits must then leave room.
 *
 * The rings are translated once (set_addrs) and used in place, so each ring
 * must be one contiguous host range: a ring the space splits is refused
 * like an unmapped one (the identity space never splits; a guest's
 * coherent DMA allocations are contiguous in IOVA and GPA alike). An unmap
 * notification that overlaps a ring drops the cached host pointers
 * (virtq_invalidate); the queue translates its rings again before it next
 * touches them, and breaks (vq->error) if they are no longer mapped.
 *
 * A queue is serviced by one thread at a time (the device's queue worker or
 * its mutex holder, which is also the thread calling virtq_invalidate); the
 * library itself takes no locks.
 */
#ifndef SLUICE_VIRTQUEUE_H
#define SLUICE_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct dma_space;

#define VIRTQ_MAX_SIZE 32768 /* largest split queue the spec allows */

/*
 * Upper bound on the descriptors of one chain (indirect table entries
 * included), whatever the queue size: a device offering a queue larger than
 * this must not advertise segment limits above it (e.g. virtio-blk seg_max).
 */
#define VIRTQ_MAX_CHAIN 1024

/*
 * Host ranges an indirect table may be split into (it is read through its
 * iovecs, not in place): 8 pages of 4 KiB hold 2048 descriptors, twice
 * VIRTQ_MAX_CHAIN.
 */
#define VIRTQ_INDIRECT_MAX_IOV 8

/* Descriptor flags (2.7.5). */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1 /* driver -> device: no used-buffer interrupts */
#define VIRTQ_USED_F_NO_NOTIFY	   1 /* device -> driver: no available-buffer kicks */

/* Ring alignment (2.7: descriptor table 16, available ring 2, used ring 4). */
#define VIRTQ_DESC_ALIGN  16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN  4

struct virtq {
	struct dma_space *dma;
	uint16_t size;				  /* power of two, 1..VIRTQ_MAX_SIZE */
	uint64_t desc, avail, used;		  /* ring IOVAs, as the driver set them */
	uint8_t *desc_hva, *avail_hva, *used_hva; /* checked host views of the rings */
	uint16_t last_avail;			  /* next avail ring slot the device reads */
	uint16_t used_idx;			  /* the device's copy of used->idx */
	uint16_t inflight;			  /* popped and not yet pushed */
	uint16_t signalled_used;		  /* used_idx at the last notify decision */
	bool signalled_used_valid;		  /* false until the first decision after enable */
	bool event_idx;				  /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool notify_off;   /* device asked for no kicks (virtq_disable_notify) */
	bool ready;	   /* addresses valid and queue enabled */
	const char *error; /* set => device must go NEEDS_RESET */
	bool rings_stale;  /* an unmap hit a ring: translate it again first */
};

/*
 * One popped chain. The caller provides iov[max_iov] before virtq_pop(); a
 * chain whose buffers translate to more host iovecs than that is a guest
 * error (the device advertised its limits). iov[0, nr_out) are the
 * device-readable buffers, iov[nr_out, nr_out + nr_in) the device-writable
 * ones, in chain order; nr_out/nr_in count iovecs, not descriptors.
 * Zero-length descriptors are allowed and produce no iovec.
 */
struct virtq_elem {
	struct iovec *iov;
	unsigned max_iov;
	uint16_t head; /* descriptor index reported back in the used ring */
	unsigned nr_out, nr_in;
	uint32_t total_out, total_in; /* bytes; a chain totalling >= 4 GiB is rejected */
};

/*
 * size: a power of two in [1, VIRTQ_MAX_SIZE]; dma: the device's DMA space,
 * which must outlive the queue. The queue starts disabled.
 */
int virtq_init(struct virtq *vq, struct dma_space *dma, uint16_t size);

/*
 * Checks alignment and that each whole ring (with the event fields) is
 * mapped in the DMA space as one host range. On failure the queue has no
 * usable rings (it cannot be enabled) and vq->error is set; vq->desc/avail/
 * used keep what the driver wrote, for the log and for the transport's
 * read-back.
 */
int virtq_set_addrs(struct virtq *vq, uint64_t desc, uint64_t avail, uint64_t used);

/*
 * The DMA space unmapped [iova, iova + size) (a dma_listener's unmap, on
 * the thread that services the queue or holding its lock). If that
 * overlaps a ring, the cached host pointers are dropped and the next
 * access translates the rings again: a remapped ring is followed to its
 * new host memory, a vanished one breaks the queue ("ring no longer
 * mapped"). Chains already popped keep their iovecs (see dma.h).
 */
void virtq_invalidate(struct virtq *vq, uint64_t iova, uint64_t size);

/* The driver enabled the queue (queue_enable = 1); needs valid addresses. */
int virtq_enable(struct virtq *vq, bool event_idx);

/*
 * Next available chain: 1 = elem filled, 0 = nothing available (or queue not
 * ready), -EINVAL = guest error (vq->error says why; the queue stays broken
 * until virtq_reset()).
 */
int virtq_pop(struct virtq *vq, struct virtq_elem *elem);

/* Return the last popped chain to the ring (e.g. rx buffer too small). */
void virtq_unpop(struct virtq *vq);

/*
 * Complete a popped chain with `written` bytes placed in its writable
 * buffers. written > elem->total_in, a head out of range or a push with
 * nothing in flight is a device bug: -EINVAL, nothing is published.
 */
int virtq_push(struct virtq *vq, const struct virtq_elem *elem, uint32_t written);

/*
 * virtq_push() without publishing used->idx: the entry stays invisible to
 * the driver until virtq_publish(). For completions that must appear
 * together, e.g. the buffers of one virtio-net mergeable frame (the driver
 * reads num_buffers and then expects that many used entries).
 */
int virtq_push_deferred(struct virtq *vq, const struct virtq_elem *elem, uint32_t written);
void virtq_publish(struct virtq *vq);

/*
 * After one or more pushes: must the driver get an interrupt? Honours
 * used_event (EVENT_IDX) or VIRTQ_AVAIL_F_NO_INTERRUPT.
 */
bool virtq_should_notify(struct virtq *vq);

/*
 * Kick suppression while the device is busy draining the queue. Returns true
 * from virtq_enable_notify() if buffers arrived meanwhile: the caller must
 * keep popping, since the driver may not kick for them.
 */
void virtq_disable_notify(struct virtq *vq);
bool virtq_enable_notify(struct virtq *vq);

/* Device reset: back to disabled, no addresses, indices 0, error cleared. */
void virtq_reset(struct virtq *vq);

/*
 * Copies between a popped chain's iovecs (already translated host views of
 * guest buffers) and a flat buffer; at most len bytes, returns bytes copied.
 */
size_t virtq_iov_to_buf(const struct iovec *iov, unsigned n, void *buf, size_t len);
size_t virtq_iov_from_buf(const struct iovec *iov, unsigned n, const void *buf, size_t len);

#endif
