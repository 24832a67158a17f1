/* SPDX-License-Identifier: MIT */
/*
 * sluice-vswitch: command line, EAL, setup, the control loop on the main
 * lcore (signals through a signalfd, periodic statistics, control socket) and
 * an orderly shutdown.
 *
 *   sluice-vswitch [EAL options] -- --vhost PATH[,client] ... [options]
 *   sluice-vswitch query CTL_SOCKET [stats|macs]
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "log.h"
#include "vswitch.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: sluice-vswitch [EAL options] -- [options]\n"
	    "       sluice-vswitch query CTL_SOCKET [stats|macs]\n"
	    "  --vhost PATH[,client]  a vhost-user port (server by default); repeatable\n"
	    "  --mode xconnect|switch port pairs 0<->1, 2<->3... or MAC learning (default)\n"
	    "  --mac-age SECONDS      learned MACs expire (default 300)\n"
	    "  --mac-slots N          MAC table size (default 4096)\n"
	    "  --stats SECONDS        print a counter line this often (default 0: off)\n"
	    "  --ctl PATH             control socket (query stats / macs)\n"
	    "  --mbufs N              mbuf pool size (default 16383)\n"
	    "  --offloads on|off      offer checksum/TSO offloads on the vhost ports (default on)\n"
	    "  --idle-us N            sleep N us between polls once idle (default 0: busy poll)\n"
	    "Ports are numbered in order: the --vhost ports, then the EAL's ethdevs\n"
	    "(--vdev net_tap0, net_af_packet0,iface=..., PCI devices). The main lcore\n"
	    "runs the control loop; every worker lcore forwards.\n");
}

/* util.h's parse_uint, which cannot be included next to rte_common.h (both
 * define container_of). */
