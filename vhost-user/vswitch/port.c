/* SPDX-License-Identifier: MIT */
/*
 * Ports: vhost-user sockets served by rte_vhost, and EAL ethdevs. The vhost
 * callbacks run on rte_vhost's threads and publish a port's state to the
 * datapath (vswitch.h explains the grace-period rule).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_vhost.h>

#include "log.h"
#include "vswitch.h"

/*
 * rte_vhost (22.11) calls back with nothing but a vid: no user pointer. The
 * one switch of the process is found through this, set once before the first
 * driver starts and cleared after the last one is unregistered.
 */
static struct vsw *vsw_cb;

static struct vsw_port *port_of_vid(int vid)
{
	char ifname[VSW_PATH_MAX + 16];
	struct vsw *v = vsw_cb;

	if (v == NULL || rte_vhost_get_ifname(vid, ifname, sizeof(ifname)) < 0)
		return NULL;
	for (unsigned i = 0; i < v->nr_ports; i++)
		if (v->ports[i].kind == VSW_PORT_VHOST && strcmp(ifname, v->ports[i].name) == 0)
			return &v->ports[i];
	return NULL;
}

bool vsw_port_up(const struct vsw_port *p)
{
	if (__atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) < 0)
		return false;
	return p->kind == VSW_PORT_ETH || __atomic_load_n(&p->nr_qp, __ATOMIC_RELAXED) > 0;
}

/* Queue pairs usable for transmit: the leading run of enabled RX vrings. */
static uint16_t leading_pairs(uint32_t on)
{
	uint16_t n = 0;

	while (n < VSW_MAX_QP && (on >> (2 * n)) & 1)
		n++;
	return n;
}

/*
 * One frontend per port: a second connection to a server socket (rte_vhost
 * accepts any number) is refused here, before it negotiates anything.
 */
