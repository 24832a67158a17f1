/* SPDX-License-Identifier: MIT */
/*
 * The device kinds the machine adds, in order: each one's option, help,
 * create and destroy. The order is the PCI slot order: virtio-rng, the
 * disks, the NICs (TAP and vhost-user in command-line order: one kind, so
 * mixing them keeps the order given), virtio-console. A vIOMMU will come
 * first (the devices behind it are added after it), VFIO devices last.
 */
#include "kv.h"
#include "log.h"
#include "machine.h"
#include "util.h"
#include "vhost_user_net.h"
#include "virtio_rng.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* calloc with the one error line a failed create owes. */
static void *machine_alloc(const char *what, size_t size)
{
	void *p = calloc(1, size);

	if (!p)
		log_err("%s: out of memory", what);
	return p;
}

/* ---- virtio-rng: --rng ---- */

static void kind_rng_usage(FILE *f)
{
	fprintf(f,
		"  --rng                virtio-rng (virtio-pci), fed by the host's getrandom()\n");
}

static int kind_rng_parse(struct machine_config *cfg, const char *arg)
{
	(void)arg;
	cfg->rng = true;
	return 0;
}

static unsigned kind_rng_count(const struct machine_config *cfg)
{
	return cfg->rng ? 1 : 0;
}

static int kind_rng_create(struct machine *m, unsigned i, void **dev, struct pci_device **ep)
{
	struct virtio_rng *rng = machine_alloc("virtio-rng", sizeof(*rng));
	int ret;

	(void)i;
	if (!rng)
		return -ENOMEM;
	if ((ret = virtio_rng_init(rng, &m->env))) {
		free(rng);
		return ret;
	}
	*dev = rng;
	*ep = &rng->vdev.pci;
	return 0;
}

static void kind_rng_destroy(const struct machine_config *cfg, unsigned i, void *dev)
{
	(void)cfg;
	(void)i;
	virtio_rng_destroy(dev);
	free(dev);
}

/* ---- virtio-blk: --disk path=IMG[,readonly=on|off][,num_queues=N] ---- */

static const struct kv_key kind_blk_keys[] = {
    {.name = "path", .type = KV_STR, .flags = KV_REQUIRED, KV_FIELD(struct virtio_blk_conf, path)},
    {.name = "readonly", .type = KV_BOOL, KV_FIELD(struct virtio_blk_conf, readonly)},
    {.name = "num_queues",
     .type = KV_UINT,
     KV_FIELD(struct virtio_blk_conf, num_queues),
     .min = 1,
     .max = VIRTIO_BLK_MAX_QUEUES},
};

static const struct kv_spec kind_blk_spec = {
    .option = "--disk",
    .keys = kind_blk_keys,
    .nr_keys = ARRAY_SIZE(kind_blk_keys),
};

static void kind_blk_usage(FILE *f)
{
	fprintf(f,
		"  --disk path=IMG[,readonly=on|off][,num_queues=N]\n"
		"                       virtio-blk on a raw image (N from 1 to %d);\n"
		"                       repeat for more disks (at most %d)\n",
		VIRTIO_BLK_MAX_QUEUES, MACHINE_MAX_DISKS);
}

static int kind_blk_parse(struct machine_config *cfg, const char *arg)
{
	struct virtio_blk_conf d = {.num_queues = 1};
	int ret;

	if (cfg->nr_disks >= MACHINE_MAX_DISKS)
		return kv_error("--disk", arg, "too many disks");
	if ((ret = kv_parse(&kind_blk_spec, arg, &d, NULL)))
		return ret;
	cfg->disks[cfg->nr_disks++] = d;
	return 0;
}

static unsigned kind_blk_count(const struct machine_config *cfg)
{
	return cfg->nr_disks;
}

