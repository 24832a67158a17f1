/* SPDX-License-Identifier: MIT */
/*
 * The datapath: one loop per worker lcore. Each worker polls its share of the
 * receive queues (queue pair q of port p belongs to worker (p + q) % workers),
 * forwards each burst, and reports a quiescent state after every pass.
 */
#include <sys/prctl.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_vhost.h>

#include "vswitch.h"

#define VHOST_RXQ(q) (2 * (q))	   /* vring the switch fills (the frontend's RX) */
#define VHOST_TXQ(q) (2 * (q) + 1) /* vring the switch drains (the frontend's TX) */

/* Single writer per counter; the control loop reads with relaxed loads. */
static inline void cnt_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* Send n frames to dst and release the caller's reference to each. */
static void fwd_send(struct vsw_worker *w, unsigned src, struct vsw_port *dst,
		     struct rte_mbuf **pkts, uint16_t n)
{
	struct vsw *v = w->vsw;
	struct vsw_counters *dc = vsw_counters_of(v, w->idx, dst->index);
	int vid = __atomic_load_n(&dst->vid, __ATOMIC_ACQUIRE);
	uint16_t sent;

	if (dst->kind == VSW_PORT_VHOST) {
		uint16_t nq = __atomic_load_n(&dst->nr_qp, __ATOMIC_ACQUIRE);

		if (vid < 0 || nq == 0) {
			cnt_add(&vsw_counters_of(v, w->idx, src)->drop[VSW_DROP_NO_DST], n);
			rte_pktmbuf_free_bulk(pkts, n);
			return;
		}
		/* Copies into the frontend's buffers: ours are freed either way. */
		sent = rte_vhost_enqueue_burst(vid, VHOST_RXQ(w->idx % nq), pkts, n);
		rte_pktmbuf_free_bulk(pkts, n);
	} else {
		uint16_t q = w->idx % dst->nr_txq;

		if (vid < 0) {
			cnt_add(&vsw_counters_of(v, w->idx, src)->drop[VSW_DROP_NO_DST], n);
			rte_pktmbuf_free_bulk(pkts, n);
			return;
		}
		if (dst->txq_shared)
			rte_spinlock_lock(&dst->txlock[q]);
		sent = rte_eth_tx_burst(dst->eth_port, q, pkts, n);
		if (dst->txq_shared)
			rte_spinlock_unlock(&dst->txlock[q]);
		if (sent < n)
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
	cnt_add(&dc->tx, sent);
	if (sent < n)
		cnt_add(&dc->drop[VSW_DROP_TX_FULL], n - sent);
}

static uint64_t ports_up(const struct vsw *v)
{
	uint64_t up = 0;

	for (unsigned i = 0; i < v->nr_ports; i++)
		if (vsw_port_up(&v->ports[i]))
			up |= 1ULL << i;
	return up;
}

static inline uint64_t mac_bits(const struct rte_ether_addr *a)
{
	const uint8_t *b = a->addr_bytes;

	return (uint64_t)b[0] << 40 | (uint64_t)b[1] << 32 | (uint64_t)b[2] << 24 |
	       (uint64_t)b[3] << 16 | (uint64_t)b[4] << 8 | b[5];
}

/* Queue a frame for port d; a full queue goes out first (segmentation can exceed a burst). */
static inline void stage(struct vsw_worker *w, unsigned src, unsigned d, struct rte_mbuf *m)
{
	if (unlikely(w->nr_out[d] == VSW_BURST)) {
		fwd_send(w, src, &w->vsw->ports[d], w->out[d], VSW_BURST);
		w->nr_out[d] = 0;
	}
	w->out[d][w->nr_out[d]++] = m;
}

/*
 * A frame that asks for an offload, to the receivers in dsts: kept as it is
 * for one receiver that takes the offload, completed in software otherwise
 * (and always for a flood, whose copies share the frame). Returns how many
 * frames it now is, in *out (pointing at m itself or at the worker's
 * segments), or 0 if it was dropped.
 */
static unsigned offload_for(struct vsw_worker *w, unsigned src, uint64_t dsts, struct rte_mbuf **m,
			    struct rte_mbuf ***out)
{
	struct vsw *v = w->vsw;
	struct vsw_counters *sc = vsw_counters_of(v, w->idx, src);
	int need = vsw_offload_parse(*m);
	int n;

