/* SPDX-License-Identifier: MIT */
/*
 * Per-port counters, summed over the workers while they run, and their text
 * forms: one "port" line per port (the control socket's "stats"), one "mac"
 * line per learned address ("macs"), and the periodic one-line summary.
 */
#include <stdio.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "vswitch.h"

static const char *const drop_names[VSW_DROP_MAX] = {
    [VSW_DROP_RUNT] = "runt",	    [VSW_DROP_NO_DST] = "no_dst",
    [VSW_DROP_TX_FULL] = "tx_full", [VSW_DROP_FILTERED] = "filtered",
    [VSW_DROP_OFFLOAD] = "offload",
};

const char *vsw_drop_name(enum vsw_drop d)
{
	return d < VSW_DROP_MAX ? drop_names[d] : "?";
}

void vsw_stats_sum(const struct vsw *v, unsigned port, struct vsw_counters *out)
{
	*out = (struct vsw_counters){0};
	for (unsigned w = 0; w < v->nr_workers; w++) {
		const struct vsw_counters *c = &v->counters[w * v->nr_ports + port];

		out->rx += __atomic_load_n(&c->rx, __ATOMIC_RELAXED);
		out->tx += __atomic_load_n(&c->tx, __ATOMIC_RELAXED);
		out->flood += __atomic_load_n(&c->flood, __ATOMIC_RELAXED);
		for (int d = 0; d < VSW_DROP_MAX; d++)
			out->drop[d] += __atomic_load_n(&c->drop[d], __ATOMIC_RELAXED);
		out->rx_csum += __atomic_load_n(&c->rx_csum, __ATOMIC_RELAXED);
		out->rx_tso += __atomic_load_n(&c->rx_tso, __ATOMIC_RELAXED);
		out->sw_csum += __atomic_load_n(&c->sw_csum, __ATOMIC_RELAXED);
		out->sw_segs += __atomic_load_n(&c->sw_segs, __ATOMIC_RELAXED);
	}
}

void vsw_stats_print_ports(struct vsw *v, int fd)
{
	for (unsigned i = 0; i < v->nr_ports; i++) {
		const struct vsw_port *p = &v->ports[i];
		struct vsw_counters c;

		vsw_stats_sum(v, i, &c);
		dprintf(fd, "port %u %s %s %s qp=%u ups=%lu rx=%lu tx=%lu flood=%lu", i,
			p->kind == VSW_PORT_VHOST ? "vhost" : "eth", p->name,
			vsw_port_up(p) ? "up" : "down",
			p->kind == VSW_PORT_VHOST ? __atomic_load_n(&p->nr_qp, __ATOMIC_RELAXED)
						  : p->nr_rxq,
			(unsigned long)p->ups, (unsigned long)c.rx, (unsigned long)c.tx,
			(unsigned long)c.flood);
		for (int d = 0; d < VSW_DROP_MAX; d++)
			dprintf(fd, " drop_%s=%lu", drop_names[d], (unsigned long)c.drop[d]);
		dprintf(fd, " rx_csum=%lu rx_tso=%lu sw_csum=%lu sw_segs=%lu\n",
			(unsigned long)c.rx_csum, (unsigned long)c.rx_tso, (unsigned long)c.sw_csum,
			(unsigned long)c.sw_segs);
	}
}

struct mac_print {
	int fd;
	uint64_t hz;
};

static void print_mac(void *arg, const uint8_t mac[6], uint16_t port, uint64_t age)
{
	struct mac_print *mp = arg;

	dprintf(mp->fd, "mac %02x:%02x:%02x:%02x:%02x:%02x port %u age_ms %lu\n", mac[0], mac[1],
		mac[2], mac[3], mac[4], mac[5], port, (unsigned long)(age * 1000 / mp->hz));
}

void vsw_stats_print_macs(struct vsw *v, int fd)
{
	struct mac_print mp = {.fd = fd, .hz = v->tsc_hz};

	if (v->macs == NULL)
		return;
	mac_table_walk(v->macs, rte_rdtsc(), print_mac, &mp);
}

void vsw_stats_print_line(struct vsw *v, int fd)
{
	char line[4096];
	size_t len = 0;

	len += snprintf(line, sizeof(line), "vswitch:");
	for (unsigned i = 0; i < v->nr_ports && len < sizeof(line); i++) {
		struct vsw_counters c;
		uint64_t drops = 0;

		vsw_stats_sum(v, i, &c);
		for (int d = 0; d < VSW_DROP_MAX; d++)
			drops += c.drop[d];
		len += snprintf(line + len, sizeof(line) - len, " p%u %s rx=%lu tx=%lu drop=%lu", i,
				vsw_port_up(&v->ports[i]) ? "up" : "down", (unsigned long)c.rx,
				(unsigned long)c.tx, (unsigned long)drops);
	}
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	line[len++] = '\n';
	/* One write per line: lines from the periodic report stay whole. */
	(void)!write(fd, line, len);
}
