/* SPDX-License-Identifier: MIT */
#include "virtqueue.h"
#include "dma.h"
#include "log.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

/*
 * Ring fields are little-endian (virtio 1.x). The host is x86, so the
 * le*toh/htole* calls below are no-ops, kept to mark every guest-visible
 * multi-byte field; the static assert stops a silent port to a BE host.
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtqueue assumes a little-endian host");

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc layout");

/* Byte offsets inside the available and used rings (2.7.6, 2.7.8). */
#define AVAIL_FLAGS	  0
#define AVAIL_IDX	  2
#define AVAIL_RING(i)	  (4 + 2 * (uint64_t)(i))
#define USED_FLAGS	  0
#define USED_IDX	  2
#define USED_RING(i)	  (4 + 8 * (uint64_t)(i))
#define USED_EVENT(size)  AVAIL_RING(size) /* in the available ring */
#define AVAIL_EVENT(size) USED_RING(size)  /* in the used ring */

static uint64_t desc_bytes(uint16_t size)
{
	return 16 * (uint64_t)size;
}

static uint64_t avail_bytes(uint16_t size)
{
	return AVAIL_RING(size) + 2; /* + used_event */
}

static uint64_t used_bytes(uint16_t size)
{
	return USED_RING(size) + 2; /* + avail_event */
}

/* Ring pointers are aligned (checked in virtq_set_addrs), so these are
 * single, untorn accesses to memory the guest writes concurrently. */
static uint16_t *ring16(uint8_t *ring, uint64_t off)
{
	return (uint16_t *)(void *)(ring + off);
}

static uint32_t *ring32(uint8_t *ring, uint64_t off)
{
	return (uint32_t *)(void *)(ring + off);
}

/* Records the first guest error; later ones are consequences, not news. */
static int virtq_fail(struct virtq *vq, const char *why)
{
	if (!vq->error) {
		vq->error = why;
		log_err("virtqueue (size %u, rings 0x%llx/0x%llx/0x%llx): %s; device needs reset",
			vq->size, (unsigned long long)vq->desc, (unsigned long long)vq->avail,
			(unsigned long long)vq->used, why);
	}
	return -EINVAL;
}

int virtq_init(struct virtq *vq, struct dma_space *dma, uint16_t size)
{
	memset(vq, 0, sizeof(*vq));
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1))) {
		log_err("virtqueue size %u is not a power of two in [1, %u]", size, VIRTQ_MAX_SIZE);
		return -EINVAL;
	}
	vq->dma = dma;
	vq->size = size;
	return 0;
}

/* One ring as one host range: 0, -EFAULT (not mapped) or -E2BIG (split). */
static int ring_translate(struct virtq *vq, uint64_t iova, uint64_t len, enum dma_direction dir,
			  uint8_t **hva)
{
	struct iovec iov;
	int n = dma_translate(vq->dma, iova, len, dir, &iov, 1);

	if (n < 0)
		return n == -E2BIG ? -E2BIG : -EFAULT;
	*hva = iov.iov_base;
	return 0;
}

/* Translate the three rings (addresses already checked for alignment). */
static int rings_translate(struct virtq *vq)
{
	uint8_t *d = NULL, *a = NULL, *u = NULL;
	int ret;

	/* The device reads the descriptors and the available ring, writes the used ring. */
	if ((ret = ring_translate(vq, vq->desc, desc_bytes(vq->size), DMA_TO_DEVICE, &d)) ||
	    (ret = ring_translate(vq, vq->avail, avail_bytes(vq->size), DMA_TO_DEVICE, &a)) ||
	    (ret = ring_translate(vq, vq->used, used_bytes(vq->size), DMA_FROM_DEVICE, &u)))
		return ret;
	vq->desc_hva = d;
	vq->avail_hva = a;
	vq->used_hva = u;
	vq->rings_stale = false;
	return 0;
}

int virtq_set_addrs(struct virtq *vq, uint64_t desc, uint64_t avail, uint64_t used)
{
	int ret;

	vq->desc_hva = vq->avail_hva = vq->used_hva = NULL;
	vq->rings_stale = false;
	vq->ready = false;
	/* Before the checks, so the log line names what the driver wrote. */
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	if (desc % VIRTQ_DESC_ALIGN || avail % VIRTQ_AVAIL_ALIGN || used % VIRTQ_USED_ALIGN)
		return virtq_fail(vq, "misaligned ring address");
	ret = rings_translate(vq);
	if (ret == -E2BIG)
		return virtq_fail(vq, "ring not contiguous in host memory");
	if (ret)
		return virtq_fail(vq, "ring not entirely in guest RAM");
	return 0;
}

