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
#include "log.h"
#include "virtio_pci.h"

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM	    0
#define VIRTIO_NET_F_GUEST_CSUM	    1
#define VIRTIO_NET_F_MTU	    3
#define VIRTIO_NET_F_MAC	    5
#define VIRTIO_NET_F_GUEST_TSO4	    7
#define VIRTIO_NET_F_GUEST_TSO6	    8
#define VIRTIO_NET_F_GUEST_ECN	    9
#define VIRTIO_NET_F_GUEST_UFO	    10
#define VIRTIO_NET_F_HOST_TSO4	    11
#define VIRTIO_NET_F_HOST_TSO6	    12
#define VIRTIO_NET_F_HOST_ECN	    13
#define VIRTIO_NET_F_HOST_UFO	    14
#define VIRTIO_NET_F_MRG_RXBUF	    15
#define VIRTIO_NET_F_STATUS	    16
#define VIRTIO_NET_F_CTRL_VQ	    17
#define VIRTIO_NET_F_CTRL_RX	    18
#define VIRTIO_NET_F_CTRL_VLAN	    19
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ		    22
#define VIRTIO_NET_F_CTRL_MAC_ADDR  23

/* Device config (5.1.4), byte offsets. */
#define VIRTIO_NET_CFG_MAC	    0
#define VIRTIO_NET_CFG_STATUS	    6
#define VIRTIO_NET_CFG_MAX_VQ_PAIRS 8
#define VIRTIO_NET_CFG_MTU	    10
#define VIRTIO_NET_CFG_SIZE	    12
#define VIRTIO_NET_S_LINK_UP	    1

/* struct virtio_net_hdr_v1 (5.1.6): offsets and values. */
#define VIRTIO_NET_HDR_LEN	    12
#define VIRTIO_NET_HDR_FLAGS	    0
#define VIRTIO_NET_HDR_GSO_TYPE	    1
#define VIRTIO_NET_HDR_HDR_LEN	    2
#define VIRTIO_NET_HDR_GSO_SIZE	    4
#define VIRTIO_NET_HDR_CSUM_START   6
#define VIRTIO_NET_HDR_CSUM_OFFSET  8
#define VIRTIO_NET_HDR_NUM_BUFFERS  10
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE	    0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_UDP	    3
#define VIRTIO_NET_HDR_GSO_TCPV6    4
#define VIRTIO_NET_HDR_GSO_ECN	    0x80

/* Control queue (5.1.6.5). */
#define VIRTIO_NET_OK			0
#define VIRTIO_NET_ERR			1
#define VIRTIO_NET_CTRL_RX		0
#define VIRTIO_NET_CTRL_RX_PROMISC	0
#define VIRTIO_NET_CTRL_RX_ALLMULTI	1
#define VIRTIO_NET_CTRL_MAC		1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET	0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET	1
#define VIRTIO_NET_CTRL_MQ		4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN 1
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX 0x8000

/* Largest frame either way: header + 64 KiB GSO payload + Ethernet/VLAN headers. */
#define VIRTIO_NET_MAX_FRAME	   65562
#define VIRTIO_NET_QUEUE_SIZE	   256
#define VIRTIO_NET_MAX_IOV	   256	/* descriptors of one chain */
#define VIRTIO_NET_IOV_POOL	   2048 /* per pair and direction: several chains' iovecs */
#define VIRTIO_NET_TX_BATCH	   64
#define VIRTIO_NET_CTRL_MAX	   4096 /* bytes of a control command (class + cmd + data) */
#define VIRTIO_NET_MAX_QUEUE_PAIRS 8

#define VIRTIO_NET_TAP_NAME_MAX	       16  /* IFNAMSIZ */
#define VIRTIO_NET_VHOST_USER_PATH_MAX 108 /* sockaddr_un.sun_path */

/*
 * One --net (parsed by the machine layer, vmm-core/machine/): virtio-net on
 * a host TAP interface (virtio_net.c), or, with vhost_user set, on a
 * vhost-user backend (vhost_user_net.c).
 */
struct virtio_net_conf {
	char tap[VIRTIO_NET_TAP_NAME_MAX]; /* interface name, NUL-terminated */
	uint8_t mac[6];
	bool mac_set;		  /* else the device derives a locally administered MAC */
	unsigned num_queue_pairs; /* 1..VIRTIO_NET_MAX_QUEUE_PAIRS: one RX + one TX queue each */
	char vhost_user[VIRTIO_NET_VHOST_USER_PATH_MAX]; /* backend socket path; "" for a TAP */
	bool vhost_user_server;				 /* sluice listens, the backend connects */
};

/* What TX header validation decided for one chain. */
enum virtio_net_tx_verdict {
	VIRTIO_NET_TX_OK,     /* write it to the TAP */
	VIRTIO_NET_TX_DROP,   /* a header the negotiated features do not allow: drop the frame */
	VIRTIO_NET_TX_BROKEN, /* not a frame at all: the queue needs a reset */
};

/*
 * TX chain check, on a copy of its first bytes: hdr holds min(frame_len,
 * VIRTIO_NET_HDR_LEN) bytes, frame_len is the chain's readable total
 * (header included). *why says what was wrong.
 */
enum virtio_net_tx_verdict virtio_net_tx_check(const uint8_t *hdr, size_t frame_len,
					       uint64_t features, const char **why);

/*
 * Control command parser: cmd[0, len) is class, command and data (the ack
 * byte excluded). Returns VIRTIO_NET_OK or VIRTIO_NET_ERR; for an accepted
 * VQ_PAIRS_SET *pairs is the new count (else it is left alone).
 */
uint8_t virtio_net_ctrl_parse(const uint8_t *cmd, size_t len, uint64_t features, unsigned max_pairs,
			      unsigned *pairs, const char **why);

/*
 * The control queue, served in the VMM for every virtio-net backend (TAP,
 * vhost-user): chains are framed and parsed here, the accepted VQ_PAIRS_SET
 * goes to set_pairs (nonzero: answered VIRTIO_NET_ERR). vdev->lock held.
 */
#define VIRTIO_NET_CTRL_LOG_LIMIT 16 /* refused commands logged per device */
struct virtio_net_ctrl {
	struct log_dev log; /* the device: "virtio-net TAP", "vhost-user-net PATH" */
	unsigned max_pairs;
	int (*set_pairs)(void *opaque, unsigned pairs);
	void *opaque;
	unsigned bad_logged;
	struct iovec iov[VIRTIO_NET_MAX_IOV];
	uint8_t buf[VIRTIO_NET_CTRL_MAX];
};
void virtio_net_ctrl_serve(struct virtio_net_ctrl *c, struct virtio_pci_dev *vdev, unsigned q);

/* The MAC of tap name when none is configured: locally administered, unicast. */
void virtio_net_default_mac(const char *tap, uint8_t mac[6]);

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
