/* SPDX-License-Identifier: MIT */
#include "virtio_net.h"
#include "log.h"
#include "pci.h"
#include "virtio.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define VIRTIO_NET_RX_BUF    (VIRTIO_NET_MAX_FRAME + 4096) /* kernel frames a bit over */
#define VIRTIO_NET_RX_BUDGET 64 /* frames per wakeup before TX gets a turn */
#define VIRTIO_NET_TX_ROUNDS 4	/* TX batches per wakeup before RX gets a turn */
#define VIRTIO_NET_LOG_LIMIT 16 /* hostile-frame log lines per pair */

/* epoll tags of a worker's fds. */
enum {
	VIRTIO_NET_EV_TAP,
	VIRTIO_NET_EV_RX,
	VIRTIO_NET_EV_TX,
	VIRTIO_NET_EV_CTL,
	VIRTIO_NET_EV_TX_KICK
};

#define F(bit) VIRTIO_FEATURE(VIRTIO_NET_F_##bit)

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* --- parsers of guest bytes (no device state: also the fuzz target's entry points) --- */

enum virtio_net_tx_verdict virtio_net_tx_check(const uint8_t *hdr, size_t frame_len,
					       uint64_t features, const char **why)
{
	uint8_t flags, gso;
	size_t payload;

	if (frame_len < VIRTIO_NET_HDR_LEN) {
		*why = "tx chain shorter than the 12-byte virtio-net header";
		return VIRTIO_NET_TX_BROKEN;
	}
	if (frame_len > VIRTIO_NET_MAX_FRAME) {
		*why = "tx frame longer than 65562 bytes";
		return VIRTIO_NET_TX_BROKEN;
	}
	payload = frame_len - VIRTIO_NET_HDR_LEN;
	flags = hdr[VIRTIO_NET_HDR_FLAGS];
	gso = hdr[VIRTIO_NET_HDR_GSO_TYPE];
	if (flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		*why = "tx header flags other than NEEDS_CSUM";
		return VIRTIO_NET_TX_DROP;
	}
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t start = get_le16(hdr + VIRTIO_NET_HDR_CSUM_START);
		uint32_t off = get_le16(hdr + VIRTIO_NET_HDR_CSUM_OFFSET);

		if (!(features & F(CSUM))) {
			*why = "tx checksum offload without VIRTIO_NET_F_CSUM";
			return VIRTIO_NET_TX_DROP;
		}
		if (start + off + 2 > payload) {
			*why = "tx checksum field outside the frame";
			return VIRTIO_NET_TX_DROP;
		}
	}
	switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (gso & VIRTIO_NET_HDR_GSO_ECN) {
			*why = "tx ECN bit without a GSO type";
			return VIRTIO_NET_TX_DROP;
		}
		return VIRTIO_NET_TX_OK;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!(features & F(HOST_TSO4))) {
			*why = "tx TCPv4 segmentation without VIRTIO_NET_F_HOST_TSO4";
			return VIRTIO_NET_TX_DROP;
		}
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!(features & F(HOST_TSO6))) {
			*why = "tx TCPv6 segmentation without VIRTIO_NET_F_HOST_TSO6";
			return VIRTIO_NET_TX_DROP;
		}
		break;
	default:
		*why = "tx GSO type not offered";
		return VIRTIO_NET_TX_DROP;
	}
	if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !(features & F(HOST_ECN))) {
		*why = "tx ECN segmentation without VIRTIO_NET_F_HOST_ECN";
		return VIRTIO_NET_TX_DROP;
	}
	if (!(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || !get_le16(hdr + VIRTIO_NET_HDR_GSO_SIZE)) {
		*why = "tx segmentation without NEEDS_CSUM or with gso_size 0";
		return VIRTIO_NET_TX_DROP;
	}
	if (get_le16(hdr + VIRTIO_NET_HDR_HDR_LEN) > payload) {
		*why = "tx segmentation header length beyond the frame";
		return VIRTIO_NET_TX_DROP;
	}
	return VIRTIO_NET_TX_OK;
}