static int kind_blk_create(struct machine *m, unsigned i, void **dev, struct pci_device **ep)
{
	const struct virtio_blk_conf *d = &m->cfg.disks[i];
	struct virtio_blk *blk = machine_alloc("virtio-blk", sizeof(*blk));
	int ret;

	if (!blk)
		return -ENOMEM;
	if ((ret = virtio_blk_init(blk, d->path, d->readonly, d->num_queues, &m->env))) {
		free(blk);
		return ret;
	}
	*dev = blk;
	*ep = &blk->vdev.pci;
	return 0;
}

static void kind_blk_destroy(const struct machine_config *cfg, unsigned i, void *dev)
{
	(void)cfg;
	(void)i;
	virtio_blk_destroy(dev);
	free(dev);
}

/*
 * ---- virtio-net: --net tap=NAME[,mac=MAC][,num_queues=N]
 *                  --net vhost_user=SOCKET[,mac=MAC][,num_queues=N][,server=on] ----
 */

/*
 * The limits in these messages are literals because the key table is a
 * static initializer (and the messages are the ones users have seen); the
 * assertions keep them equal to the constants.
 */
_Static_assert(VIRTIO_NET_TAP_NAME_MAX - 1 == 15, "update the tap= message");
_Static_assert(VIRTIO_NET_VHOST_USER_PATH_MAX - 1 == 107, "update the vhost_user= message");
_Static_assert(VIRTIO_NET_MAX_QUEUE_PAIRS == 8, "update the num_queues= message");

enum { NET_TAP, NET_VHOST_USER, NET_MAC, NET_NUM_QUEUES, NET_SERVER };
static const struct kv_key kind_net_keys[] = {
    [NET_TAP] = {.name = "tap",
		 .type = KV_STR,
		 KV_FIELD(struct virtio_net_conf, tap),
		 .expect = "tap= needs a name of 1 to 15 characters"},
    [NET_VHOST_USER] = {.name = "vhost_user",
			.type = KV_STR,
			KV_FIELD(struct virtio_net_conf, vhost_user),
			.expect = "vhost_user= needs a socket path of 1 to 107 bytes"},
    [NET_MAC] = {.name = "mac", .type = KV_MAC, KV_FIELD(struct virtio_net_conf, mac)},
    [NET_NUM_QUEUES] = {.name = "num_queues",
			.type = KV_UINT,
			KV_FIELD(struct virtio_net_conf, num_queue_pairs),
			.min = 1,
			.max = VIRTIO_NET_MAX_QUEUE_PAIRS,
			.expect = "num_queues (queue pairs) must be from 1 to 8"},
    [NET_SERVER] = {.name = "server",
		    .type = KV_BOOL,
		    KV_FIELD(struct virtio_net_conf, vhost_user_server)},
};

static const struct kv_spec kind_net_spec = {
    .option = "--net",
    .keys = kind_net_keys,
    .nr_keys = ARRAY_SIZE(kind_net_keys),
};

static void kind_net_usage(FILE *f)
{
	fprintf(f,
		"  --net tap=NAME[,mac=MAC][,num_queues=N]\n"
		"                       virtio-net on host TAP interface NAME (created if\n"
		"                       missing), N queue pairs (1 to %d); repeat for more\n"
		"                       NICs (at most %d)\n"
		"  --net vhost_user=SOCKET[,mac=MAC][,num_queues=N][,server=on]\n"
		"                       virtio-net whose queues a vhost-user backend (e.g.\n"
		"                       DPDK) serves through the unix socket SOCKET; sluice\n"
		"                       connects to it (waiting up to 10 s at start), or\n"
		"                       with server=on listens there; when the backend goes\n"
		"                       away the link is down until it is back\n",
		VIRTIO_NET_MAX_QUEUE_PAIRS, MACHINE_MAX_NETS);
}

