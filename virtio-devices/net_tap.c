/* SPDX-License-Identifier: MIT */
#include "net_tap.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define NET_TAP_DEV "/dev/net/tun"

static int net_tap_open_queue(struct net_tap *tap, const char *name, unsigned q)
{
	struct ifreq ifr;
	int fd, hdr_len = NET_TAP_VNET_HDR_LEN, err;
	unsigned features = 0;

	fd = open(NET_TAP_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		log_err("net-tap: %s: open %s: %s", name, NET_TAP_DEV, strerror(err));
		return -err;
	}
	if (q == 0 && ioctl(fd, TUNGETFEATURES, &features) == 0 &&
	    (!(features & IFF_VNET_HDR) || (tap->multi_queue && !(features & IFF_MULTI_QUEUE)))) {
		log_err("net-tap: %s: the kernel's TUN driver lacks %s", name,
			!(features & IFF_VNET_HDR) ? "IFF_VNET_HDR" : "IFF_MULTI_QUEUE");
		close(fd);
		return -EOPNOTSUPP;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (tap->multi_queue)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = errno;
		log_err("net-tap: %s: TUNSETIFF (queue %u%s): %s%s", name, q,
			tap->multi_queue ? ", multi-queue" : "", strerror(err),
			err == EINVAL ? " (an existing TAP with another queue mode or without "
					"vnet_hdr?)"
				      : "");
		close(fd);
		return -err;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		err = errno;
		log_err("net-tap: %s: TUNSETVNETHDRSZ %d: %s", name, hdr_len, strerror(err));
		close(fd);
		return -err;
	}
	if (q == 0)
		memcpy(tap->name, ifr.ifr_name, sizeof(tap->name));
	tap->fds[q] = fd;
	return 0;
}

int net_tap_open(struct net_tap *tap, const char *name, unsigned nr_queues)
{
	int ret;

	memset(tap, 0, sizeof(*tap));
	for (unsigned q = 0; q < NET_TAP_MAX_QUEUES; q++)
		tap->fds[q] = -1;
	if (!name || !name[0] || strnlen(name, IFNAMSIZ) >= IFNAMSIZ) {
		log_err("net-tap: interface name must be 1..%d characters", IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (!nr_queues || nr_queues > NET_TAP_MAX_QUEUES) {
		log_err("net-tap: %s: %u queues, out of 1..%d", name, nr_queues,
			NET_TAP_MAX_QUEUES);
		return -EINVAL;
	}
	tap->multi_queue = nr_queues > 1;
	for (unsigned q = 0; q < nr_queues; q++) {
		if ((ret = net_tap_open_queue(tap, name, q))) {
			net_tap_close(tap);
			return ret;
		}
		tap->nr_queues = q + 1;
	}
	return 0;
}

void net_tap_close(struct net_tap *tap)
{
	for (unsigned q = 0; q < NET_TAP_MAX_QUEUES; q++) {
		if (tap->fds[q] >= 0)
			close(tap->fds[q]);
		tap->fds[q] = -1;
	}
	tap->nr_queues = 0;
}

int net_tap_set_offload(struct net_tap *tap, unsigned tun_flags)
{
	int err;

	/* A device-wide setting: any queue's fd carries it. */
	if (ioctl(tap->fds[0], TUNSETOFFLOAD, (unsigned long)tun_flags) < 0) {
		err = errno;
		log_err("net-tap: %s: TUNSETOFFLOAD 0x%x: %s", tap->name, tun_flags, strerror(err));
		return -err;
	}
	return 0;
}

int net_tap_set_queue_enabled(struct net_tap *tap, unsigned q, bool enabled)
{
	struct ifreq ifr;
	int err;

	if (q >= tap->nr_queues)
		return -EINVAL;
	if (!tap->multi_queue)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	if (ioctl(tap->fds[q], TUNSETQUEUE, &ifr) < 0) {
		err = errno;
		/* Attaching an attached queue (or detaching a detached one) is EINVAL: no change.
		 */
		if (err == EINVAL)
			return 0;
		log_err("net-tap: %s: %s queue %u: %s", tap->name, enabled ? "attach" : "detach", q,
			strerror(err));
		return -err;
	}
	return 0;
}

ssize_t net_tap_read(const struct net_tap *tap, unsigned q, void *buf, size_t len)
{
	for (;;) {
		ssize_t r = read(tap->fds[q], buf, len);

		if (r >= 0)
			return r;
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

ssize_t net_tap_writev(const struct net_tap *tap, unsigned q, const struct iovec *iov, unsigned n)
{
	for (;;) {
		ssize_t r = writev(tap->fds[q], iov, (int)n);

		if (r >= 0)
			return r;
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}