/* MAC_TABLE_SET data: two tables, each a le32 count and that many MACs, nothing after. */
static bool virtio_net_mac_tables_ok(const uint8_t *d, size_t len)
{
	for (int t = 0; t < 2; t++) {
		uint32_t n;

		if (len < 4)
			return false;
		n = get_le32(d);
		d += 4;
		len -= 4;
		if (n > len / 6)
			return false;
		d += (size_t)n * 6;
		len -= (size_t)n * 6;
	}
	return len == 0;
}

uint8_t virtio_net_ctrl_parse(const uint8_t *cmd, size_t len, uint64_t features, unsigned max_pairs,
			      unsigned *pairs, const char **why)
{
	const uint8_t *data = cmd + 2;
	size_t dlen;
	unsigned n;

	if (len < 2) {
		*why = "control command shorter than class and command";
		return VIRTIO_NET_ERR;
	}
	dlen = len - 2;
	switch (cmd[0]) {
	case VIRTIO_NET_CTRL_RX:
		if (!(features & F(CTRL_RX))) {
			*why = "rx-mode command without VIRTIO_NET_F_CTRL_RX";
			return VIRTIO_NET_ERR;
		}
		if (cmd[1] != VIRTIO_NET_CTRL_RX_PROMISC && cmd[1] != VIRTIO_NET_CTRL_RX_ALLMULTI) {
			*why = "rx-mode command not offered";
			return VIRTIO_NET_ERR;
		}
		if (dlen != 1) {
			*why = "rx-mode command data is not one byte";
			return VIRTIO_NET_ERR;
		}
		/* The TAP hands over every frame anyway; the guest's stack filters. */
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MAC:
		if (cmd[1] != VIRTIO_NET_CTRL_MAC_TABLE_SET || !(features & F(CTRL_RX))) {
			*why = "MAC command not offered";
			return VIRTIO_NET_ERR;
		}
		if (!virtio_net_mac_tables_ok(data, dlen)) {
			*why = "MAC table with a wrong size";
			return VIRTIO_NET_ERR;
		}
		return VIRTIO_NET_OK; /* accepted, no filtering (as for promiscuous mode) */
	case VIRTIO_NET_CTRL_MQ:
		if (!(features & F(MQ)) || cmd[1] != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) {
			*why = "multiqueue command not offered";
			return VIRTIO_NET_ERR;
		}
		if (dlen != 2) {
			*why = "VQ_PAIRS_SET data is not two bytes";
			return VIRTIO_NET_ERR;
		}
		n = get_le16(data);
		if (n < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || n > max_pairs) {
			*why = "VQ_PAIRS_SET count out of range";
			return VIRTIO_NET_ERR;
		}
		*pairs = n;
		return VIRTIO_NET_OK;
	default:
		*why = "control class not offered";
		return VIRTIO_NET_ERR;
	}
}

