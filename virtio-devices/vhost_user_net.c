/* SPDX-License-Identifier: MIT */
#include "vhost_user_net.h"
#include "log.h"
#include "pci.h"
#include "virtio.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define F(bit) VIRTIO_FEATURE(VIRTIO_NET_F_##bit)
#define VUN_RING_BITS                                                                              \
	(VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX) | VIRTIO_FEATURE(VIRTIO_RING_F_INDIRECT_DESC))
/* What the backend implements for the guest: the data path. */
#define VUN_BACKEND_BITS                                                                           \
	(F(CSUM) | F(GUEST_CSUM) | F(GUEST_TSO4) | F(GUEST_TSO6) | F(GUEST_ECN) | F(GUEST_UFO) |   \
	 F(HOST_TSO4) | F(HOST_TSO6) | F(HOST_ECN) | F(HOST_UFO) | F(MRG_RXBUF) | VUN_RING_BITS |  \
	 VIRTIO_FEATURE(VIRTIO_F_VERSION_1))
/* What the VMM serves itself: config space and the control queue. */
#define VUN_VMM_BITS (F(MAC) | F(STATUS) | F(CTRL_VQ) | F(CTRL_RX))
#define VUN_PROTOCOL                                                                               \
	(VHOST_USER_BIT(VHOST_USER_PROTOCOL_F_MQ) |                                                \
	 VHOST_USER_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |                                         \
	 VHOST_USER_BIT(VHOST_USER_PROTOCOL_F_STATUS) |                                            \
	 VHOST_USER_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD))

static void vhost_user_net_on_sock(void *opaque, int fd, uint32_t events);

/* --- state changes (vdev->lock held) --- */

static bool vhost_user_net_mq(const struct vhost_user_net *net)
{
	return net->vdev.driver_features & F(MQ);
}

/* Data queues of the layout the driver negotiated. */
static unsigned vhost_user_net_data_queues(const struct vhost_user_net *net)
{
	return 2 * (vhost_user_net_mq(net) ? net->max_pairs : 1);
}

static void vhost_user_net_link(struct vhost_user_net *net, bool up)
{
	uint8_t status = up ? VIRTIO_NET_S_LINK_UP : 0;

	if (net->config[VIRTIO_NET_CFG_STATUS] == status)
		return;
	net->config[VIRTIO_NET_CFG_STATUS] = status;
	log_dev_info(&net->log, "link %s", up ? "up" : "down");
	if (net->vdev.status & VIRTIO_STATUS_DRIVER_OK)
		virtio_pci_config_changed(&net->vdev);
}

/* The backend is gone or unusable: the guest runs on with the link down. */
static void vhost_user_net_lost(struct vhost_user_net *net)
{
	vhost_user_frontend_fail(&net->fe, NULL);
	net->running = false;
	net->started = 0;
	vhost_user_net_link(net, false);
}

static int vhost_user_net_kick_fd(struct vhost_user_net *net, unsigned q)
{
	return q == 2 && net->max_pairs > 1 ? net->rx1_kick_fd
					    : virtio_pci_queue_kick_fd(&net->vdev, q);
}

/* Guest RAM as the backend maps it: every region of the memfd, at our own addresses. */
static void vhost_user_net_mem_table(struct vhost_user_net *net, struct vhost_user_memory *m,
				     int *fds)
{
	pthread_mutex_lock(&net->ram_lock);
	*m = net->ram;
	memcpy(fds, net->ram_fds, sizeof(net->ram_fds));
	pthread_mutex_unlock(&net->ram_lock);
}

static struct vhost_user_net *vhost_user_net_of_listener(struct dma_listener *l)
{
	return (struct vhost_user_net *)((char *)l - offsetof(struct vhost_user_net, ram_listener));
}

