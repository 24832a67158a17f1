/* SPDX-License-Identifier: MIT */
/*
 * DMA address spaces: the memory a device sees.
 *
 * A device is handed bus addresses (IOVAs) by its driver: descriptor
 * buffers, ring addresses. A struct dma_space says what an IOVA means for
 * that device. Today every device uses the identity space over guest RAM
 * (IOVA == GPA, dma_space_identity_init); a vIOMMU will give each device
 * behind it a space of its own, filled by the guest's IOMMU mappings. Only
 * device DMA goes through a space: boot loaders, ACPI and the page walker
 * are CPU-side accesses and keep using guest RAM (guest_mem.h) directly.
 *
 * Two ways to use a space:
 *
 * - translate (dma_translate, dma_ptr, dma_read/dma_write): device models
 *   inside the VMM (virtqueue.c for every virtio device) turn an IOVA range
 *   into host iovecs at the moment they access it. A range contiguous in
 *   IOVA may be several host ranges (a vIOMMU maps page by page), so callers
 *   bound and count iovecs after translation.
 *
 * - listeners (dma_listener_register): DMA done outside the VMM (a VFIO
 *   container programming the host IOMMU, a vhost-user backend mapping
 *   guest memory by fd) needs to know the mappings themselves. A listener
 *   is told of every mapping that exists when it registers (the identity
 *   space: each guest RAM region) and then of each map and unmap as they
 *   happen. Device models that cache a translation (a virtqueue's ring
 *   pointers) listen for unmaps to drop it.
 *
 * Host addresses a space hands out always point into guest RAM, which stays
 * mapped for the VM's lifetime: a translation used after an unmap reaches
 * guest memory the IOVA no longer names (like in-flight DMA on hardware
 * before an IOTLB invalidation completes), never freed host memory.
 *
 * Threads: translate is called from vCPU threads, the event loop and device
 * worker threads at the same time and takes no lock; the identity space is
 * immutable after init, so that is trivially safe. A mutable space (the
 * vIOMMU) must keep translate safe against concurrent map/unmap on its own
 * (a reader-writer lock or a generation-checked table) and must announce an
 * unmap (dma_space_notify_unmap) only after translate no longer returns the
 * old mapping, without holding the lock translate takes: a listener may
 * re-translate from its callback, or take a device lock under which that
 * device translates. Listener registration and notifications are
 * serialised by the space's mutex, held while callbacks run: a callback must
 * not register, unregister or notify on the same space. Lock order: the
 * space's mutex, then whatever lock a callback takes (e.g. a virtio
 * device's lock); code holding such a lock must not register or notify.
 */
#ifndef SLUICE_DMA_H
#define SLUICE_DMA_H

#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

struct guest_mem;
struct dma_space;

/* Who moves the bytes: a vIOMMU checks the mapping's permission for it. */
enum dma_direction {
	DMA_TO_DEVICE,	   /* the device reads guest memory */
	DMA_FROM_DEVICE,   /* the device writes guest memory */
	DMA_BIDIRECTIONAL, /* both */
};

/* One mapping as listeners see it: [iova, iova + size) is host memory at hva. */
struct dma_region {
	uint64_t iova;
	uint64_t size;
	uint8_t *hva;	    /* contiguous for size bytes */
	int fd;		    /* file backing hva, to share the pages (vhost-user), or -1 */
	uint64_t fd_offset; /* offset of hva in fd */
};

struct dma_space_ops {
	/*
	 * [iova, iova + len) as host iovecs, in order, covering exactly len
	 * bytes, adjacent host ranges merged. Returns the number of iovecs (0
	 * for len 0: the address is not looked at), -EFAULT if any byte is not
	 * mapped for dir (or the range wraps), checked over the whole range
	 * first, else -E2BIG if it takes more than max_iov iovecs. iov[] is
	 * unspecified after an error. Any thread, no locks (see above).
	 */
	int (*translate)(const struct dma_space *space, uint64_t iova, uint64_t len,
			 enum dma_direction dir, struct iovec *iov, unsigned max_iov);
	/*
	 * Call fn for every mapping that exists now, in IOVA order; stops at
	 * and returns fn's first nonzero return. Called with the space's mutex
	 * held (listener registration).
	 */
	int (*for_each)(const struct dma_space *space,
			int (*fn)(void *arg, const struct dma_region *r), void *arg);
};

/*
 * Told of mappings (see above). Both callbacks are optional; they run with
 * the space's mutex held. The owner embeds the listener and finds itself
 * with container_of.
 */
struct dma_listener {
	/* A range became mapped. Nonzero: refused (registration fails with it). */
	int (*map)(struct dma_listener *l, const struct dma_region *r);
	/* [iova, iova + size) no longer means what it did: drop what was derived from it. */
	void (*unmap)(struct dma_listener *l, uint64_t iova, uint64_t size);
	struct dma_listener *next; /* the space's list */
};

struct dma_space {
	const struct dma_space_ops *ops;
	void *opaque;	      /* the implementation's (identity: the struct guest_mem) */
	pthread_mutex_t lock; /* the listener list; held while notifying */
	struct dma_listener *listeners;
};

/*
 * The identity space over guest RAM: IOVA == GPA, every RAM region mapped
 * read-write, nothing else. gm must outlive the space and not change.
 */
int dma_space_identity_init(struct dma_space *space, struct guest_mem *gm);

/* For other implementations (the vIOMMU; tests): a space with ops over opaque. */
int dma_space_init(struct dma_space *space, const struct dma_space_ops *ops, void *opaque);

/* No listener may be registered any more. Safe on a zeroed struct. */
void dma_space_destroy(struct dma_space *space);

static inline int dma_translate(const struct dma_space *space, uint64_t iova, uint64_t len,
				enum dma_direction dir, struct iovec *iov, unsigned max_iov)
{
	return space->ops->translate(space, iova, len, dir, iov, max_iov);
}

/*
 * Host pointer for [iova, iova + len) when it is one host range (len 0 is
 * treated as 1); NULL if unmapped or split. For structures the caller
 * accesses in place (rings).
 */
void *dma_ptr(const struct dma_space *space, uint64_t iova, uint64_t len, enum dma_direction dir);

/*
 * Copies for small device accesses: the whole range or nothing. -EFAULT if
 * any byte is unmapped, -E2BIG if it spans more than DMA_RW_MAX_IOV host
 * ranges.
 */
#define DMA_RW_MAX_IOV 8
int dma_read(const struct dma_space *space, uint64_t iova, void *buf, uint64_t len);
int dma_write(const struct dma_space *space, uint64_t iova, const void *buf, uint64_t len);

/*
 * Add l: l->map is called for every current mapping first; if it refuses
 * one, l is not added (and gets no unmap for those it accepted: it undoes
 * its own state) and the error is returned. Main thread, setup time.
 */
int dma_listener_register(struct dma_space *space, struct dma_listener *l);
/* Remove l (no callbacks). Afterwards l may be freed. */
void dma_listener_unregister(struct dma_space *space, struct dma_listener *l);

/*
 * For implementations, after a change is visible to translate: tell every
 * listener. notify_map returns the first listener's refusal (all are told).
 */
int dma_space_notify_map(struct dma_space *space, const struct dma_region *r);
void dma_space_notify_unmap(struct dma_space *space, uint64_t iova, uint64_t size);

#endif
