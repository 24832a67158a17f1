/* SPDX-License-Identifier: MIT */
/*
 * virtio-net definitions shared by both NIC backends: the TAP device
 * (virtio_net.c) and the vhost-user device (vhost_user_net.c). Feature bits,
 * config and header layout, the --net configuration, the TX header check,
 * the control-queue parser and server (implemented in virtio_net.c), and the
 * default MAC.
 */
#ifndef SLUICE_VIRTIO_NET_COMMON_H
#define SLUICE_VIRTIO_NET_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