/* The DMA space maps guest RAM (for the identity space: each region, at registration). */
static int vhost_user_net_ram_map(struct dma_listener *l, const struct dma_region *r)
{
	struct vhost_user_net *net = vhost_user_net_of_listener(l);
	int ret = 0;

	/* The backend maps guest memory by fd: it could not map private (anonymous) memory. */
	if (r->fd < 0) {
		log_dev_err(&net->log,
			    "guest RAM is anonymous memory without an fd, which the backend "
			    "cannot map (it needs a memfd: --memory size=SIZE,shared=on)");
		return -EINVAL;
	}
	pthread_mutex_lock(&net->ram_lock);
	if (net->ram.nregions == VHOST_USER_MAX_REGIONS) {
		log_dev_err(&net->log, "guest RAM has more than %d regions, vhost-user takes %d",
			    VHOST_USER_MAX_REGIONS, VHOST_USER_MAX_REGIONS);
		ret = -EINVAL;
	} else {
		net->ram_fds[net->ram.nregions] = r->fd;
		net->ram.regions[net->ram.nregions++] = (struct vhost_user_mem_region){
		    .guest_phys_addr = r->iova,
		    .memory_size = r->size,
		    .userspace_addr = (uint64_t)(uintptr_t)r->hva,
		    .mmap_offset = r->fd_offset,
		};
	}
	pthread_mutex_unlock(&net->ram_lock);
	return ret;
}

/* Regions the unmap touches leave the table whole: vhost-user shares whole regions. */
static void vhost_user_net_ram_unmap(struct dma_listener *l, uint64_t iova, uint64_t size)
{
	struct vhost_user_net *net = vhost_user_net_of_listener(l);
	struct vhost_user_memory *m = &net->ram;

	pthread_mutex_lock(&net->ram_lock);
	for (unsigned i = 0; i < m->nregions;) {
		uint64_t gpa = m->regions[i].guest_phys_addr, len = m->regions[i].memory_size;

		if (size && len && (gpa >= iova ? gpa - iova < size : iova - gpa < len)) {
			m->nregions--;
			m->regions[i] = m->regions[m->nregions];
			net->ram_fds[i] = net->ram_fds[m->nregions];
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&net->ram_lock);
}

static int vhost_user_net_start_queue(struct vhost_user_net *net,
				      const struct vhost_user_memory *mem, unsigned q)
{
	struct vhost_user_frontend *fe = &net->fe;
	struct virtio_pci_queue *vq = &net->vdev.queues[q];
	bool event_idx = net->vdev.driver_features & VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX);
	uint64_t dlen = vhost_user_split_desc_size(vq->size);
	uint64_t alen = vhost_user_split_avail_size(vq->size, event_idx);
	uint64_t ulen = vhost_user_split_used_size(vq->size, event_idx);
	/* The backend gets host addresses: translated here, the backend never sees IOVAs. */
	void *desc = dma_ptr(net->dma, vq->desc, dlen, DMA_TO_DEVICE);
	void *avail = dma_ptr(net->dma, vq->avail, alen, DMA_TO_DEVICE);
	void *used = dma_ptr(net->dma, vq->used, ulen, DMA_FROM_DEVICE);
	struct vhost_user_vring_addr addr;
	uint16_t used_idx;
	char why[160];
	int ret;

	/* The transport checked them at enable; the rings cannot move while enabled. */
	if (!desc || !avail || !used || dma_read(net->dma, vq->used + 2, &used_idx, 2)) {
		log_dev_err(&net->log, "queue %u rings are not in guest RAM", q);
		return -EFAULT;
	}
	addr = (struct vhost_user_vring_addr){
	    .index = q,
	    .desc_user_addr = (uint64_t)(uintptr_t)desc,
	    .avail_user_addr = (uint64_t)(uintptr_t)avail,
	    .used_user_addr = (uint64_t)(uintptr_t)used,
	};
	if (vhost_user_vring_addr_check(mem, &addr, vq->size, event_idx, why, sizeof(why))) {
		log_dev_err(&net->log, "%s", why);
		return -EFAULT;
	}
	/*
	 * Resume where the guest last saw completions: after a backend restart
	 * what the old one took and never returned is processed again, or, with
	 * inflight tracking, resubmitted from the inflight area (the backend
	 * counts those in from the used index itself).
	 */
	if ((ret = vhost_user_frontend_set_vring_num(fe, q, vq->size)) ||
	    (ret = vhost_user_frontend_set_vring_base(fe, q, used_idx)) ||
	    (ret = vhost_user_frontend_set_vring_addr(fe, &addr)) ||
	    (ret = vhost_user_frontend_set_vring_kick(fe, q, vhost_user_net_kick_fd(net, q))) ||
	    (ret = vhost_user_frontend_set_vring_call(fe, q,
						      virtio_pci_queue_call_fd(&net->vdev, q))))
		return ret;
	ret = vhost_user_frontend_set_vring_enable(fe, q, q / 2 < net->cur_pairs);
	if (ret && ret != -EOPNOTSUPP)
		return ret;
	net->started |= 1u << q;
	return 0;
}