	if (need < 0) {
		cnt_add(&sc->drop[VSW_DROP_OFFLOAD], 1);
		rte_pktmbuf_free(*m);
		return 0;
	}
	cnt_add(&sc->rx_csum, 1);
	if (need & (VSW_OL_TSO4 | VSW_OL_TSO6))
		cnt_add(&sc->rx_tso, 1);
	*out = m;
	if (__builtin_popcountll(dsts) == 1) {
		uint32_t takes =
		    __atomic_load_n(&v->ports[__builtin_ctzll(dsts)].tx_ol, __ATOMIC_RELAXED);

		if ((need & ~takes) == 0)
			return 1;
	}
	n = vsw_offload_complete(w, *m, w->segs);
	if (n < 0) {
		cnt_add(&sc->drop[VSW_DROP_OFFLOAD], 1);
		return 0;
	}
	cnt_add(&sc->sw_csum, n);
	if (need & (VSW_OL_TSO4 | VSW_OL_TSO6))
		cnt_add(&sc->sw_segs, n);
	*out = w->segs;
	return n;
}

static void fwd_xconnect(struct vsw_worker *w, unsigned src, struct rte_mbuf **pkts, uint16_t n)
{
	struct vsw *v = w->vsw;
	unsigned dst = src ^ 1;
	uint16_t i;

	if (dst >= v->nr_ports) {
		cnt_add(&vsw_counters_of(v, w->idx, src)->drop[VSW_DROP_NO_DST], n);
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	for (i = 0; i < n; i++)
		if (unlikely(vsw_offload_wanted(pkts[i])))
			break;
	if (likely(i == n)) {
		fwd_send(w, src, &v->ports[dst], pkts, n);
		return;
	}
	for (i = 0; i < n; i++) {
		struct rte_mbuf **out = &pkts[i];
		unsigned k = 1;

		if (vsw_offload_wanted(pkts[i]))
			k = offload_for(w, src, 1ULL << dst, &pkts[i], &out);
		for (unsigned j = 0; j < k; j++)
			stage(w, src, dst, out[j]);
	}
	if (w->nr_out[dst]) {
		fwd_send(w, src, &v->ports[dst], w->out[dst], w->nr_out[dst]);
		w->nr_out[dst] = 0;
	}
}

/* One frame to every port in flood: one reference per copy, on every segment. */
static void flood_frame(struct vsw_worker *w, unsigned src, uint64_t flood, struct rte_mbuf *m)
{
	struct rte_mbuf **out = &m;
	unsigned k = 1, copies = __builtin_popcountll(flood);

	if (unlikely(vsw_offload_wanted(m)))
		k = offload_for(w, src, flood, &m, &out);
	for (unsigned j = 0; j < k; j++) {
		if (copies > 1)
			for (struct rte_mbuf *seg = out[j]; seg != NULL; seg = seg->next)
				rte_mbuf_refcnt_update(seg, copies - 1);
		for (uint64_t f = flood; f; f &= f - 1) {
			unsigned d = __builtin_ctzll(f);

			stage(w, src, d, out[j]);
			cnt_add(&vsw_counters_of(w->vsw, w->idx, d)->flood, 1);
		}
	}
}

/*
 * Learning switch. Frames are staged per destination and sent as bursts. A
 * flooded frame gets one reference per destination (on every segment, since
 * freeing a chain drops a reference on each). A frame asking for an offload
 * goes through offload_for first (see offload.c).
 */
static void fwd_switch(struct vsw_worker *w, unsigned src, struct rte_mbuf **pkts, uint16_t n)
{
	struct vsw *v = w->vsw;
	struct vsw_counters *sc = vsw_counters_of(v, w->idx, src);
	uint64_t now = rte_rdtsc();
	uint64_t up = 0, touched = 0;
	bool up_known = false;
	uint64_t last_src = UINT64_MAX, last_dst = UINT64_MAX;
	int last_port = -1;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eh;
		uint64_t flood;
		int port;

		/* The frame length is the peer's word: check it before parsing. */
		if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN) {
			cnt_add(&sc->drop[VSW_DROP_RUNT], 1);
			rte_pktmbuf_free(m);
			continue;
		}
		eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		if (!rte_is_multicast_ether_addr(&eh->src_addr)) {
			uint64_t s = mac_bits(&eh->src_addr);

			if (s != last_src) {
				mac_table_learn(v->macs, eh->src_addr.addr_bytes, src, now);
				last_src = s;
				last_dst = UINT64_MAX; /* a learn may have changed what we cached */
			}
		}
		if (!rte_is_multicast_ether_addr(&eh->dst_addr)) {
			uint64_t d = mac_bits(&eh->dst_addr);

			if (d != last_dst) {
				last_port = mac_table_lookup(v->macs, eh->dst_addr.addr_bytes, now);
				last_dst = d;
			}
			port = last_port;
			if (port == (int)src) {
				cnt_add(&sc->drop[VSW_DROP_FILTERED], 1);
				rte_pktmbuf_free(m);
				continue;
			}
			if (port >= 0 && (unsigned)port < v->nr_ports &&
			    vsw_port_up(&v->ports[port])) {
				struct rte_mbuf **out = &m;
				unsigned k = 1;

				if (unlikely(vsw_offload_wanted(m)))
					k = offload_for(w, src, 1ULL << port, &m, &out);
				for (unsigned j = 0; j < k; j++)
					stage(w, src, port, out[j]);
				touched |= 1ULL << port;
				continue;
			}
		}
		/* Broadcast, multicast, unknown, or learned on a port that is down. */
		if (!up_known) {
			up = ports_up(v);
			up_known = true;
		}
		flood = up & ~(1ULL << src);
		if (flood == 0) {
			cnt_add(&sc->drop[VSW_DROP_NO_DST], 1);
			rte_pktmbuf_free(m);
			continue;
		}
		touched |= flood;
		flood_frame(w, src, flood, m);
	}
	while (touched) {
		unsigned d = __builtin_ctzll(touched);

		touched &= touched - 1;
		fwd_send(w, src, &v->ports[d], w->out[d], w->nr_out[d]);
		w->nr_out[d] = 0;
	}
}

