/* SPDX-License-Identifier: MIT */
/*
 * virtio-net whose data path is a vhost-user backend (--net vhost_user=).
 *
 * The VMM keeps the PCI function, the config space (MAC, link status,
 * max_virtqueue_pairs) and the control queue; the backend gets guest RAM
 * (the memfd, SET_MEM_TABLE), each RX/TX ring's host addresses, the
 * queue's kick eventfd (the transport's KVM ioeventfd) and its MSI-X vector
 * eventfd (an irqfd), so no packet and no notification crosses the VMM.
 * The one exception: with several queue pairs, queue 2 is rx1 or the
 * control queue depending on VIRTIO_NET_F_MQ, so the VMM keeps its kick and
 * forwards it to the backend when it is rx1.
 *
 * The backend's features are read when sluice starts (it waits for the
 * backend then: client mode tries once a second for
 * VHOST_USER_NET_CONNECT_TRIES seconds, server mode waits for it to
 * connect); the guest is offered those it can pass through plus what the
 * VMM serves itself (MAC, STATUS, CTRL_VQ, CTRL_RX, MQ).
 *
 * Backend lost (EOF, a bad or missing reply): the link goes down (config
 * interrupt) and the guest runs on. Client mode reconnects once a second
 * (a timerfd on the event loop), server mode accepts the next connection.
 * A new backend is negotiated again and, if the driver is running, gets
 * the rings back at the used index in guest memory (SET_VRING_BASE), then
 * the link comes up. A new backend that lacks a feature the guest was
 * offered is refused.
 *
 * Threads: everything runs under vdev->lock, from the vCPUs (activate,
 * reset, control queue, vector changes) or the event loop (socket, timer,
 * listen fd). Only the event loop adds or removes event loop fds.
 */
#ifndef SLUICE_VHOST_USER_NET_H
#define SLUICE_VHOST_USER_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vhost_user_frontend.h"
#include "virtio_net_common.h"
#include "virtio_pci.h"

#define VHOST_USER_NET_CONNECT_TRIES   10   /* client mode, at start: one a second */
#define VHOST_USER_NET_RECONNECT_MS    1000 /* client mode, after a loss */
#define VHOST_USER_NET_QUEUE_SIZE      1024 /* largest ring the driver may choose */
#define VHOST_USER_NET_MAX_DATA_QUEUES (2 * VIRTIO_NET_MAX_QUEUE_PAIRS)

struct vhost_user_net {
	struct virtio_pci_dev vdev;
	struct log_dev log; /* "vhost-user-net PATH" */
	struct vhost_user_frontend fe;
	struct dma_space *dma;
	struct evloop *loop;
	uint8_t mac[6];
	unsigned max_pairs;
	int timer_fd;	 /* client mode: reconnect tick */
	int rx1_kick_fd; /* rx1's kick when queue 2 is forwarded (max_pairs > 1) */
	int watched_fd;	 /* the socket fd in the event loop, or -1 */
	bool initialised;

	/* Under vdev->lock: */
	uint64_t backend_features; /* of the first backend: what the guest was offered */
	bool active;		   /* DRIVER_OK and not reset since */
	bool running;		   /* rings handed to the current backend */
	unsigned cur_pairs;	   /* VQ_PAIRS_SET */
	uint32_t started;	   /* data queues given to the backend (bit per queue) */
	uint8_t config[VIRTIO_NET_CFG_SIZE];
	struct virtio_net_ctrl ctrl;

	/*
	 * Guest RAM as the DMA space maps it, collected by ram_listener: the
	 * SET_MEM_TABLE regions (userspace_addr = our HVA) and their fds.
	 * Under ram_lock (a leaf: taken under the space's mutex or vdev->lock).
	 * A change while a backend runs reaches it at its next start.
	 */
	struct dma_listener ram_listener;
	pthread_mutex_t ram_lock;
	struct vhost_user_memory ram;
	int ram_fds[VHOST_USER_MAX_REGIONS];
};

/*
 * Connect to (or wait for) the backend of cfg->vhost_user, negotiate, and
 * build the device, ready to be added to the PCI root (net->vdev.pci).
 * Guest RAM must have an fd the backend can map (every mapping env->dma
 * announces must carry one, see guest_mem_has_fd): without one, -EINVAL and
 * one error line, before the backend is contacted.
 */
int vhost_user_net_init(struct vhost_user_net *net, const struct virtio_net_conf *cfg,
			const struct virtio_env *env);
void vhost_user_net_destroy(struct vhost_user_net *net);

/* Is the backend connected and negotiated (the link is up)? */
bool vhost_user_net_link_up(struct vhost_user_net *net);

#endif
