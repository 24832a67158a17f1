/* SPDX-License-Identifier: MIT */
/*
 * sluice-vswitch: a DPDK (rte_vhost) switch between vhost-user ports (VMs,
 * virtio_user) and optional ethdev ports, in cross-connect or learning mode.
 *
 * Threads: the EAL main lcore runs the control loop (signals, statistics,
 * control socket) and never forwards; every worker lcore forwards. rte_vhost's
 * own thread runs the vhost-user protocol and calls port.c's callbacks.
 *
 * Ports that come and go: the datapath reads a port's vid with one acquire
 * load per burst and reports a quiescent state (rte_rcu_qsbr) after each loop.
 * destroy_device clears the vid and waits for a grace period before it
 * returns, so rte_vhost never frees a device that a worker is still using.
 * Nothing on the datapath takes a lock or makes a syscall (an ethdev tx queue
 * shared by more workers than it has queues is the one exception: a spinlock
 * per burst).
 */
#ifndef SLUICE_VSWITCH_H
#define SLUICE_VSWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_gso.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>

#include "mac_table.h"

#define VSW_MAX_PORTS	64 /* a port set is a uint64_t */
#define VSW_MAX_QP	16 /* queue pairs served per vhost port */
#define VSW_MAX_WORKERS 32
#define VSW_BURST	32
#define VSW_PATH_MAX	108  /* sun_path */
#define VSW_GSO_SEGS	128  /* segments of one TSO frame made in software, at most */
#define VSW_IDLE_POLLS	1000 /* empty passes before an idle worker sleeps (--idle-us) */

/* Offloads a frame asks of its receiver, and a port can take (vsw_port.tx_ol). */
#define VSW_OL_CSUM 1u /* a partial TCP/UDP checksum (virtio NEEDS_CSUM) */
#define VSW_OL_TSO4 2u /* a TCP/IPv4 frame larger than its MSS */
#define VSW_OL_TSO6 4u

enum vsw_mode { VSW_MODE_XCONNECT, VSW_MODE_SWITCH };
enum vsw_port_kind { VSW_PORT_VHOST, VSW_PORT_ETH };

enum vsw_drop {
	VSW_DROP_RUNT,	   /* shorter than an Ethernet header */
	VSW_DROP_NO_DST,   /* no peer port, or every destination is down */
	VSW_DROP_TX_FULL,  /* the destination queue took fewer than offered */
	VSW_DROP_FILTERED, /* destination learned on the source port */
	VSW_DROP_OFFLOAD,  /* asks for an offload the switch cannot complete */
	VSW_DROP_MAX,
};

/* One worker's counters for one port: written by that worker only. */
struct vsw_counters {
	uint64_t rx;
	uint64_t tx;
	uint64_t flood; /* frames this port sent out as a flood copy */
	uint64_t drop[VSW_DROP_MAX];
	uint64_t rx_csum; /* received with a partial checksum (TSO frames too) */
	uint64_t rx_tso;  /* received as TSO frames */
	uint64_t sw_csum; /* frames the switch checksummed for a receiver without offloads */
	uint64_t sw_segs; /* segments the switch cut from TSO frames for such a receiver */
} __rte_cache_aligned;

struct vsw_port {
	enum vsw_port_kind kind;
	uint16_t index;
	char name[VSW_PATH_MAX]; /* socket path, or ethdev name */
	bool client;		 /* vhost: connect instead of listen */
	bool registered;	 /* vhost: rte_vhost_driver_register succeeded */

	/* Datapath view, written by the control side. */
	int vid;	   /* vhost: device id, -1 while down; eth: 0 once started */
	uint32_t vring_on; /* vhost: bit per vring enabled by the frontend */
	uint16_t nr_qp;	   /* vhost: queue pairs usable for tx (leading enabled RX vrings) */
	uint32_t tx_ol;	   /* VSW_OL_* the receiver takes (vhost: negotiated; set before vid) */
	uint16_t eth_port; /* eth: DPDK port id */
	uint16_t nr_rxq;   /* eth */
	uint16_t nr_txq;   /* eth */
	bool txq_shared;   /* eth: fewer tx queues than workers */
	rte_spinlock_t txlock[VSW_MAX_WORKERS];

