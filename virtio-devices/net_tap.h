/* SPDX-License-Identifier: MIT */
/*
 * A host TAP interface as a virtio-net back end (Linux TUN/TAP,
 * Documentation/networking/tuntap.rst): one nonblocking file descriptor per
 * queue (IFF_MULTI_QUEUE when there is more than one), every frame preceded
 * by a 12-byte vnet header (IFF_VNET_HDR + TUNSETVNETHDRSZ) that has the
 * layout of struct virtio_net_hdr_v1, so the guest's header passes straight
 * through and the kernel's comes straight back. The kernel fills only the
 * first 10 bytes of a received header; num_buffers is the device's.
 *
 * Opening a name that does not exist creates a transient interface (needs
 * CAP_NET_ADMIN); an existing persistent one (ip tuntap add ... vnet_hdr
 * [multi_queue]) must match the single/multi-queue mode.
 */
#ifndef SLUICE_NET_TAP_H
#define SLUICE_NET_TAP_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#define NET_TAP_VNET_HDR_LEN 12
#define NET_TAP_MAX_QUEUES   16

struct net_tap {
	char name[IFNAMSIZ]; /* as the kernel named it */
	unsigned nr_queues;
	bool multi_queue;
	int fds[NET_TAP_MAX_QUEUES]; /* -1 when closed */
};

/* Open (or create) TAP name with nr_queues queues (1..NET_TAP_MAX_QUEUES). */
int net_tap_open(struct net_tap *tap, const char *name, unsigned nr_queues);
void net_tap_close(struct net_tap *tap);

/* TUNSETOFFLOAD: TUN_F_* bits the guest can take in received frames. */
int net_tap_set_offload(struct net_tap *tap, unsigned tun_flags);

/* Multi-queue only: let the kernel steer frames to queue q, or stop it (TUNSETQUEUE). */
int net_tap_set_queue_enabled(struct net_tap *tap, unsigned q, bool enabled);

/*
 * One frame (vnet header first) into buf: its length, -EAGAIN when none is
 * waiting, or another -errno.
 */
ssize_t net_tap_read(const struct net_tap *tap, unsigned q, void *buf, size_t len);

/* One frame (vnet header first) from iov: bytes written, -EAGAIN when the queue is full, or -errno.
 */
ssize_t net_tap_writev(const struct net_tap *tap, unsigned q, const struct iovec *iov, unsigned n);

#endif