static void fwd_burst(struct vsw_worker *w, unsigned src, struct rte_mbuf **pkts, uint16_t n)
{
	cnt_add(&vsw_counters_of(w->vsw, w->idx, src)->rx, n);
	if (w->vsw->cfg.mode == VSW_MODE_XCONNECT)
		fwd_xconnect(w, src, pkts, n);
	else
		fwd_switch(w, src, pkts, n);
}

/* Returns how many frames it received. */
static unsigned poll_port(struct vsw_worker *w, struct vsw_port *p)
{
	struct vsw *v = w->vsw;
	struct rte_mbuf *pkts[VSW_BURST];
	int vid = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);
	unsigned first = (w->idx + v->nr_workers - p->index % v->nr_workers) % v->nr_workers;
	unsigned got = 0;
	uint16_t n;

	if (vid < 0)
		return 0;
	if (p->kind == VSW_PORT_VHOST) {
		uint32_t on = __atomic_load_n(&p->vring_on, __ATOMIC_ACQUIRE);

		for (unsigned q = first; q < VSW_MAX_QP; q += v->nr_workers) {
			if (!(on >> VHOST_TXQ(q) & 1))
				continue;
			n = rte_vhost_dequeue_burst(vid, VHOST_TXQ(q), v->pool, pkts, VSW_BURST);
			if (n)
				fwd_burst(w, p->index, pkts, n);
			got += n;
		}
	} else {
		for (unsigned q = first; q < p->nr_rxq; q += v->nr_workers) {
			n = rte_eth_rx_burst(p->eth_port, q, pkts, VSW_BURST);
			if (n)
				fwd_burst(w, p->index, pkts, n);
			got += n;
		}
	}
	return got;
}

int vsw_worker_main(void *arg)
{
	struct vsw_worker *w = arg;
	struct vsw *v = w->vsw;
	unsigned idle = 0;

	vsw_offload_gso_init(w);
	/* An idle sleep of a few microseconds must not become the default 50 us slack. */
	if (v->cfg.idle_us)
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	rte_rcu_qsbr_thread_register(v->qsbr, w->lcore);
	rte_rcu_qsbr_thread_online(v->qsbr, w->lcore);
	while (!__atomic_load_n(&v->quit, __ATOMIC_RELAXED)) {
		unsigned got = 0;

		for (unsigned i = 0; i < v->nr_ports; i++)
			got += poll_port(w, &v->ports[i]);
		/* No port state read before this point is used after it. */
		rte_rcu_qsbr_quiescent(v->qsbr, w->lcore);
		/*
		 * --idle-us: a worker that found nothing VSW_IDLE_POLLS times in a
		 * row sleeps between passes until traffic returns, so an idle switch
		 * leaves its CPU to the VMs. It holds no port state while asleep (a
		 * grace period waits at most one sleep).
		 */
		if (got)
			idle = 0;
		else if (v->cfg.idle_us && ++idle >= VSW_IDLE_POLLS)
			rte_delay_us_sleep(v->cfg.idle_us);
	}
	rte_rcu_qsbr_thread_offline(v->qsbr, w->lcore);
	rte_rcu_qsbr_thread_unregister(v->qsbr, w->lcore);
	return 0;
}