	/* Control side only. */
	int conn;	/* vhost: vid of the one accepted connection, -1 if none */
	uint64_t ups;	/* times the port came up */
	uint64_t downs; /* times it went down */
};

struct vsw_config {
	enum vsw_mode mode;
	uint32_t mac_slots;
	unsigned mac_age_s;
	unsigned stats_interval_s; /* 0: no periodic line */
	const char *ctl_path;	   /* NULL: no control socket */
	unsigned mbufs;
	bool offloads; /* offer checksum/TSO offloads on the vhost ports */
	unsigned
	    idle_us; /* 0: busy polling; else sleep this long after VSW_IDLE_POLLS empty passes */
};

struct vsw_worker {
	struct vsw *vsw;
	unsigned lcore;
	unsigned idx; /* 0..nr_workers-1 */
	/* Switch mode: per-destination staging for one rx burst. */
	struct rte_mbuf *out[VSW_MAX_PORTS][VSW_BURST];
	uint16_t nr_out[VSW_MAX_PORTS];
	struct rte_gso_ctx gso;		     /* software segmentation (offload.c) */
	struct rte_mbuf *segs[VSW_GSO_SEGS]; /* one frame's segments */
};

struct vsw {
	struct vsw_config cfg;
	struct vsw_port ports[VSW_MAX_PORTS];
	unsigned nr_ports;
	unsigned nr_workers;
	struct vsw_worker *workers[VSW_MAX_WORKERS];
	struct vsw_counters *counters; /* [nr_workers][nr_ports] */
	struct rte_mempool *pool;
	struct rte_rcu_qsbr *qsbr;
	struct mac_table *macs;
	uint64_t tsc_hz;
	uint32_t quit; /* set by the control loop, polled by workers */
};

static inline struct vsw_counters *vsw_counters_of(struct vsw *v, unsigned worker, unsigned port)
{
	return &v->counters[worker * v->nr_ports + port];
}

/* port.c */
int vsw_port_add_vhost(struct vsw *v, const char *spec);
int vsw_ports_add_eth(struct vsw *v);
int vsw_ports_start(struct vsw *v);
void vsw_ports_stop(struct vsw *v);
bool vsw_port_up(const struct vsw_port *p);

/* fwd.c */
int vsw_worker_main(void *arg);

/* offload.c */
int vsw_offload_parse(struct rte_mbuf *m);
int vsw_offload_complete(struct vsw_worker *w, struct rte_mbuf *m, struct rte_mbuf **out);
void vsw_offload_gso_init(struct vsw_worker *w);

/*
 * Does the frame ask its receiver for an offload? rte_vhost (with
 * RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS) marks a partial checksum with
 * RX_L4_CKSUM_NONE and a TSO frame with RX_LRO; ethdevs are not configured
 * for either. One test per frame on the fast path.
 */
static inline bool vsw_offload_wanted(const struct rte_mbuf *m)
{
	return (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE ||
	       (m->ol_flags & RTE_MBUF_F_RX_LRO);
}

/* stats.c */
void vsw_stats_sum(const struct vsw *v, unsigned port, struct vsw_counters *out);
void vsw_stats_print_ports(struct vsw *v, int fd);
void vsw_stats_print_macs(struct vsw *v, int fd);
void vsw_stats_print_line(struct vsw *v, int fd);
const char *vsw_drop_name(enum vsw_drop d);

/* ctl.c */
int vsw_ctl_open(const char *path);
void vsw_ctl_serve(struct vsw *v, int lfd);
void vsw_ctl_close(int lfd, const char *path);
int vsw_ctl_query(const char *path, const char *cmd);

#endif
