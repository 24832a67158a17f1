/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2 section 5.2) on a raw image file.
 *
 * The event loop (queue_notify, vdev->lock held) pops each chain, checks
 * its framing (a 16-byte header in the readable buffers, a status byte at
 * the end of the writable ones: anything else breaks the queue through the
 * virtqueue error path) and hands it to the queue's worker thread. The
 * worker does the file I/O on the chain's iovecs (guest RAM never moves, so
 * they stay valid), writes the status byte, then pushes the chain under
 * vdev->lock. A reset discards queued requests, waits for the ones being
 * served, and bumps a generation so their completions are dropped.
 */
#ifndef SLUICE_VIRTIO_BLK_H
#define SLUICE_VIRTIO_BLK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "virtio_pci.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX	  1
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_MQ		  12
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status (5.2.6). */
#define VIRTIO_BLK_T_IN		  0
#define VIRTIO_BLK_T_OUT	  1
#define VIRTIO_BLK_T_FLUSH	  4
#define VIRTIO_BLK_T_GET_ID	  8
#define VIRTIO_BLK_T_DISCARD	  11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK		  0
#define VIRTIO_BLK_S_IOERR	  1
#define VIRTIO_BLK_S_UNSUPP	  2

#define VIRTIO_BLK_WZ_F_UNMAP 1 /* write-zeroes segment flag */

/* Device config layout (5.2.4), byte offsets. */
#define VIRTIO_BLK_CFG_CAPACITY		0
#define VIRTIO_BLK_CFG_SEG_MAX		12
#define VIRTIO_BLK_CFG_BLK_SIZE		20
#define VIRTIO_BLK_CFG_NUM_QUEUES	34
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECT 36
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG	40
#define VIRTIO_BLK_CFG_DISCARD_ALIGN	44
#define VIRTIO_BLK_CFG_MAX_WZ_SECT	48
#define VIRTIO_BLK_CFG_MAX_WZ_SEG	52
#define VIRTIO_BLK_CFG_WZ_MAY_UNMAP	56
#define VIRTIO_BLK_CFG_SIZE		60

#define VIRTIO_BLK_SECTOR	    512
#define VIRTIO_BLK_QUEUE_SIZE	    256
#define VIRTIO_BLK_SEG_MAX	    126 /* data buffers; + header + status fit max_iov */
#define VIRTIO_BLK_MAX_IOV	    (VIRTIO_BLK_SEG_MAX + 2)
#define VIRTIO_BLK_MAX_QUEUES	    16
#define VIRTIO_BLK_MAX_DISCARD_SECT (1U << 22) /* 2 GiB per segment */
#define VIRTIO_BLK_MAX_DISCARD_SEG  16
#define VIRTIO_BLK_ID_BYTES	    20
#define VIRTIO_BLK_PATH_MAX	    1024

/* One --disk (parsed by the machine layer, vmm-core/machine/). */
struct virtio_blk_conf {
	char path[VIRTIO_BLK_PATH_MAX]; /* raw image */
	bool readonly;
	unsigned num_queues; /* 1..VIRTIO_BLK_MAX_QUEUES */
};

struct virtio_blk;
struct virtio_blk_req;

struct virtio_blk_queue {
	struct virtio_blk *blk;
	unsigned index;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock; /* protects head/tail, busy, stop; taken after vdev->lock */
	pthread_cond_t cond;
	struct virtio_blk_req *head, *tail; /* waiting for the worker */
	unsigned busy;			    /* requests the worker is serving */
	bool stop;
	struct iovec scratch[VIRTIO_BLK_MAX_IOV]; /* virtq_pop's target (event loop only) */
};

struct virtio_blk {
	struct virtio_pci_dev vdev;
	struct log_dev log; /* "virtio-blk" */
	int fd;
	bool readonly;
	uint64_t capacity; /* 512-byte sectors */
	char id[VIRTIO_BLK_ID_BYTES];
	uint64_t generation; /* bumped at reset, under vdev->lock */
	unsigned nr_queues;
	struct virtio_blk_queue queues[VIRTIO_BLK_MAX_QUEUES];
	uint8_t config[VIRTIO_BLK_CFG_SIZE];
};

/*
 * Open path (read-only if readonly) and build the device with num_queues
 * request queues (1..VIRTIO_BLK_MAX_QUEUES), ready to be added to the PCI
 * root (blk->vdev.pci).
 */
int virtio_blk_init(struct virtio_blk *blk, const char *path, bool readonly, unsigned num_queues,
		    const struct virtio_env *env);
void virtio_blk_destroy(struct virtio_blk *blk);

#endif