static uint64_t vhost_user_net_backend_acked(const struct vhost_user_net *net)
{
	uint64_t f = net->vdev.driver_features & net->fe.features & VUN_BACKEND_BITS;

	if ((net->vdev.driver_features & F(MQ)) && (net->fe.features & F(MQ)))
		f |= F(MQ);
	return f | (net->fe.features & VHOST_USER_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
}

/* Hand the driver's rings to the connected backend. */
static int vhost_user_net_start(struct vhost_user_net *net)
{
	struct vhost_user_frontend *fe = &net->fe;
	struct vhost_user_memory mem;
	int fds[VHOST_USER_MAX_REGIONS];
	int ret;

	vhost_user_net_mem_table(net, &mem, fds);
	if ((ret = vhost_user_frontend_set_features(fe, vhost_user_net_backend_acked(net))) ||
	    (ret = vhost_user_frontend_set_mem_table(fe, &mem, fds)))
		goto fail;
	/* The device's largest geometry, so the area fits whatever the driver picks. */
	if ((ret = vhost_user_frontend_inflight_start(fe, 2 * net->max_pairs,
						      VHOST_USER_NET_QUEUE_SIZE)))
		goto fail;
	for (unsigned q = 0; q < vhost_user_net_data_queues(net); q++)
		if (net->vdev.queues[q].enabled && (ret = vhost_user_net_start_queue(net, &mem, q)))
			goto fail;
	ret = vhost_user_frontend_set_status(fe, net->vdev.status);
	if (ret && ret != -EOPNOTSUPP)
		goto fail;
	net->running = true;
	vhost_user_net_link(net, true);
	return 0;
fail:
	if (fe->connected)
		vhost_user_frontend_fail(fe, "cannot start the rings");
	vhost_user_net_lost(net);
	return ret;
}

/* Driver reset: the backend stops every ring it has (GET_VRING_BASE). */
static void vhost_user_net_stop(struct vhost_user_net *net)
{
	unsigned base;

	if (!net->running)
		return;
	for (unsigned q = 0; q < VHOST_USER_NET_MAX_DATA_QUEUES; q++) {
		if (!(net->started & (1u << q)))
			continue;
		if (vhost_user_frontend_get_vring_base(&net->fe, q, &base)) {
			vhost_user_net_lost(net);
			return;
		}
	}
	net->running = false;
	net->started = 0;
}

/* A new connection: negotiate, check it can serve what the guest was offered, start. */
static int vhost_user_net_connected(struct vhost_user_net *net)
{
	struct vhost_user_frontend *fe = &net->fe;
	uint64_t need;
	int ret;

	if ((ret = vhost_user_frontend_handshake(fe, VUN_PROTOCOL)))
		goto refuse;
	need = (net->active ? net->vdev.driver_features : net->vdev.device_features) &
	       net->backend_features & VUN_BACKEND_BITS;
	if ((fe->features & need) != need) {
		log_dev_err(&net->log, "the backend lacks features 0x%llx the guest was offered",
			    (unsigned long long)(need & ~fe->features));
		ret = -ENOTSUP;
		goto refuse;
	}
	if (net->max_pairs > 1 &&
	    (!(fe->protocol_features & VHOST_USER_BIT(VHOST_USER_PROTOCOL_F_MQ)) ||
	     fe->queue_num < net->max_pairs)) {
		log_dev_err(&net->log, "the backend does not serve %u queue pairs", net->max_pairs);
		ret = -ENOTSUP;
		goto refuse;
	}
	if (net->loop) {
		if ((ret =
			 evloop_add(net->loop, fe->conn.fd, EPOLLIN, vhost_user_net_on_sock, net)))
			goto refuse;
		net->watched_fd = fe->conn.fd;
	}
	log_dev_info(&net->log, "backend connected (features 0x%llx, protocol 0x%llx)",
		     (unsigned long long)fe->features, (unsigned long long)fe->protocol_features);
	if (net->active)
		return vhost_user_net_start(net);
	vhost_user_net_link(net, true);
	return 0;
refuse:
	vhost_user_frontend_close(fe);
	return ret;
}

/* --- event loop --- */

static void vhost_user_net_arm_timer(struct vhost_user_net *net, bool on)
{
	struct itimerspec its = {0};

	if (net->timer_fd < 0)
		return;
	if (on) {
		its.it_value.tv_sec = VHOST_USER_NET_RECONNECT_MS / 1000;
		its.it_value.tv_nsec = (VHOST_USER_NET_RECONNECT_MS % 1000) * 1000000L;
		its.it_interval = its.it_value;
	}
	timerfd_settime(net->timer_fd, 0, &its, NULL);
}

static void vhost_user_net_on_sock(void *opaque, int fd, uint32_t events)
{
	struct vhost_user_net *net = opaque;
	struct vhost_user_frontend *fe = &net->fe;

	(void)fd;
	pthread_mutex_lock(&net->vdev.lock);
	if (fe->connected && vhost_user_frontend_poll(fe) == 0 &&
	    !(events & (EPOLLHUP | EPOLLERR))) {
		pthread_mutex_unlock(&net->vdev.lock);
		return;
	}
	/* Gone: EOF, a bad message, or a failure on a vCPU that shut the socket down. */
	vhost_user_net_lost(net);
	evloop_del(net->loop, net->watched_fd);
	net->watched_fd = -1;
	vhost_user_frontend_close(fe);
	if (!fe->server)
		log_dev_info(&net->log, "reconnecting every %d ms", VHOST_USER_NET_RECONNECT_MS);
	else
		log_dev_info(&net->log, "waiting for the backend to connect again");
	vhost_user_net_arm_timer(net, true);
	pthread_mutex_unlock(&net->vdev.lock);
}

static void vhost_user_net_on_timer(void *opaque, int fd, uint32_t events)
{
	struct vhost_user_net *net = opaque;
	uint64_t ticks;

	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) < 0)
		return;
	pthread_mutex_lock(&net->vdev.lock);
	if (net->fe.conn.fd < 0 && vhost_user_frontend_connect(&net->fe) == 0)
		vhost_user_net_connected(net);
	if (net->fe.connected)
		vhost_user_net_arm_timer(net, false);
	pthread_mutex_unlock(&net->vdev.lock);
}

