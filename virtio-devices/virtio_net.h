/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.2 section 5.1) on a host TAP interface.
 *
 * Queues: rx0, tx0, rx1, tx1, ..., then the control queue (index 2N with
 * VIRTIO_NET_F_MQ, else 2). Each queue pair has a worker thread and its own
 * TAP queue fd; the vCPUs and the event loop never touch packet data. A kick
 * reaches the event loop (the transport's ioeventfd), whose queue_notify
 * only signals the pair's rx or tx eventfd; the worker epolls on those and
 * on its TAP fd.
 *
 * TX: the worker pops a batch of chains under vdev->lock, writes each to the
 * TAP (its 12-byte virtio_net_hdr_v1 becomes the TAP's vnet header) without
 * the lock, then pushes the batch. RX: the worker reads a frame into the
 * pair's bounce buffer, then under vdev->lock copies it into one chain (or,
 * with MRG_RXBUF, as many as it needs, num_buffers in the header) and pushes
 * them. Without buffers it holds the frame, stops reading the TAP and waits
 * for an rx kick, so the kernel queues (or drops, by its own policy) rather
 * than the device.
 *
 * The control queue is served on the event loop (queue_notify): commands
 * are small and change device state (the active queue pairs).
 *
 * Reset (vdev->lock held) bumps a generation, waits until no worker is
 * writing a popped TX batch, and stops the workers reading the TAP until the
 * next DRIVER_OK; completions from before the reset are dropped.
 */
#ifndef SLUICE_VIRTIO_NET_H
#define SLUICE_VIRTIO_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net_tap.h"
#include "virtio_net_common.h"

struct virtio_net;

struct virtio_net_chain {
	struct virtq_elem elem;
	uint32_t written; /* RX: bytes placed */
	bool drop;	  /* TX: a frame the header check refused */
};

struct virtio_net_pair {
	struct virtio_net *net;
	unsigned index;
	pthread_t thread;
	bool thread_started;
	int epfd;
	int rx_efd, tx_efd, ctl_efd; /* rx kick, tx kick, state change / stop */
	int tx_kick_fd;		     /* the TX queue's ioeventfd (the transport owns it) */
	uint32_t tap_events;	     /* what epfd watches on the TAP fd now */
	pthread_mutex_t lock;	     /* busy, stop; taken after vdev->lock */
	pthread_cond_t cond;
	bool busy; /* writing a popped TX batch to the TAP without vdev->lock */
	bool stop;

	/* Worker thread only. */
	bool tx_blocked;     /* the TAP said EAGAIN: wait for EPOLLOUT */
	bool rx_starved;     /* a frame waits for rx buffers */
	size_t rx_len;	     /* bytes of the pending frame in rx_buf, 0: none */
	uint64_t rx_gen;     /* device generation when it was read */
	uint8_t *rx_buf;     /* VIRTIO_NET_MAX_FRAME + slack */
	unsigned bad_logged; /* hostile-frame log lines so far (bounded) */
	struct virtio_net_chain rx_chains[VIRTIO_NET_QUEUE_SIZE];
	struct virtio_net_chain tx_chains[VIRTIO_NET_TX_BATCH];
	struct iovec rx_iov[VIRTIO_NET_IOV_POOL];
	struct iovec tx_iov[VIRTIO_NET_IOV_POOL];
};

struct virtio_net {
	struct virtio_pci_dev vdev;
	struct log_dev log; /* "virtio-net" (lines name the TAP themselves) */
	struct net_tap tap;
	uint8_t mac[6];
	unsigned max_pairs;
	/* Under vdev->lock: */
	bool active;	    /* DRIVER_OK and not reset since */
	unsigned cur_pairs; /* pairs the driver uses (VQ_PAIRS_SET); RX only on these */
	uint64_t generation;
	uint8_t config[VIRTIO_NET_CFG_SIZE];
	struct virtio_net_ctrl ctrl; /* event loop */
	struct virtio_net_pair pairs[VIRTIO_NET_MAX_QUEUE_PAIRS];
};

/*
 * Open cfg->tap with cfg->num_queue_pairs queues and build the device, ready
 * to be added to the PCI root (net->vdev.pci). The workers start here and
 * idle until the driver sets DRIVER_OK.
 */
int virtio_net_init(struct virtio_net *net, const struct virtio_net_conf *cfg,
		    const struct virtio_env *env);
void virtio_net_destroy(struct virtio_net *net);

#endif