/*
 * Before every ring access: after an unmap hit the rings (virtq_invalidate)
 * translate them again. false: they are gone and the queue is broken.
 */
static bool virtq_rings(struct virtq *vq)
{
	if (!vq->rings_stale)
		return true;
	if (rings_translate(vq)) {
		virtq_fail(vq, "ring no longer mapped");
		return false;
	}
	return true;
}

/* [a, a + alen) and [b, b + blen) share a byte; no overflow for ranges reaching 2^64. */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	if (!alen || !blen)
		return false;
	return a >= b ? a - b < blen : b - a < alen;
}

void virtq_invalidate(struct virtq *vq, uint64_t iova, uint64_t size)
{
	if (!vq->desc_hva)
		return; /* no rings cached (none set, or already stale) */
	if (!ranges_overlap(vq->desc, desc_bytes(vq->size), iova, size) &&
	    !ranges_overlap(vq->avail, avail_bytes(vq->size), iova, size) &&
	    !ranges_overlap(vq->used, used_bytes(vq->size), iova, size))
		return;
	vq->desc_hva = vq->avail_hva = vq->used_hva = NULL;
	vq->rings_stale = true;
}

int virtq_enable(struct virtq *vq, bool event_idx)
{
	if (vq->rings_stale && !virtq_rings(vq))
		return -EINVAL;
	if (!vq->desc_hva) {
		log_err("virtqueue enabled without valid ring addresses");
		return -EINVAL;
	}
	vq->event_idx = event_idx;
	vq->signalled_used_valid = false;
	vq->ready = true;
	return 0;
}

static void set_avail_event(struct virtq *vq, uint16_t idx)
{
	__atomic_store_n(ring16(vq->used_hva, AVAIL_EVENT(vq->size)), htole16(idx),
			 __ATOMIC_RELAXED);
}

/*
 * Where descriptors come from: the descriptor ring (one host range), or an
 * indirect table, which may be several (a descriptor can straddle two).
 */
struct desc_table {
	const struct iovec *iov;
	unsigned nr_iov;
	uint32_t len; /* descriptors */
};

/* Reads the descriptor once: all checks and uses work on this copy, so the
 * guest cannot change a field between its check and its use. i < t->len. */