static void vhost_user_net_on_listen(void *opaque, int fd, uint32_t events)
{
	struct vhost_user_net *net = opaque;
	int extra;

	(void)events;
	pthread_mutex_lock(&net->vdev.lock);
	if (net->fe.conn.fd < 0) {
		if (vhost_user_frontend_connect(&net->fe) == 0)
			vhost_user_net_connected(net);
	} else if ((extra = vhost_user_accept(fd, true)) >= 0) {
		log_dev_warn(&net->log, "a second backend connected; refused");
		close(extra);
	}
	pthread_mutex_unlock(&net->vdev.lock);
}

/* Queue 2 with several pairs: rx1 (forward the kick) or the control queue. */
static void vhost_user_net_on_kick2(void *opaque, int fd, uint32_t events)
{
	struct vhost_user_net *net = opaque;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0)
		return;
	virtio_pci_kick(&net->vdev, 2);
}

/* --- transport callbacks (vdev->lock held) --- */

static void vhost_user_net_set_pairs(struct vhost_user_net *net, unsigned n)
{
	net->cur_pairs = n;
	if (!net->running)
		return; /* the next vhost_user_net_start applies it */
	for (unsigned q = 0; q < VHOST_USER_NET_MAX_DATA_QUEUES; q++) {
		if (!(net->started & (1u << q)))
			continue;
		if (vhost_user_frontend_set_vring_enable(&net->fe, q, q / 2 < n) == -EOPNOTSUPP)
			return;
		if (!net->fe.connected) {
			vhost_user_net_lost(net);
			return;
		}
	}
}