static int parse_num(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_args(struct vsw *v, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"vhost", required_argument, NULL, 'v'},
	    {"mode", required_argument, NULL, 'm'},
	    {"mac-age", required_argument, NULL, 'a'},
	    {"mac-slots", required_argument, NULL, 's'},
	    {"stats", required_argument, NULL, 'S'},
	    {"ctl", required_argument, NULL, 'c'},
	    {"mbufs", required_argument, NULL, 'b'},
	    {"offloads", required_argument, NULL, 'o'},
	    {"idle-us", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	unsigned long val;
	int c, li = 0, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		switch (c) {
		case 'v':
			ret = vsw_port_add_vhost(v, optarg);
			if (ret < 0)
				return ret;
			break;
		case 'm':
			if (strcmp(optarg, "xconnect") == 0)
				v->cfg.mode = VSW_MODE_XCONNECT;
			else if (strcmp(optarg, "switch") == 0)
				v->cfg.mode = VSW_MODE_SWITCH;
			else {
				log_err("vswitch: --mode %s: expected xconnect or switch", optarg);
				return -EINVAL;
			}
			break;
		case 'a':
			if (parse_num(optarg, 1, 86400, &val) < 0)
				goto bad;
			v->cfg.mac_age_s = val;
			break;
		case 's':
			if (parse_num(optarg, 16, 1u << 24, &val) < 0)
				goto bad;
			v->cfg.mac_slots = val;
			break;
		case 'S':
			if (parse_num(optarg, 0, 3600, &val) < 0)
				goto bad;
			v->cfg.stats_interval_s = val;
			break;
		case 'c':
			v->cfg.ctl_path = optarg;
			break;
		case 'b':
			if (parse_num(optarg, 1024, 1u << 24, &val) < 0)
				goto bad;
			v->cfg.mbufs = val;
			break;
		case 'o':
			if (strcmp(optarg, "on") == 0)
				v->cfg.offloads = true;
			else if (strcmp(optarg, "off") == 0)
				v->cfg.offloads = false;
			else {
				log_err("vswitch: --offloads %s: expected on or off", optarg);
				return -EINVAL;
			}
			break;
		case 'i':
			if (parse_num(optarg, 0, 100000, &val) < 0)
				goto bad;
			v->cfg.idle_us = val;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_err("vswitch: unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return 0;
bad:
	log_err("vswitch: bad value '%s' for --%s", optarg, opts[li].name);
	return -EINVAL;
}

static int setup(struct vsw *v)
{
	unsigned lcore, i = 0;
	size_t sz;
	int ret;

	ret = vsw_ports_add_eth(v);
	if (ret < 0)
		return ret;
	if (v->nr_ports == 0) {
		log_err("vswitch: no ports (give --vhost PATH or an EAL --vdev)");
		return -EINVAL;
	}
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (i == VSW_MAX_WORKERS) {
			log_err("vswitch: more than %d worker lcores", VSW_MAX_WORKERS);
			return -E2BIG;
		}
		v->workers[i] =
		    rte_zmalloc("vsw_worker", sizeof(struct vsw_worker), RTE_CACHE_LINE_SIZE);
		if (v->workers[i] == NULL)
			goto nomem;
		v->workers[i]->vsw = v;
		v->workers[i]->lcore = lcore;
		v->workers[i]->idx = i;
		i++;
	}
	v->nr_workers = i;
	if (v->nr_workers == 0) {
		log_err("vswitch: no worker lcore: the main lcore only runs the control loop "
			"(give at least two lcores, e.g. -l 0,1)");
		return -EINVAL;
	}
	v->tsc_hz = rte_get_tsc_hz();
	v->counters =
	    rte_zmalloc("vsw_counters", sizeof(struct vsw_counters) * v->nr_workers * v->nr_ports,
			RTE_CACHE_LINE_SIZE);
	sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
	v->qsbr = rte_zmalloc("vsw_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (v->counters == NULL || v->qsbr == NULL)
		goto nomem;
	rte_rcu_qsbr_init(v->qsbr, RTE_MAX_LCORE);
	v->pool = rte_pktmbuf_pool_create("vsw_pool", v->cfg.mbufs, 256, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (v->pool == NULL) {
		log_err("vswitch: mbuf pool of %u: %s", v->cfg.mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	if (v->cfg.mode == VSW_MODE_SWITCH) {
		ret = mac_table_create(v->cfg.mac_slots, (uint64_t)v->cfg.mac_age_s * v->tsc_hz,
				       &v->macs);
		if (ret < 0) {
			log_err("vswitch: MAC table: %s", strerror(-ret));
			return ret;
		}
	}
	return 0;
nomem:
	log_err("vswitch: out of memory");
	return -ENOMEM;
}

static void teardown(struct vsw *v)
{
	mac_table_destroy(v->macs);
	rte_mempool_free(v->pool);
	rte_free(v->qsbr);
	rte_free(v->counters);
	for (unsigned i = 0; i < v->nr_workers; i++)
		rte_free(v->workers[i]);
}

/* Until SIGINT/SIGTERM: statistics and the control socket. */
static void control_loop(struct vsw *v, int sigfd, int ctlfd)
{
	uint64_t next = rte_get_timer_cycles() + v->cfg.stats_interval_s * v->tsc_hz;

	for (;;) {
		struct pollfd pfd[2] = {{.fd = sigfd, .events = POLLIN},
					{.fd = ctlfd, .events = POLLIN}};
		int n = poll(pfd, ctlfd >= 0 ? 2 : 1, 100);

		if (n > 0 && pfd[0].revents) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				log_info("vswitch: signal %u, shutting down", si.ssi_signo);
				return;
			}
		}
		if (n > 0 && ctlfd >= 0 && pfd[1].revents)
			vsw_ctl_serve(v, ctlfd);
		if (v->cfg.stats_interval_s && rte_get_timer_cycles() >= next) {
			vsw_stats_print_line(v, STDOUT_FILENO);
			next += v->cfg.stats_interval_s * v->tsc_hz;
		}
	}
}

int main(int argc, char **argv)
{
	struct vsw *v;
	sigset_t sigs;
	int sigfd = -1, ctlfd = -1, ret, n;

	if (argc >= 3 && strcmp(argv[1], "query") == 0)
		return vsw_ctl_query(argv[2], argc > 3 ? argv[3] : "stats") < 0 ? 1 : 0;

	/* Blocked before the EAL starts threads, so every thread inherits it and
	 * the signals are only ever read from the signalfd. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		log_err("vswitch: EAL init failed: %s", rte_strerror(rte_errno));
		return 1;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL) {
		log_err("vswitch: out of memory");
		rte_eal_cleanup();
		return 1;
	}
	v->cfg = (struct vsw_config){.mode = VSW_MODE_SWITCH,
				     .mac_slots = 4096,
				     .mac_age_s = 300,
				     .mbufs = 16383,
				     .offloads = true};
	ret = parse_args(v, argc - n, argv + n);
	if (ret == 0)
		ret = setup(v);
	if (ret == 0) {
		sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
		if (sigfd < 0) {
			ret = -errno;
			log_err("vswitch: signalfd: %s", strerror(errno));
		}
	}
	if (ret == 0 && v->cfg.ctl_path != NULL) {
		ctlfd = vsw_ctl_open(v->cfg.ctl_path);
		if (ctlfd < 0)
			ret = ctlfd;
	}
	if (ret == 0) {
		for (unsigned i = 0; i < v->nr_workers; i++)
			rte_eal_remote_launch(vsw_worker_main, v->workers[i], v->workers[i]->lcore);
		ret = vsw_ports_start(v);
		if (ret == 0) {
			log_info("vswitch: %u ports, %s mode, %u workers", v->nr_ports,
				 v->cfg.mode == VSW_MODE_SWITCH ? "switch" : "xconnect",
				 v->nr_workers);
			control_loop(v, sigfd, ctlfd);
		}
		__atomic_store_n(&v->quit, 1, __ATOMIC_RELAXED);
		rte_eal_mp_wait_lcore();
	}
	/* Every port closed: vhost sockets unregistered and unlinked, ethdevs closed. */
	vsw_ports_stop(v);
	if (ret == 0)
		vsw_stats_print_ports(v, STDOUT_FILENO);
	vsw_ctl_close(ctlfd, v->cfg.ctl_path);
	if (sigfd >= 0)
		close(sigfd);
	teardown(v);
	free(v);
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
