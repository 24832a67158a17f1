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
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>

#include "mac_table.h"

#define VSW_MAX_PORTS	64 /* a port set is a uint64_t */
#define VSW_MAX_QP	16 /* queue pairs served per vhost port */
#define VSW_MAX_WORKERS 32
#define VSW_BURST	32
#define VSW_PATH_MAX	108 /* sun_path */

enum vsw_mode { VSW_MODE_XCONNECT, VSW_MODE_SWITCH };
enum vsw_port_kind { VSW_PORT_VHOST, VSW_PORT_ETH };

enum vsw_drop {
	VSW_DROP_RUNT,	   /* shorter than an Ethernet header */
	VSW_DROP_NO_DST,   /* no peer port, or every destination is down */
	VSW_DROP_TX_FULL,  /* the destination queue took fewer than offered */
	VSW_DROP_FILTERED, /* destination learned on the source port */
	VSW_DROP_MAX,
};

/* One worker's counters for one port: written by that worker only. */
struct vsw_counters {
	uint64_t rx;
	uint64_t tx;
	uint64_t flood; /* frames this port sent out as a flood copy */
	uint64_t drop[VSW_DROP_MAX];
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
};

struct vsw_worker {
	struct vsw *vsw;
	unsigned lcore;
	unsigned idx; /* 0..nr_workers-1 */
	/* Switch mode: per-destination staging for one rx burst. */
	struct rte_mbuf *out[VSW_MAX_PORTS][VSW_BURST];
	uint16_t nr_out[VSW_MAX_PORTS];
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