static int kind_net_parse(struct machine_config *cfg, const char *arg)
{
	struct virtio_net_conf n = {.num_queue_pairs = 1};
	uint64_t seen;
	int ret;

	if (cfg->nr_nets >= MACHINE_MAX_NETS)
		return kv_error("--net", arg, "too many network devices");
	if ((ret = kv_parse(&kind_net_spec, arg, &n, &seen)))
		return ret;
	n.mac_set = kv_seen(seen, NET_MAC);
	for (const char *p = n.tap; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return kv_error("--net", arg,
					"interface names cannot contain '/', ':' or spaces");
	if (!n.tap[0] == !n.vhost_user[0])
		return kv_error("--net", arg, "exactly one of tap= and vhost_user= is needed");
	if (n.vhost_user_server && !n.vhost_user[0])
		return kv_error("--net", arg, "server= goes with vhost_user=");
	for (unsigned i = 0; i < cfg->nr_nets; i++) {
		if (n.tap[0] && !strcmp(cfg->nets[i].tap, n.tap))
			return kv_error("--net", arg, "this TAP is already used by another --net");
		if (n.vhost_user[0] && !strcmp(cfg->nets[i].vhost_user, n.vhost_user))
			return kv_error("--net", arg,
					"this socket is already used by another --net");
	}
	cfg->nets[cfg->nr_nets++] = n;
	return 0;
}

static unsigned kind_net_count(const struct machine_config *cfg)
{
	return cfg->nr_nets;
}

/* A vhost-user backend maps guest RAM: it must be a memfd. */
static bool kind_net_needs_shared_memory(const struct machine_config *cfg, unsigned i)
{
	return cfg->nets[i].vhost_user[0] != '\0';
}

static int kind_net_create(struct machine *m, unsigned i, void **dev, struct pci_device **ep)
{
	const struct virtio_net_conf *n = &m->cfg.nets[i];
	int ret;

	if (n->vhost_user[0]) {
		struct vhost_user_net *vu = machine_alloc("vhost-user-net", sizeof(*vu));

		if (!vu)
			return -ENOMEM;
		if ((ret = vhost_user_net_init(vu, n, &m->env))) {
			free(vu);
			return ret;
		}
		*dev = vu;
		*ep = &vu->vdev.pci;
	} else {
		struct virtio_net *net = machine_alloc("virtio-net", sizeof(*net));

		if (!net)
			return -ENOMEM;
		if ((ret = virtio_net_init(net, n, &m->env))) {
			free(net);
			return ret;
		}
		*dev = net;
		*ep = &net->vdev.pci;
	}
	return 0;
}

static void kind_net_destroy(const struct machine_config *cfg, unsigned i, void *dev)
{
	if (cfg->nets[i].vhost_user[0])
		vhost_user_net_destroy(dev);
	else
		virtio_net_destroy(dev);
	free(dev);
}

/* ---- virtio-console: --console off|stdio|file=PATH ---- */

struct console_opt {
	unsigned mode; /* index in kind_console_modes */
	char file[VIRTIO_CONSOLE_PATH_MAX];
};

enum { CONSOLE_MODE, CONSOLE_FILE };
static const char *const kind_console_modes[] = {"off", "stdio", NULL};
#define CONSOLE_USAGE "expected off, stdio or file=PATH"
static const struct kv_key kind_console_keys[] = {
    [CONSOLE_MODE] = {.name = "mode",
		      .type = KV_ENUM,
		      .flags = KV_BARE_ONLY,
		      KV_FIELD(struct console_opt, mode),
		      .names = kind_console_modes,
		      .expect = CONSOLE_USAGE},
    [CONSOLE_FILE] = {.name = "file",
		      .type = KV_STR,
		      .flags = KV_TAIL,
		      KV_FIELD(struct console_opt, file)},
};

static const struct kv_spec kind_console_spec = {
    .option = "--console",
    .keys = kind_console_keys,
    .nr_keys = ARRAY_SIZE(kind_console_keys),
    .usage = CONSOLE_USAGE,
};

static void kind_console_usage(FILE *f)
{
	fprintf(f,
		"  --console MODE       virtio-console (hvc0): off (default), stdio, file=PATH;\n"
		"                       only one of --serial and --console can be stdio\n");
}

static int kind_console_parse(struct machine_config *cfg, const char *arg)
{
	struct console_opt o = {0};
	uint64_t seen;
	int ret;

	if ((ret = kv_parse(&kind_console_spec, arg, &o, &seen)))
		return ret;
	if (kv_seen(seen, CONSOLE_MODE) == kv_seen(seen, CONSOLE_FILE))
		return kv_error("--console", arg, "%s", CONSOLE_USAGE);
	if (kv_seen(seen, CONSOLE_FILE)) {
		cfg->console.mode = VIRTIO_CONSOLE_FILE;
		memcpy(cfg->console.path, o.file, sizeof(o.file));
	} else {
		cfg->console.mode = o.mode ? VIRTIO_CONSOLE_STDIO : VIRTIO_CONSOLE_OFF;
	}
	return 0;
}

static unsigned kind_console_count(const struct machine_config *cfg)
{
	return cfg->console.mode != VIRTIO_CONSOLE_OFF ? 1 : 0;
}

/* stdio or file=PATH: guest output there; with stdio, stdin feeds the port too. */
static int kind_console_create(struct machine *m, unsigned i, void **dev, struct pci_device **ep)
{
	const struct virtio_console_conf *c = &m->cfg.console;
	struct virtio_console *con;
	int out_fd = STDOUT_FILENO, ret;

	(void)i;
	if (c->mode == VIRTIO_CONSOLE_FILE) {
		out_fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out_fd < 0) {
			ret = -errno;
			log_err("virtio-console: cannot open output file %s: %s", c->path,
				strerror(errno));
			return ret;
		}
	}
	con = machine_alloc("virtio-console", sizeof(*con));
	ret = con ? virtio_console_init(con, out_fd, &m->env) : -ENOMEM;
	if (ret) {
		if (out_fd > STDERR_FILENO)
			close(out_fd);
		free(con);
		return ret;
	}
	if (c->mode == VIRTIO_CONSOLE_STDIO) {
		struct console_sink sink;

		virtio_console_sink(con, &sink);
		vm_set_console_sink(&m->vm, &sink);
	}
	*dev = con;
	*ep = &con->vdev.pci;
	return 0;
}