static int vsw_vhost_new_connection(int vid)
{
	struct vsw_port *p = port_of_vid(vid);
	int none = -1;

	if (p == NULL)
		return -1;
	if (!__atomic_compare_exchange_n(&p->conn, &none, vid, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		log_err("vswitch: port %u (%s): refusing a second frontend", p->index, p->name);
		return -1;
	}
	__atomic_store_n(&p->vring_on, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->nr_qp, 0, __ATOMIC_RELAXED);
	return 0;
}

static void vsw_vhost_destroy_connection(int vid)
{
	struct vsw_port *p = port_of_vid(vid);
	int mine = vid;

	if (p != NULL)
		__atomic_compare_exchange_n(&p->conn, &mine, -1, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE);
}

/* The offloads (VSW_OL_*) the frontend takes on receive. */
static uint32_t rx_offloads_of(int vid)
{
	uint64_t f;
	uint32_t ol;

	if (rte_vhost_get_negotiated_features(vid, &f) != 0 ||
	    !(f & 1ULL << VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	ol = VSW_OL_CSUM;
	if (f & 1ULL << VIRTIO_NET_F_GUEST_TSO4)
		ol |= VSW_OL_TSO4;
	if (f & 1ULL << VIRTIO_NET_F_GUEST_TSO6)
		ol |= VSW_OL_TSO6;
	return ol;
}

static int vsw_vhost_new_device(int vid)
{
	struct vsw_port *p = port_of_vid(vid);
	uint16_t nr_vring;

	if (p == NULL || __atomic_load_n(&p->conn, __ATOMIC_ACQUIRE) != vid)
		return -1;
	/* We poll: the frontend need not kick. */
	nr_vring = rte_vhost_get_vring_num(vid);
	for (uint16_t q = 0; q < nr_vring; q++)
		rte_vhost_enable_guest_notification(vid, q, 0);
	/* Published with the vid below. */
	__atomic_store_n(&p->tx_ol, rx_offloads_of(vid), __ATOMIC_RELAXED);
	if (nr_vring > 2 * VSW_MAX_QP)
		log_warn(
		    "vswitch: port %u (%s): %u vrings, only the first %u queue pairs are served",
		    p->index, p->name, nr_vring, VSW_MAX_QP);
	__atomic_store_n(&p->vid, vid, __ATOMIC_RELEASE);
	p->ups++;
	log_info("vswitch: port %u (%s) up, vid %d, receives%s%s%s", p->index, p->name, vid,
		 p->tx_ol & VSW_OL_CSUM ? " csum" : " plain frames",
		 p->tx_ol & VSW_OL_TSO4 ? " tso4" : "", p->tx_ol & VSW_OL_TSO6 ? " tso6" : "");
	return 0;
}

static void vsw_vhost_destroy_device(int vid)
{
	struct vsw_port *p = port_of_vid(vid);

	if (p == NULL || __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE) != vid)
		return;
	__atomic_store_n(&p->vid, -1, __ATOMIC_RELEASE);
	/* After this no worker holds the vid: rte_vhost may free the device. */
	rte_rcu_qsbr_synchronize(vsw_cb->qsbr, RTE_QSBR_THRID_INVALID);
	__atomic_store_n(&p->vring_on, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->nr_qp, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->tx_ol, 0, __ATOMIC_RELAXED);
	if (vsw_cb->macs != NULL)
		mac_table_flush_port(vsw_cb->macs, p->index);
	p->downs++;
	log_info("vswitch: port %u (%s) down", p->index, p->name);
}

/*
 * Called with rte_vhost's vring locks held, which the datapath's enqueue also
 * takes: publish the new state, never wait for the workers here.
 */
static int vsw_vhost_vring_state_changed(int vid, uint16_t vring, int enable)
{
	struct vsw_port *p = port_of_vid(vid);
	uint32_t on;

	if (p == NULL || vring >= 2 * VSW_MAX_QP ||
	    __atomic_load_n(&p->conn, __ATOMIC_ACQUIRE) != vid)
		return 0;
	if (enable)
		on = __atomic_or_fetch(&p->vring_on, 1u << vring, __ATOMIC_RELEASE);
	else
		on = __atomic_and_fetch(&p->vring_on, ~(1u << vring), __ATOMIC_RELEASE);
	__atomic_store_n(&p->nr_qp, leading_pairs(on), __ATOMIC_RELEASE);
	return 0;
}

static const struct rte_vhost_device_ops vsw_vhost_ops = {
    .new_device = vsw_vhost_new_device,
    .destroy_device = vsw_vhost_destroy_device,
    .vring_state_changed = vsw_vhost_vring_state_changed,
    .new_connection = vsw_vhost_new_connection,
    .destroy_connection = vsw_vhost_destroy_connection,
};

static struct vsw_port *port_alloc(struct vsw *v, enum vsw_port_kind kind, const char *name)
{
	struct vsw_port *p;

	if (v->nr_ports >= VSW_MAX_PORTS) {
		log_err("vswitch: more than %d ports", VSW_MAX_PORTS);
		return NULL;
	}
	if (strlen(name) >= sizeof(p->name)) {
		log_err("vswitch: port name too long: %s", name);
		return NULL;
	}
	p = &v->ports[v->nr_ports];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->index = v->nr_ports++;
	p->vid = -1;
	p->conn = -1;
	strcpy(p->name, name);
	for (unsigned i = 0; i < VSW_MAX_WORKERS; i++)
		rte_spinlock_init(&p->txlock[i]);
	return p;
}

int vsw_port_add_vhost(struct vsw *v, const char *spec)
{
	char path[VSW_PATH_MAX];
	const char *comma = strchr(spec, ',');
	size_t len = comma ? (size_t)(comma - spec) : strlen(spec);
	bool client = false;
	struct vsw_port *p;

	if (comma != NULL) {
		if (strcmp(comma + 1, "client") == 0)
			client = true;
		else if (strcmp(comma + 1, "server") != 0) {
			log_err("vswitch: --vhost %s: unknown option '%s'", spec, comma + 1);
			return -EINVAL;
		}
	}
	if (len == 0 || len >= sizeof(path)) {
		log_err("vswitch: --vhost %s: socket path empty or longer than %zu", spec,
			sizeof(path) - 1);
		return -EINVAL;
	}
	memcpy(path, spec, len);
	path[len] = '\0';
	for (unsigned i = 0; i < v->nr_ports; i++)
		if (strcmp(v->ports[i].name, path) == 0) {
			log_err("vswitch: --vhost %s given twice", path);
			return -EINVAL;
		}
	p = port_alloc(v, VSW_PORT_VHOST, path);
	if (p == NULL)
		return -E2BIG;
	p->client = client;
	return 0;
}

int vsw_ports_add_eth(struct vsw *v)
{
	uint16_t pid;

	RTE_ETH_FOREACH_DEV(pid)
	{
		char name[RTE_ETH_NAME_MAX_LEN];
		struct vsw_port *p;

		if (rte_eth_dev_get_name_by_port(pid, name) != 0)
			snprintf(name, sizeof(name), "eth%u", pid);
		p = port_alloc(v, VSW_PORT_ETH, name);
		if (p == NULL)
			return -E2BIG;
		p->eth_port = pid;
	}
	return 0;
}

static int eth_start(struct vsw *v, struct vsw_port *p)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = 512, nb_txd = 512;
	int socket = rte_eth_dev_socket_id(p->eth_port);
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_info_get(p->eth_port, &info);
	if (ret != 0) {
		log_err("vswitch: port %u (%s): device info: %s", p->index, p->name,
			strerror(-ret));
		return ret;
	}
	p->nr_rxq = RTE_MIN(v->nr_workers, RTE_MIN(info.max_rx_queues, (unsigned)VSW_MAX_QP));
	p->nr_txq = RTE_MIN(v->nr_workers, (unsigned)info.max_tx_queues);
	if (p->nr_rxq == 0 || p->nr_txq == 0) {
		log_err("vswitch: port %u (%s): no queues", p->index, p->name);
		return -ENODEV;
	}
	p->txq_shared = p->nr_txq < v->nr_workers;
	ret = rte_eth_dev_configure(p->eth_port, p->nr_rxq, p->nr_txq, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->eth_port, &nb_rxd, &nb_txd);
	for (uint16_t q = 0; ret == 0 && q < p->nr_rxq; q++)
		ret = rte_eth_rx_queue_setup(p->eth_port, q, nb_rxd, socket, NULL, v->pool);
	for (uint16_t q = 0; ret == 0 && q < p->nr_txq; q++)
		ret = rte_eth_tx_queue_setup(p->eth_port, q, nb_txd, socket, NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(p->eth_port);
	if (ret != 0) {
		log_err("vswitch: port %u (%s): setup failed: %s", p->index, p->name,
			strerror(-ret));
		return ret;
	}
	/* A switch port sees every frame; not all PMDs can, which is fine. */
	rte_eth_promiscuous_enable(p->eth_port);
	__atomic_store_n(&p->vid, 0, __ATOMIC_RELEASE);
	p->ups++;
	log_info("vswitch: port %u (%s) ethdev %u up, %u rx / %u tx queues", p->index, p->name,
		 p->eth_port, p->nr_rxq, p->nr_txq);
	return 0;
}

/*
 * rte_vhost will not listen on an existing path. Remove a socket file nobody
 * listens on (left by a killed switch); leave anything else alone.
 */
static void unlink_stale_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (stat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno == ECONNREFUSED)
		unlink(path);
	close(fd);
}

/*
 * Offloads: with --offloads on the ports offer checksum offload both ways and
 * TCP segmentation offload (offload.c completes what a receiver cannot take).
 * Not offered: HOST_TSO6 (22.11's rte_gso cannot cut TCP/IPv6 for a receiver
 * without GUEST_TSO6; GUEST_TSO6 is offered, frontends such as DPDK's virtio
 * PMD only do LRO with both), UFO (Linux no longer sends it) and ECN
 * (rte_vhost drops the ECN bit of a GSO header).
 */
static int vhost_start(struct vsw *v, struct vsw_port *p)
{
	uint64_t never = 1ULL << VIRTIO_NET_F_HOST_TSO6 | 1ULL << VIRTIO_NET_F_HOST_UFO |
			 1ULL << VIRTIO_NET_F_GUEST_UFO | 1ULL << VIRTIO_NET_F_HOST_ECN |
			 1ULL << VIRTIO_NET_F_GUEST_ECN;
	const uint64_t offloads = 1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM |
				  1ULL << VIRTIO_NET_F_HOST_TSO4 | 1ULL << VIRTIO_NET_F_GUEST_TSO4 |
				  1ULL << VIRTIO_NET_F_GUEST_TSO6;
	/* Receive flags that say what the frame asks (offload.c), not legacy transmit flags. */
	uint64_t flags = RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS;

	if (!p->client)
		unlink_stale_socket(p->name);
	if (p->client)
		flags |= RTE_VHOST_USER_CLIENT;
	if (rte_vhost_driver_register(p->name, flags) != 0) {
		log_err("vswitch: port %u (%s): vhost driver register failed", p->index, p->name);
		return -EIO;
	}
	p->registered = true;
	if (!v->cfg.offloads)
		never |= offloads;
	if (rte_vhost_driver_disable_features(p->name, never) != 0 ||
	    rte_vhost_driver_callback_register(p->name, &vsw_vhost_ops) != 0 ||
	    rte_vhost_driver_start(p->name) != 0) {
		log_err("vswitch: port %u (%s): vhost driver start failed", p->index, p->name);
		return -EIO;
	}
	log_info("vswitch: port %u (%s) vhost-user %s, offloads %s", p->index, p->name,
		 p->client ? "client" : "server", v->cfg.offloads ? "on" : "off");
	return 0;
}

int vsw_ports_start(struct vsw *v)
{
	int ret;

	vsw_cb = v;
	for (unsigned i = 0; i < v->nr_ports; i++) {
		struct vsw_port *p = &v->ports[i];

		ret = p->kind == VSW_PORT_VHOST ? vhost_start(v, p) : eth_start(v, p);
		if (ret != 0)
			return ret;
	}
	return 0;
}

void vsw_ports_stop(struct vsw *v)
{
	for (unsigned i = 0; i < v->nr_ports; i++) {
		struct vsw_port *p = &v->ports[i];

		if (p->kind == VSW_PORT_VHOST && p->registered) {
			/* Destroys a connected device, closes and unlinks the socket. */
			if (rte_vhost_driver_unregister(p->name) != 0)
				log_err("vswitch: port %u (%s): unregister failed", p->index,
					p->name);
			p->registered = false;
		} else if (p->kind == VSW_PORT_ETH && p->ups > 0) {
			__atomic_store_n(&p->vid, -1, __ATOMIC_RELEASE);
			rte_eth_dev_stop(p->eth_port);
			rte_eth_dev_close(p->eth_port);
		}
	}
	vsw_cb = NULL;
}