static int vhost_user_net_ctrl_set_pairs(void *opaque, unsigned n)
{
	vhost_user_net_set_pairs(opaque, n);
	return 0;
}

static void vhost_user_net_queue_notify(struct virtio_pci_dev *vdev, unsigned q)
{
	struct vhost_user_net *net = vdev->opaque;
	unsigned ctrl = vhost_user_net_mq(net) ? 2 * net->max_pairs : 2;
	uint64_t one = 1;

	if ((vdev->driver_features & F(CTRL_VQ)) && q == ctrl) {
		virtio_net_ctrl_serve(&net->ctrl, vdev, q);
		return;
	}
	/* Queue 2 is rx1 here: the backend has rx1_kick_fd as its kick. */
	if (q == 2 && net->max_pairs > 1 && vhost_user_net_mq(net) &&
	    write(net->rx1_kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_dev_warn(&net->log, "rx1 kick: %s", strerror(errno));
}

static int vhost_user_net_activate(struct vhost_user_net *net)
{
	net->active = true;
	net->cur_pairs = 1; /* until VQ_PAIRS_SET (5.1.6.5.5) */
	if (net->fe.connected)
		vhost_user_net_start(
		    net); /* a failure leaves the guest running with the link down */
	return 0;
}

static int vhost_user_net_activate_cb(struct virtio_pci_dev *vdev)
{
	return vhost_user_net_activate(vdev->opaque);
}

static void vhost_user_net_reset(struct virtio_pci_dev *vdev)
{
	struct vhost_user_net *net = vdev->opaque;

	if (!net->initialised)
		return; /* virtio_pci_init's own reset */
	vhost_user_net_stop(net);
	vhost_user_frontend_inflight_reset(&net->fe); /* the old descriptors are void */
	net->active = false;
}

static void vhost_user_net_queue_vector_changed(struct virtio_pci_dev *vdev, unsigned q)
{
	struct vhost_user_net *net = vdev->opaque;

	if (!net->running || q >= VHOST_USER_NET_MAX_DATA_QUEUES || !(net->started & (1u << q)))
		return;
	if (vhost_user_frontend_set_vring_call(&net->fe, q, virtio_pci_queue_call_fd(vdev, q)))
		vhost_user_net_lost(net);
}

static const struct virtio_device_ops vhost_user_net_ops = {
    .name = "vhost-user-net",
    .device_id = VIRTIO_ID_NET,
    .class_code = PCI_CLASS_NETWORK_ETHERNET,
    .queue_notify = vhost_user_net_queue_notify,
    .reset = vhost_user_net_reset,
    .activate = vhost_user_net_activate_cb,
    .queue_vector_changed = vhost_user_net_queue_vector_changed,
};

/* --- setup --- */

/* Wait for the first backend: its features decide what the guest is offered. */
static int vhost_user_net_first_connect(struct vhost_user_net *net)
{
	struct vhost_user_frontend *fe = &net->fe;
	int ret;

	if (fe->server) {
		struct pollfd p = {.fd = fe->listen_fd, .events = POLLIN};

		log_info("vhost-user-net: waiting for a backend to connect to %s", fe->path);
		do {
			while (poll(&p, 1, -1) < 0)
				if (errno != EINTR)
					return -errno;
		} while ((ret = vhost_user_frontend_connect(fe)) == -EAGAIN);
		return ret;
	}
	for (unsigned i = 0;; i++) {
		ret = vhost_user_frontend_connect(fe);
		if (ret != -ENOENT && ret != -ECONNREFUSED)
			return ret;
		if (i + 1 == VHOST_USER_NET_CONNECT_TRIES) {
			log_err("vhost-user-net: no backend at %s after %d s", fe->path,
				VHOST_USER_NET_CONNECT_TRIES);
			return ret;
		}
		if (i == 0)
			log_info("vhost-user-net: waiting for a backend at %s", fe->path);
		sleep(1);
	}
}

static int vhost_user_net_init_fds(struct vhost_user_net *net)
{
	struct vhost_user_frontend *fe = &net->fe;
	int ret;

	for (unsigned q = 0; q < 2 * net->max_pairs; q++)
		if ((ret = virtio_pci_queue_set_external(&net->vdev, q)))
			return ret;
	if (net->max_pairs > 1) {
		net->rx1_kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (net->rx1_kick_fd < 0)
			goto err_errno;
	}
	if (!fe->server) {
		net->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (net->timer_fd < 0)
			goto err_errno;
	}
	if (!net->loop)
		return 0;
	if (net->max_pairs > 1 &&
	    (ret = evloop_add(net->loop, virtio_pci_queue_kick_fd(&net->vdev, 2), EPOLLIN,
			      vhost_user_net_on_kick2, net)))
		return ret;
	if (fe->server)
		ret = evloop_add(net->loop, fe->listen_fd, EPOLLIN, vhost_user_net_on_listen, net);
	else
		ret = evloop_add(net->loop, net->timer_fd, EPOLLIN, vhost_user_net_on_timer, net);
	if (ret)
		return ret;
	if ((ret = evloop_add(net->loop, fe->conn.fd, EPOLLIN, vhost_user_net_on_sock, net)))
		return ret;
	net->watched_fd = fe->conn.fd;
	return 0;
err_errno:
	ret = -errno;
	log_dev_err(&net->log, "%s", strerror(errno));
	return ret;
}

static void vhost_user_net_free_fds(struct vhost_user_net *net)
{
	if (net->loop) {
		if (net->max_pairs > 1)
			evloop_del(net->loop, virtio_pci_queue_kick_fd(&net->vdev, 2));
		if (net->fe.listen_fd >= 0)
			evloop_del(net->loop, net->fe.listen_fd);
		if (net->timer_fd >= 0)
			evloop_del(net->loop, net->timer_fd);
		if (net->watched_fd >= 0)
			evloop_del(net->loop, net->watched_fd);
	}
	net->watched_fd = -1;
	if (net->timer_fd >= 0)
		close(net->timer_fd);
	if (net->rx1_kick_fd >= 0)
		close(net->rx1_kick_fd);
	net->timer_fd = net->rx1_kick_fd = -1;
}

int vhost_user_net_init(struct vhost_user_net *net, const struct virtio_net_conf *cfg,
			const struct virtio_env *env)
{
	struct vhost_user_frontend *fe = &net->fe;
	unsigned pairs = cfg->num_queue_pairs;
	struct virtio_pci_params params = {
	    .nr_queues = 2 * pairs + 1,
	    .queue_max_size = VHOST_USER_NET_QUEUE_SIZE,
	    .config_size = VIRTIO_NET_CFG_SIZE,
	};
	uint64_t bf;
	int ret;

	memset(net, 0, sizeof(*net));
	log_dev_init(&net->log, "vhost-user-net %s", cfg->vhost_user);
	net->timer_fd = net->rx1_kick_fd = net->watched_fd = -1;
	fe->conn.fd = fe->listen_fd = -1;
	if (!pairs || pairs > VIRTIO_NET_MAX_QUEUE_PAIRS) {
		log_dev_err(&net->log, "num_queues %u out of 1..%d", pairs,
			    VIRTIO_NET_MAX_QUEUE_PAIRS);
		return -EINVAL;
	}
	net->ctrl.log = net->log; /* the control queue speaks for the device */
	if ((ret = -pthread_mutex_init(&net->ram_lock, NULL))) {
		log_dev_err(&net->log, "mutex init failed");
		return ret;
	}
	/*
	 * Before any contact with the backend: guest RAM must be shareable (an
	 * fd per region) and fit a memory table.
	 */
	net->dma = env->dma;
	net->ram_listener.map = vhost_user_net_ram_map;
	net->ram_listener.unmap = vhost_user_net_ram_unmap;
	if ((ret = dma_listener_register(net->dma, &net->ram_listener))) {
		pthread_mutex_destroy(&net->ram_lock);
		return ret;
	}
	net->loop = env->loop;
	net->max_pairs = pairs;
	net->cur_pairs = 1;
	net->ctrl.max_pairs = pairs;
	net->ctrl.set_pairs = vhost_user_net_ctrl_set_pairs;
	net->ctrl.opaque = net;
	if ((ret =
		 vhost_user_frontend_init(fe, cfg->vhost_user, cfg->vhost_user_server, 2 * pairs)))
		goto err_ram;
	if ((ret = vhost_user_net_first_connect(net)) ||
	    (ret = vhost_user_frontend_handshake(fe, VUN_PROTOCOL)))
		goto err_fe;
	bf = fe->features;
	if (!(bf & VIRTIO_FEATURE(VIRTIO_F_VERSION_1))) {
		log_dev_err(&net->log, "the backend does not offer VIRTIO_F_VERSION_1");
		ret = -ENOTSUP;
		goto err_fe;
	}
	if (pairs > 1 && (!(fe->protocol_features & VHOST_USER_BIT(VHOST_USER_PROTOCOL_F_MQ)) ||
			  fe->queue_num < pairs)) {
		log_dev_err(&net->log, "the backend does not serve %u queue pairs", pairs);
		ret = -ENOTSUP;
		goto err_fe;
	}
	net->backend_features = bf;

	if (cfg->mac_set)
		memcpy(net->mac, cfg->mac, sizeof(net->mac));
	else
		virtio_net_default_mac(fe->path, net->mac);
	memcpy(net->config + VIRTIO_NET_CFG_MAC, net->mac, sizeof(net->mac));
	net->config[VIRTIO_NET_CFG_STATUS] = VIRTIO_NET_S_LINK_UP;
	net->config[VIRTIO_NET_CFG_MAX_VQ_PAIRS] = (uint8_t)pairs;

	params.features = (bf & VUN_BACKEND_BITS) | VUN_VMM_BITS | (pairs > 1 ? F(MQ) : 0);
	if ((ret = virtio_pci_init(&net->vdev, &vhost_user_net_ops, &params, net, env)))
		goto err_fe;
	net->vdev.config = net->config;
	/* The transport offers the ring features itself: not those the backend lacks. */
	net->vdev.device_features &= ~(VUN_RING_BITS & ~bf);
	if ((ret = vhost_user_net_init_fds(net)))
		goto err_vdev;
	net->initialised = true;
	log_dev_info(&net->log,
		     "backend features 0x%llx, protocol features 0x%llx; guest "
		     "offered 0x%llx",
		     (unsigned long long)bf, (unsigned long long)fe->protocol_features,
		     (unsigned long long)net->vdev.device_features);
	return 0;
err_vdev:
	vhost_user_net_free_fds(net);
	virtio_pci_destroy(&net->vdev);
err_fe:
	vhost_user_frontend_destroy(fe);
err_ram:
	dma_listener_unregister(net->dma, &net->ram_listener);
	pthread_mutex_destroy(&net->ram_lock);
	return ret;
}

void vhost_user_net_destroy(struct vhost_user_net *net)
{
	if (!net->initialised)
		return;
	vhost_user_net_free_fds(net);
	virtio_pci_destroy(&net->vdev);
	vhost_user_frontend_destroy(&net->fe);
	dma_listener_unregister(net->dma, &net->ram_listener);
	pthread_mutex_destroy(&net->ram_lock);
	net->initialised = false;
}

bool vhost_user_net_link_up(struct vhost_user_net *net)
{
	bool up;

	pthread_mutex_lock(&net->vdev.lock);
	up = net->config[VIRTIO_NET_CFG_STATUS] & VIRTIO_NET_S_LINK_UP;
	pthread_mutex_unlock(&net->vdev.lock);
	return up;
}