void virtio_net_ctrl_serve(struct virtio_net_ctrl *c, struct virtio_pci_dev *vdev, unsigned q)
{
	struct virtq *vq = virtio_pci_vq(vdev, q);
	struct virtq_elem elem = {.iov = c->iov, .max_iov = VIRTIO_NET_MAX_IOV};
	bool pushed = false;

	while (virtq_pop(vq, &elem) > 0) {
		const char *why = NULL;
		unsigned pairs = 0;
		uint8_t ack;

		if (elem.total_out < 2 || elem.total_in < 1) {
			vq->error = "virtio-net: control chain without class/command or ack byte";
			break;
		}
		virtq_iov_to_buf(elem.iov, elem.nr_out, c->buf, sizeof(c->buf));
		if (elem.total_out > sizeof(c->buf)) {
			ack = VIRTIO_NET_ERR;
			why = "control command longer than 4 KiB";
		} else {
			ack = virtio_net_ctrl_parse(c->buf, elem.total_out, vdev->driver_features,
						    c->max_pairs, &pairs, &why);
		}
		if (ack == VIRTIO_NET_OK && pairs && c->set_pairs(c->opaque, pairs)) {
			ack = VIRTIO_NET_ERR;
			why = "the backend cannot change its queue pairs";
		}
		if (ack != VIRTIO_NET_OK && c->bad_logged < VIRTIO_NET_CTRL_LOG_LIMIT) {
			c->bad_logged++;
			log_dev_warn(&c->log, "control command %u/%u refused: %s%s", c->buf[0],
				     c->buf[1], why,
				     c->bad_logged == VIRTIO_NET_CTRL_LOG_LIMIT
					 ? " (further ones not logged)"
					 : "");
		}
		virtq_iov_from_buf(elem.iov + elem.nr_out, elem.nr_in, &ack, 1);
		if (virtq_push(vq, &elem, 1))
			break;
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_used(vdev, q);
}

void virtio_net_default_mac(const char *tap, uint8_t mac[6])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *p = tap; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	/* 52:54 (locally administered, unicast), then the hash. */
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = (uint8_t)(h >> 24);
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* --- worker side --- */

static void virtio_net_signal(struct virtio_net *net, int efd)
{
	uint64_t one = 1;

	if (efd >= 0 && write(efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_dev_warn(&net->log, "eventfd write: %s", strerror(errno));
}

/* Worker: a guest mistake that costs one frame; logged a bounded number of times. */
static void virtio_net_bad_frame(struct virtio_net_pair *p, const char *what, const char *why)
{
	if (p->bad_logged >= VIRTIO_NET_LOG_LIMIT)
		return;
	p->bad_logged++;
	log_dev_warn(&p->net->log, "%s: pair %u: %s: %s%s", p->net->tap.name, p->index, what, why,
		     p->bad_logged == VIRTIO_NET_LOG_LIMIT ? " (further ones not logged)" : "");
}

static void virtio_net_set_busy(struct virtio_net_pair *p, bool busy)
{
	pthread_mutex_lock(&p->lock);
	p->busy = busy;
	if (!busy)
		pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/*
 * vdev->lock held: pop up to a batch of TX chains and check them. Returns
 * the count; a broken chain sets vq->error and ends the batch before it.
 */
static unsigned virtio_net_tx_pop(struct virtio_net_pair *p, struct virtq *vq, uint64_t features)
{
	unsigned n = 0, used = 0;

	while (n < VIRTIO_NET_TX_BATCH && VIRTIO_NET_IOV_POOL - used >= VIRTIO_NET_MAX_IOV) {
		struct virtio_net_chain *c = &p->tx_chains[n];
		uint8_t hdr[VIRTIO_NET_HDR_LEN];
		const char *why = NULL;
		enum virtio_net_tx_verdict v;

		c->elem.iov = p->tx_iov + used;
		c->elem.max_iov = VIRTIO_NET_MAX_IOV;
		if (virtq_pop(vq, &c->elem) <= 0)
			break;
		if (c->elem.nr_in) {
			vq->error = "virtio-net: tx chain with device-writable buffers";
			virtq_unpop(vq);
			break;
		}
		memset(hdr, 0, sizeof(hdr));
		virtq_iov_to_buf(c->elem.iov, c->elem.nr_out, hdr, sizeof(hdr));
		v = virtio_net_tx_check(hdr, c->elem.total_out, features, &why);
		if (v == VIRTIO_NET_TX_BROKEN) {
			vq->error = why;
			virtq_unpop(vq);
			break;
		}
		c->drop = v == VIRTIO_NET_TX_DROP;
		if (c->drop)
			virtio_net_bad_frame(p, "tx frame dropped", why);
		used += c->elem.nr_out;
		n++;
	}
	return n;
}

/* Worker: serve the TX queue; returns with work left only if the TAP is full. */
static void virtio_net_tx(struct virtio_net_pair *p)
{
	struct virtio_net *net = p->net;
	struct virtio_pci_dev *vdev = &net->vdev;
	unsigned q = 2 * p->index + 1;

	if (p->tx_blocked)
		return;
	for (unsigned round = 0; round < VIRTIO_NET_TX_ROUNDS; round++) {
		struct virtq *vq = virtio_pci_vq(vdev, q);
		unsigned n, sent, tapq;
		uint64_t gen;
		bool broken, more = false;

		pthread_mutex_lock(&vdev->lock);
		if (!net->active) {
			pthread_mutex_unlock(&vdev->lock);
			return;
		}
		gen = net->generation;
		/* A pair the driver no longer uses has its TAP queue detached: send on queue 0. */
		tapq = p->index < net->cur_pairs ? p->index : 0;
		virtq_disable_notify(vq);
		n = virtio_net_tx_pop(p, vq, vdev->driver_features);
		broken = vq->error != NULL;
		if (n)
			virtio_net_set_busy(p, true);
		else if (!broken)
			more = virtq_enable_notify(vq);
		pthread_mutex_unlock(&vdev->lock);

		for (sent = 0; sent < n; sent++) {
			struct virtio_net_chain *c = &p->tx_chains[sent];
			ssize_t r;

			if (c->drop)
				continue;
			r = net_tap_writev(&net->tap, tapq, c->elem.iov, c->elem.nr_out);
			if (r == -EAGAIN && tapq == p->index)
				break;
			if (r < 0)
				virtio_net_bad_frame(p, "tap write failed, frame dropped",
						     strerror((int)-r));
		}
		if (n) {
			virtio_net_set_busy(p, false);
			pthread_mutex_lock(&vdev->lock);
			if (gen == net->generation) {
				for (unsigned i = 0; i < sent; i++)
					virtq_push(vq, &p->tx_chains[i].elem, 0);
				for (unsigned i = sent; i < n; i++)
					virtq_unpop(
					    vq); /* the TAP is full: retry them on EPOLLOUT */
				virtio_pci_queue_used(vdev, q);
				if (sent == n && !broken)
					more = virtq_enable_notify(vq);
			}
			pthread_mutex_unlock(&vdev->lock);
		}
		if (broken)
			virtio_pci_kick(vdev, q); /* the transport sees vq->error: NEEDS_RESET */
		if (sent < n) {
			p->tx_blocked = true;
			return;
		}
		if (!more)
			return;
	}
	virtio_net_signal(p->net, p->tx_efd); /* more to send: after RX has had a turn */
}

/*
 * vdev->lock held: place the pending frame in the RX queue. 1: done (or
 * dropped), 0: not enough buffers (the frame stays), -1: guest error
 * (vq->error set).
 */
static int virtio_net_rx_deliver(struct virtio_net_pair *p)
{
	struct virtio_net *net = p->net;
	struct virtio_pci_dev *vdev = &net->vdev;
	unsigned q = 2 * p->index;
	struct virtq *vq = virtio_pci_vq(vdev, q);
	bool mrg = vdev->driver_features & F(MRG_RXBUF);
	unsigned n = 0, used = 0;
	size_t cap = 0, off = 0, len = p->rx_len;

	if (!vq->ready)
		return 0;
	virtq_disable_notify(vq);
	while (cap < len) {
		struct virtio_net_chain *c = &p->rx_chains[n];
		int r;

		if (n == VIRTIO_NET_QUEUE_SIZE || n == vq->size ||
		    VIRTIO_NET_IOV_POOL - used < VIRTIO_NET_MAX_IOV) {
			for (unsigned i = 0; i < n; i++)
				virtq_unpop(vq);
			virtio_net_bad_frame(p, "rx frame dropped",
					     "it needs more buffers than the queue holds");
			p->rx_len = 0;
			return 1;
		}
		c->elem.iov = p->rx_iov + used;
		c->elem.max_iov = VIRTIO_NET_MAX_IOV;
		r = virtq_pop(vq, &c->elem);
		if (r < 0)
			return -1;
		if (r == 0) {
			if (virtq_enable_notify(vq))
				continue; /* buffers came meanwhile */
			for (unsigned i = 0; i < n; i++)
				virtq_unpop(vq);
			return 0;
		}
		if (c->elem.nr_out) {
			vq->error = "virtio-net: rx chain with device-readable buffers";
			return -1;
		}
		if (c->elem.total_in < VIRTIO_NET_HDR_LEN) {
			vq->error = "virtio-net: rx buffer shorter than the 12-byte header";
			return -1;
		}
		used += c->elem.nr_in;
		cap += c->elem.total_in;
		n++;
		if (!mrg)
			break;
	}
	if (cap < len) {
		virtq_unpop(vq);
		virtio_net_bad_frame(p, "rx frame dropped",
				     "larger than the buffer (no mergeable rx buffers)");
		p->rx_len = 0;
		return 1;
	}
	/* The kernel leaves num_buffers alone (it fills 10 of the 12 header bytes). */
	p->rx_buf[VIRTIO_NET_HDR_NUM_BUFFERS] = (uint8_t)n;
	p->rx_buf[VIRTIO_NET_HDR_NUM_BUFFERS + 1] = (uint8_t)(n >> 8);
	for (unsigned i = 0; i < n; i++) {
		struct virtio_net_chain *c = &p->rx_chains[i];
		size_t want = len - off < c->elem.total_in ? len - off : c->elem.total_in;

		c->written =
		    (uint32_t)virtq_iov_from_buf(c->elem.iov, c->elem.nr_in, p->rx_buf + off, want);
		off += c->written;
	}
	/* All of the frame's buffers appear at once: the driver reads num_buffers first. */
	for (unsigned i = 0; i < n; i++)
		if (virtq_push_deferred(vq, &p->rx_chains[i].elem, p->rx_chains[i].written))
			return -1;
	virtq_publish(vq);
	virtio_pci_queue_used(vdev, q);
	p->rx_len = 0;
	return 1;
}

/* Worker: move frames from the TAP to the RX queue until one side runs dry. */
static void virtio_net_rx(struct virtio_net_pair *p)
{
	struct virtio_net *net = p->net;
	struct virtio_pci_dev *vdev = &net->vdev;

	p->rx_starved = false;
	for (unsigned budget = 0; budget < VIRTIO_NET_RX_BUDGET; budget++) {
		uint64_t gen;
		bool active, on;
		ssize_t r;
		int ret;

		pthread_mutex_lock(&vdev->lock);
		active = net->active;
		on = active && p->index < net->cur_pairs;
		gen = net->generation;
		pthread_mutex_unlock(&vdev->lock);
		/*
		 * A frame read before a reset may carry offloads the new driver did
		 * not accept; one read for a pair the driver dropped has nowhere to go.
		 */
		if (p->rx_len && (p->rx_gen != gen || (active && !on)))
			p->rx_len = 0;
		if (!on) {
			p->rx_starved = true;
			return;
		}
		if (!p->rx_len) {
			r = net_tap_read(&net->tap, p->index, p->rx_buf, VIRTIO_NET_RX_BUF);
			if (r == -EAGAIN || r == -EBADFD)
				return; /* EBADFD: detached by VQ_PAIRS_SET just now */
			if (r < 0) {
				log_dev_err(&net->log, "%s: read from TAP queue %u: %s",
					    net->tap.name, p->index, strerror((int)-r));
				p->rx_starved = true; /* until the next kick: no spinning */
				return;
			}
			if (r < VIRTIO_NET_HDR_LEN)
				continue;
			p->rx_len = (size_t)r;
			p->rx_gen = gen;
		}
		pthread_mutex_lock(&vdev->lock);
		ret = net->active && net->generation == gen ? virtio_net_rx_deliver(p) : 0;
		pthread_mutex_unlock(&vdev->lock);
		if (ret < 0)
			virtio_pci_kick(vdev, 2 * p->index); /* NEEDS_RESET */
		if (ret <= 0) {
			p->rx_starved = true;
			return;
		}
	}
	virtio_net_signal(p->net, p->rx_efd);
}

static void virtio_net_watch_tap(struct virtio_net_pair *p, bool tap_err)
{
	struct epoll_event ev = {.data.u32 = VIRTIO_NET_EV_TAP};
	uint32_t want = 0;
	int fd = p->net->tap.fds[p->index];

	if (!tap_err) {
		if (!p->rx_starved)
			want |= EPOLLIN;
		if (p->tx_blocked)
			want |= EPOLLOUT;
	}
	if (want == p->tap_events)
		return;
	/*
	 * Unwatched means removed: a detached TAP queue polls as EPOLLERR,
	 * which epoll reports whatever the event mask.
	 */
	ev.events = want;
	if (epoll_ctl(p->epfd,
		      !want	       ? EPOLL_CTL_DEL
		      : !p->tap_events ? EPOLL_CTL_ADD
				       : EPOLL_CTL_MOD,
		      fd, &ev) < 0) {
		log_dev_err(&p->net->log, "%s: epoll on TAP queue %u: %s", p->net->tap.name,
			    p->index, strerror(errno));
		return;
	}
	p->tap_events = want;
}

static void virtio_net_drain(struct virtio_net *net, int efd)
{
	uint64_t v;

	if (read(efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_dev_warn(&net->log, "eventfd read: %s", strerror(errno));
}

static void *virtio_net_worker(void *arg)
{
	struct virtio_net_pair *p = arg;

	for (;;) {
		struct epoll_event evs[4];
		bool tap_err = false, stop;
		int n = epoll_wait(p->epfd, evs, 4, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_dev_err(&p->net->log, "pair %u: epoll_wait: %s", p->index,
				    strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case VIRTIO_NET_EV_TAP:
				if (evs[i].events & EPOLLOUT)
					p->tx_blocked = false;
				/* Not ours any more (detached): forget it until the state changes.
				 */
				tap_err = evs[i].events & (EPOLLERR | EPOLLHUP);
				break;
			case VIRTIO_NET_EV_RX:
				virtio_net_drain(p->net, p->rx_efd);
				break;
			case VIRTIO_NET_EV_TX:
				virtio_net_drain(p->net, p->tx_efd);
				break;
			case VIRTIO_NET_EV_TX_KICK:
				virtio_net_drain(p->net, p->tx_kick_fd);
				break;
			case VIRTIO_NET_EV_CTL:
				virtio_net_drain(p->net, p->ctl_efd);
				p->tx_blocked = false; /* reset or new pairs: start over */
				break;
			}
		}
		pthread_mutex_lock(&p->lock);
		stop = p->stop;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			return NULL;
		virtio_net_tx(p);
		virtio_net_rx(p);
		virtio_net_watch_tap(p, tap_err);
	}
}

/* --- event loop / vCPU side (vdev->lock held) --- */

static unsigned virtio_net_ctrl_index(const struct virtio_net *net)
{
	return net->vdev.driver_features & F(MQ) ? 2 * net->max_pairs : 2;
}

static void virtio_net_wake_all(struct virtio_net *net)
{
	for (unsigned i = 0; i < net->max_pairs; i++)
		virtio_net_signal(net, net->pairs[i].ctl_efd);
}

static int virtio_net_set_pairs(struct virtio_net *net, unsigned n)
{
	int ret = 0;

	net->cur_pairs = n;
	for (unsigned i = 0; i < net->max_pairs && !ret; i++)
		ret = net_tap_set_queue_enabled(&net->tap, i, i < n);
	virtio_net_wake_all(net);
	return ret;
}

static int virtio_net_ctrl_set_pairs(void *opaque, unsigned n)
{
	return virtio_net_set_pairs(opaque, n);
}

static void virtio_net_queue_notify(struct virtio_pci_dev *vdev, unsigned q)
{
	struct virtio_net *net = vdev->opaque;
	bool mq = vdev->driver_features & F(MQ);

	if ((vdev->driver_features & F(CTRL_VQ)) && q == virtio_net_ctrl_index(net)) {
		virtio_net_ctrl_serve(&net->ctrl, vdev, q);
		return;
	}
	if (q >= 2 * (mq ? net->max_pairs : 1))
		return; /* a queue the negotiated layout does not use */
	virtio_net_signal(net, q % 2 ? net->pairs[q / 2].tx_efd : net->pairs[q / 2].rx_efd);
}

static int virtio_net_activate(struct virtio_pci_dev *vdev)
{
	struct virtio_net *net = vdev->opaque;
	uint64_t f = vdev->driver_features;
	unsigned tun = 0;
	int ret;

	/* The offloads the guest accepts in received frames, and no others. */
	if (f & F(GUEST_CSUM))
		tun |= TUN_F_CSUM;
	if (f & F(GUEST_TSO4))
		tun |= TUN_F_TSO4;
	if (f & F(GUEST_TSO6))
		tun |= TUN_F_TSO6;
	if ((f & F(GUEST_ECN)) && (tun & (TUN_F_TSO4 | TUN_F_TSO6)))
		tun |= TUN_F_TSO_ECN;
	if ((ret = net_tap_set_offload(&net->tap, tun)))
		return ret;
	/* Until VQ_PAIRS_SET the driver uses the first pair only (5.1.6.5.5). */
	if ((ret = virtio_net_set_pairs(net, 1)))
		return ret;
	net->active = true;
	virtio_net_wake_all(net);
	return 0;
}

static void virtio_net_reset(struct virtio_pci_dev *vdev)
{
	struct virtio_net *net = vdev->opaque;

	net->active = false;
	net->generation++;
	for (unsigned i = 0; i < net->max_pairs; i++) {
		struct virtio_net_pair *p = &net->pairs[i];

		pthread_mutex_lock(&p->lock);
		while (p->busy)
			pthread_cond_wait(&p->cond, &p->lock);
		pthread_mutex_unlock(&p->lock);
	}
	virtio_net_wake_all(net);
}

static const struct virtio_device_ops virtio_net_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .class_code = PCI_CLASS_NETWORK_ETHERNET,
    .queue_notify = virtio_net_queue_notify,
    .reset = virtio_net_reset,
    .activate = virtio_net_activate,
};

/* --- setup --- */

static int virtio_net_pair_init(struct virtio_net *net, unsigned i)
{
	struct virtio_net_pair *p = &net->pairs[i];
	struct epoll_event ev = {.events = EPOLLIN};
	int *efds[] = {&p->rx_efd, &p->tx_efd, &p->ctl_efd};
	int ret;

	p->net = net;
	p->index = i;
	p->rx_starved = true; /* nothing to read into before DRIVER_OK */
	p->rx_buf = malloc(VIRTIO_NET_RX_BUF);
	if (!p->rx_buf) {
		log_dev_err(&net->log, "%s: out of memory for the rx buffer", net->tap.name);
		return -ENOMEM;
	}
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {
		ret = -errno;
		log_dev_err(&net->log, "%s: epoll_create1: %s", net->tap.name, strerror(errno));
		return ret;
	}
	for (unsigned k = 0; k < 3; k++) {
		*efds[k] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ev.data.u32 = VIRTIO_NET_EV_RX + k;
		if (*efds[k] < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, *efds[k], &ev) < 0) {
			ret = -errno;
			log_dev_err(&net->log, "%s: worker eventfd: %s", net->tap.name,
				    strerror(errno));
			return ret;
		}
	}
	if ((ret = -pthread_mutex_init(&p->lock, NULL)))
		goto err;
	if ((ret = -pthread_cond_init(&p->cond, NULL))) {
		pthread_mutex_destroy(&p->lock);
		goto err;
	}
	return 0;
err:
	log_dev_err(&net->log, "%s: cannot create worker locks", net->tap.name);
	return ret;
}

/* Undo virtio_net_pair_init (also a partial one: fds are -1, rx_buf NULL until made). */
static void virtio_net_pair_free(struct virtio_net_pair *p, bool locks)
{
	int *fds[] = {&p->rx_efd, &p->tx_efd, &p->ctl_efd, &p->epfd};

	for (unsigned k = 0; k < 4; k++) {
		if (*fds[k] >= 0)
			close(*fds[k]);
		*fds[k] = -1;
	}
	free(p->rx_buf);
	p->rx_buf = NULL;
	if (locks) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
	}
}

static void virtio_net_stop_workers(struct virtio_net *net)
{
	for (unsigned i = 0; i < net->max_pairs; i++) {
		struct virtio_net_pair *p = &net->pairs[i];

		if (!p->thread_started)
			continue;
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_mutex_unlock(&p->lock);
		virtio_net_signal(p->net, p->ctl_efd);
		pthread_join(p->thread, NULL);
		p->thread_started = false;
	}
}

int virtio_net_init(struct virtio_net *net, const struct virtio_net_conf *cfg,
		    const struct virtio_env *env)
{
	unsigned pairs = cfg->num_queue_pairs, i;
	struct virtio_pci_params params = {
	    .features = F(CSUM) | F(GUEST_CSUM) | F(MAC) | F(GUEST_TSO4) | F(GUEST_TSO6) |
			F(GUEST_ECN) | F(HOST_TSO4) | F(HOST_TSO6) | F(HOST_ECN) | F(MRG_RXBUF) |
			F(STATUS) | F(CTRL_VQ) | F(CTRL_RX) | (pairs > 1 ? F(MQ) : 0),
	    .nr_queues = 2 * pairs + 1,
	    .queue_max_size = VIRTIO_NET_QUEUE_SIZE,
	    .config_size = VIRTIO_NET_CFG_SIZE,
	};
	int ret;

	memset(net, 0, sizeof(*net));
	log_dev_init(&net->log, "virtio-net");
	for (i = 0; i < VIRTIO_NET_MAX_QUEUE_PAIRS; i++)
		net->pairs[i].rx_efd = net->pairs[i].tx_efd = net->pairs[i].ctl_efd =
		    net->pairs[i].tx_kick_fd = net->pairs[i].epfd = -1;
	if (!pairs || pairs > VIRTIO_NET_MAX_QUEUE_PAIRS) {
		log_dev_err(&net->log, "%s: num_queues %u out of 1..%d", cfg->tap, pairs,
			    VIRTIO_NET_MAX_QUEUE_PAIRS);
		return -EINVAL;
	}
	if ((ret = net_tap_open(&net->tap, cfg->tap, pairs)))
		return ret;
	net->max_pairs = pairs;
	net->cur_pairs = 1;
	log_dev_init(&net->ctrl.log, "virtio-net %s", net->tap.name);
	net->ctrl.max_pairs = pairs;
	net->ctrl.set_pairs = virtio_net_ctrl_set_pairs;
	net->ctrl.opaque = net;
	if (cfg->mac_set)
		memcpy(net->mac, cfg->mac, sizeof(net->mac));
	else
		virtio_net_default_mac(net->tap.name, net->mac);
	memcpy(net->config + VIRTIO_NET_CFG_MAC, net->mac, sizeof(net->mac));
	net->config[VIRTIO_NET_CFG_STATUS] = VIRTIO_NET_S_LINK_UP;
	net->config[VIRTIO_NET_CFG_MAX_VQ_PAIRS] = (uint8_t)pairs;

	for (i = 0; i < pairs; i++) {
		if ((ret = virtio_net_pair_init(net, i))) {
			virtio_net_pair_free(&net->pairs[i], false);
			goto err_pairs;
		}
	}
	/* The pairs exist before the transport, whose init resets the device. */
	if ((ret = virtio_pci_init(&net->vdev, &virtio_net_ops, &params, net, env)))
		goto err_pairs;
	net->vdev.config = net->config;
	/*
	 * TX kicks go straight to the pair's worker (the queue's ioeventfd is in
	 * its epoll set), not through the event loop: one thread hop less per
	 * transmitted batch. TX queues have odd indexes, so never the control
	 * queue. virtio_pci_kick() (BAR-write fallback, tests) still reaches
	 * queue_notify, which signals tx_efd.
	 */
	for (unsigned k = 0; k < pairs; k++) {
		struct virtio_net_pair *p = &net->pairs[k];
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = VIRTIO_NET_EV_TX_KICK};

		if ((ret = virtio_pci_queue_set_external(&net->vdev, 2 * k + 1)))
			goto err_transport;
		p->tx_kick_fd = virtio_pci_queue_kick_fd(&net->vdev, 2 * k + 1);
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->tx_kick_fd, &ev) < 0) {
			ret = -errno;
			log_dev_err(&net->log, "%s: epoll on the TX kick of pair %u: %s",
				    net->tap.name, k, strerror(errno));
			goto err_transport;
		}
	}
	for (unsigned k = 0; k < pairs; k++) {
		if ((ret = -pthread_create(&net->pairs[k].thread, NULL, virtio_net_worker,
					   &net->pairs[k]))) {
			log_dev_err(&net->log, "%s: cannot start worker thread: %s", net->tap.name,
				    strerror(-ret));
			virtio_net_stop_workers(net);
			virtio_pci_destroy(&net->vdev);
			goto err_pairs;
		}
		net->pairs[k].thread_started = true;
	}
	return 0;
err_transport:
	virtio_pci_destroy(&net->vdev);
err_pairs:
	for (unsigned k = 0; k < i; k++)
		virtio_net_pair_free(&net->pairs[k], true);
	net_tap_close(&net->tap);
	net->max_pairs = 0;
	return ret;
}

void virtio_net_destroy(struct virtio_net *net)
{
	if (!net->max_pairs)
		return;
	/* Kicks come from the event loop, which no longer runs: only the workers are left. */
	virtio_net_stop_workers(net);
	virtio_pci_destroy(&net->vdev);
	for (unsigned i = 0; i < net->max_pairs; i++)
		virtio_net_pair_free(&net->pairs[i], true);
	net_tap_close(&net->tap);
	net->max_pairs = 0;
}