static void kind_console_destroy(const struct machine_config *cfg, unsigned i, void *dev)
{
	(void)cfg;
	(void)i;
	virtio_console_destroy(dev);
	free(dev);
}

/* ---- the table ---- */

static const struct machine_kind kinds[] = {
    {
	.name = "virtio-rng",
	.option = "rng",
	.usage = kind_rng_usage,
	.parse = kind_rng_parse,
	.count = kind_rng_count,
	.create = kind_rng_create,
	.destroy = kind_rng_destroy,
    },
    {
	.name = "virtio-blk",
	.option = "disk",
	.option_arg = true,
	.usage = kind_blk_usage,
	.parse = kind_blk_parse,
	.count = kind_blk_count,
	.create = kind_blk_create,
	.destroy = kind_blk_destroy,
    },
    {
	.name = "virtio-net",
	.option = "net",
	.option_arg = true,
	.usage = kind_net_usage,
	.parse = kind_net_parse,
	.count = kind_net_count,
	.needs_shared_memory = kind_net_needs_shared_memory,
	.create = kind_net_create,
	.destroy = kind_net_destroy,
    },
    {
	.name = "virtio-console",
	.option = "console",
	.option_arg = true,
	.usage = kind_console_usage,
	.parse = kind_console_parse,
	.count = kind_console_count,
	.create = kind_console_create,
	.destroy = kind_console_destroy,
    },
};

const struct machine_kind *machine_kinds(size_t *nr)
{
	*nr = ARRAY_SIZE(kinds);
	return kinds;
}