static void desc_fetch(const struct desc_table *t, uint32_t i, struct virtq_desc *d)
{
	uint64_t off = 16 * (uint64_t)i;

	if (t->nr_iov == 1) {
		memcpy(d, (const uint8_t *)t->iov[0].iov_base + off, sizeof(*d));
	} else {
		uint8_t *p = (uint8_t *)d;
		size_t left = sizeof(*d);

		for (unsigned k = 0; k < t->nr_iov && left; k++) {
			size_t l = t->iov[k].iov_len, c;

			if (off >= l) {
				off -= l;
				continue;
			}
			c = l - off < left ? l - off : left;
			memcpy(p, (const uint8_t *)t->iov[k].iov_base + off, c);
			p += c;
			left -= c;
			off = 0;
		}
	}
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

static int walk_chain(struct virtq *vq, struct virtq_elem *elem)
{
	struct iovec ring = {.iov_base = vq->desc_hva, .iov_len = desc_bytes(vq->size)};
	struct iovec itable[VIRTQ_INDIRECT_MAX_IOV];
	struct desc_table table = {.iov = &ring, .nr_iov = 1, .len = vq->size};
	uint32_t i = elem->head;
	unsigned limit = vq->size < VIRTQ_MAX_CHAIN ? vq->size : VIRTQ_MAX_CHAIN;
	unsigned visited = 0;
	uint64_t total_out = 0, total_in = 0;
	bool indirect = false, seen_write = false;
	struct virtq_desc d;
	int n;

	for (;;) {
		desc_fetch(&table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (indirect)
				return virtq_fail(vq, "nested indirect descriptor");
			if (visited)
				return virtq_fail(vq, "indirect descriptor not at chain head");
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return virtq_fail(vq, "indirect descriptor with NEXT set");
			if (d.len == 0 || d.len % sizeof(struct virtq_desc))
				return virtq_fail(vq, "indirect table length not a multiple of 16");
			n = dma_translate(vq->dma, d.addr, d.len, DMA_TO_DEVICE, itable,
					  VIRTQ_INDIRECT_MAX_IOV);
			if (n == -E2BIG)
				return virtq_fail(vq,
						  "indirect table split into too many host ranges");
			if (n < 0)
				return virtq_fail(vq, "indirect table outside guest RAM");
			table = (struct desc_table){.iov = itable,
						    .nr_iov = (unsigned)n,
						    .len = d.len / sizeof(struct virtq_desc)};
			indirect = true;
			i = 0;
			/* The indirect descriptor itself is not a buffer: only the
			 * table entries count towards the chain length. */
			continue;
		}
		if (++visited > limit)
			return virtq_fail(vq, "descriptor chain longer than the queue (loop?)");
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			seen_write = true;
		} else if (seen_write) {
			/* 2.7.4.2: all device-readable buffers come first. */
			return virtq_fail(vq, "device-readable descriptor after a writable one");
		}
		if (d.len) {
			bool write = d.flags & VIRTQ_DESC_F_WRITE;
			unsigned used = elem->nr_out + elem->nr_in;

			/* The limit counts host iovecs: one buffer may be several. */
			n = dma_translate(vq->dma, d.addr, d.len,
					  write ? DMA_FROM_DEVICE : DMA_TO_DEVICE, elem->iov + used,
					  elem->max_iov - used);
			if (n == -E2BIG)
				return virtq_fail(vq,
						  "chain has more buffers than the device accepts");
			if (n < 0)
				return virtq_fail(vq, "buffer outside guest RAM");
			if (write) {
				elem->nr_in += (unsigned)n;
				total_in += d.len;
			} else {
				elem->nr_out += (unsigned)n;
				total_out += d.len;
			}
			/* used.len is 32 bits: a larger chain cannot be reported. */
			if (total_in > UINT32_MAX || total_out > UINT32_MAX)
				return virtq_fail(vq, "chain totals 4 GiB or more");
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= table.len)
			return virtq_fail(vq, "next descriptor index out of range");
		i = d.next;
	}
	elem->total_out = (uint32_t)total_out;
	elem->total_in = (uint32_t)total_in;
	return 0;
}

int virtq_pop(struct virtq *vq, struct virtq_elem *elem)
{
	uint16_t avail_idx, head;
	int ret;

	elem->nr_out = elem->nr_in = 0;
	elem->total_out = elem->total_in = 0;
	if (vq->error)
		return -EINVAL;
	if (!vq->ready)
		return 0;
	if (!virtq_rings(vq))
		return -EINVAL;
	/*
	 * Acquire: the driver writes the ring entry and descriptors before it
	 * publishes avail->idx (2.7.13.3.1); reading them must not be hoisted
	 * above this load.
	 */
	avail_idx = le16toh(__atomic_load_n(ring16(vq->avail_hva, AVAIL_IDX), __ATOMIC_ACQUIRE));
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return virtq_fail(vq, "available index ran more than the queue size ahead");
	if (avail_idx == vq->last_avail)
		return 0;

	head = le16toh(__atomic_load_n(
	    ring16(vq->avail_hva, AVAIL_RING(vq->last_avail & (vq->size - 1))), __ATOMIC_RELAXED));
	if (head >= vq->size)
		return virtq_fail(vq, "head descriptor index out of range");
	elem->head = head;
	ret = walk_chain(vq, elem);
	if (ret < 0)
		return ret;
	vq->last_avail++;
	vq->inflight++;
	/* Ask for a kick at the next new buffer (2.7.10): the driver reads
	 * avail_event after its own full barrier, so relaxed is enough here. */
	if (vq->event_idx && !vq->notify_off)
		set_avail_event(vq, vq->last_avail);
	return 1;
}

void virtq_unpop(struct virtq *vq)
{
	if (vq->inflight) {
		vq->inflight--;
		vq->last_avail--;
	}
}

int virtq_push_deferred(struct virtq *vq, const struct virtq_elem *elem, uint32_t written)
{
	uint16_t slot;

	if (vq->error)
		return -EINVAL;
	if (!vq->ready || !vq->inflight || elem->head >= vq->size) {
		log_err("virtqueue push of head %u without a matching pop", elem->head);
		return -EINVAL;
	}
	if (written > elem->total_in) {
		log_err("virtqueue push claims %u bytes written into %u writable bytes", written,
			elem->total_in);
		return -EINVAL;
	}
	if (!virtq_rings(vq))
		return -EINVAL;
	slot = vq->used_idx & (vq->size - 1);
	__atomic_store_n(ring32(vq->used_hva, USED_RING(slot)), htole32(elem->head),
			 __ATOMIC_RELAXED);
	__atomic_store_n(ring32(vq->used_hva, USED_RING(slot) + 4), htole32(written),
			 __ATOMIC_RELAXED);
	vq->used_idx++;
	vq->inflight--;
	return 0;
}

void virtq_publish(struct virtq *vq)
{
	if (!vq->ready || vq->error || !virtq_rings(vq))
		return;
	/* Release: the used elements (and the data written into the buffers)
	 * must be visible before the driver can see the new used->idx. */
	__atomic_store_n(ring16(vq->used_hva, USED_IDX), htole16(vq->used_idx), __ATOMIC_RELEASE);
}

int virtq_push(struct virtq *vq, const struct virtq_elem *elem, uint32_t written)
{
	int ret = virtq_push_deferred(vq, elem, written);

	if (ret == 0)
		virtq_publish(vq);
	return ret;
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old, event, flags;
	bool valid;

	if (!vq->ready || !virtq_rings(vq))
		return false;
	/*
	 * Full fence: our used->idx store must be globally visible before we
	 * read used_event / avail->flags, or the driver may have just re-armed
	 * interrupts after reading the old used->idx, and both sides would
	 * wait (the store->load order a release/acquire pair does not give).
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx) {
		flags =
		    le16toh(__atomic_load_n(ring16(vq->avail_hva, AVAIL_FLAGS), __ATOMIC_RELAXED));
		return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	old = vq->signalled_used;
	valid = vq->signalled_used_valid;
	vq->signalled_used = vq->used_idx;
	vq->signalled_used_valid = true;
	if (!valid)
		return true;
	event =
	    le16toh(__atomic_load_n(ring16(vq->avail_hva, USED_EVENT(vq->size)), __ATOMIC_RELAXED));
	/* 2.7.10: interrupt iff used_event lies in [old, new), mod 2^16. */
	return (uint16_t)(vq->used_idx - event - 1) < (uint16_t)(vq->used_idx - old);
}

void virtq_disable_notify(struct virtq *vq)
{
	if (!vq->ready || !virtq_rings(vq))
		return;
	vq->notify_off = true;
	/* With EVENT_IDX, leaving avail_event behind is the suppression. */
	if (!vq->event_idx)
		__atomic_store_n(ring16(vq->used_hva, USED_FLAGS), htole16(VIRTQ_USED_F_NO_NOTIFY),
				 __ATOMIC_RELAXED);
}

bool virtq_enable_notify(struct virtq *vq)
{
	uint16_t avail_idx;

	if (!vq->ready || !virtq_rings(vq))
		return false;
	vq->notify_off = false;
	if (vq->event_idx)
		set_avail_event(vq, vq->last_avail);
	else
		__atomic_store_n(ring16(vq->used_hva, USED_FLAGS), 0, __ATOMIC_RELAXED);
	/*
	 * Full fence: the re-enable must be visible before we look at
	 * avail->idx again; otherwise a buffer the driver added without a kick
	 * (it still saw notifications off) would sit in the ring unserved.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail_idx = le16toh(__atomic_load_n(ring16(vq->avail_hva, AVAIL_IDX), __ATOMIC_ACQUIRE));
	return avail_idx != vq->last_avail;
}

void virtq_reset(struct virtq *vq)
{
	struct dma_space *dma = vq->dma;
	uint16_t size = vq->size;

	memset(vq, 0, sizeof(*vq));
	vq->dma = dma;
	vq->size = size;
}

size_t virtq_iov_to_buf(const struct iovec *iov, unsigned n, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

		memcpy(p + done, iov[i].iov_base, l);
		done += l;
	}
	return done;
}

size_t virtq_iov_from_buf(const struct iovec *iov, unsigned n, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

		memcpy(iov[i].iov_base, p + done, l);
		done += l;
	}
	return done;
}
