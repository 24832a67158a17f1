/* SPDX-License-Identifier: MIT */
#include "cli.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

void cli_usage(FILE *f)
{
	fprintf(f,
		"usage: sluice run --kernel PATH [options]\n"
		"       sluice --help | --version\n"
		"\n"
		"sluice run: boot a guest on KVM.\n"
		"  --kernel PATH        bzImage, ELF64 vmlinux (PVH note honoured), multiboot v1\n"
		"                       image, or flat real-mode binary (loaded at 0x10000,\n"
		"                       started at 1000:0000); the format is read from the file\n"
		"  --initrd PATH        initial ramdisk (bzImage/ELF: initrd; multiboot: module)\n"
		"  --cmdline STR        kernel command line\n"
		"  --memory SIZE        guest RAM, e.g. 64M, 2G (default 256M);\n"
		"  --memory size=SIZE,hugepages=on   back it with huge pages\n"
		"  --cpus N             vCPUs (default 1, at most %d)\n"
		"  --serial MODE        COM1: stdio (default), file=PATH, or none\n"
		"  --cpu-policy FILE    CPUID/MSR policy overrides (docs/cpu-policy.md)\n"
		"  --rng                virtio-rng (virtio-pci), fed by the host's getrandom()\n"
		"  --disk path=IMG[,readonly=on|off][,num_queues=N]\n"
		"                       virtio-blk on a raw image (N from 1 to %d);\n"
		"                       repeat for more disks (at most %d)\n"
		"  --net tap=NAME[,mac=MAC][,num_queues=N]\n"
		"                       virtio-net on host TAP interface NAME (created if\n"
		"                       missing), N queue pairs (1 to %d); repeat for more\n"
		"                       NICs (at most %d)\n"
		"  --net vhost_user=SOCKET[,mac=MAC][,num_queues=N][,server=on]\n"
		"                       virtio-net whose queues a vhost-user backend (e.g.\n"
		"                       DPDK) serves through the unix socket SOCKET; sluice\n"
		"                       connects to it (waiting up to 10 s at start), or\n"
		"                       with server=on listens there; when the backend goes\n"
		"                       away the link is down until it is back\n"
		"  --console MODE       virtio-console (hvc0): off (default), stdio, file=PATH;\n"
		"                       only one of --serial and --console can be stdio\n"
		"\n"
		"Exit status: 0 when the guest resets or powers off; (v << 1) | 1 when it\n"
		"writes v to I/O port 0xf4; %d for bad input or setup failure; %d if the VMM\n"
		"fails while running; %d when the guest crashes (registers are printed).\n"
		"On a terminal, Ctrl-A x stops the VM.\n",
		CLI_MAX_CPUS, VM_DISK_MAX_QUEUES, VM_MAX_DISKS, VM_NET_MAX_QUEUE_PAIRS, VM_MAX_NETS,
		VM_STATUS_SETUP_ERROR, VM_STATUS_VMM_ERROR, VM_STATUS_GUEST_CRASH);
}

static int cli_bad(const char *opt, const char *val, const char *why)
{
	log_err("invalid %s '%s': %s", opt, val, why);
	return -EINVAL;
}

static int cli_parse_memory(const char *arg, struct vm_config *cfg)
{
	char buf[256], *save = NULL, *tok;
	bool have_size = false;

	if (strncmp(arg, "size=", 5) != 0 && !strchr(arg, '=')) {
		if (parse_size(arg, &cfg->mem_size))
			return cli_bad("--memory", arg, "expected a size such as 64M or 2G");
		return 0;
	}
	if (strlen(arg) >= sizeof(buf))
		return cli_bad("--memory", arg, "too long");
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "size=", 5)) {
			if (parse_size(tok + 5, &cfg->mem_size))
				return cli_bad("--memory", arg, "expected size=SIZE such as 2G");
			have_size = true;
		} else if (!strcmp(tok, "hugepages=on")) {
			cfg->hugepages = true;
		} else if (!strcmp(tok, "hugepages=off")) {
			cfg->hugepages = false;
		} else {
			return cli_bad("--memory", arg,
				       "unknown key (want size=, hugepages=on|off)");
		}
	}
	if (!have_size)
		return cli_bad("--memory", arg, "size= is missing");
	return 0;
}

static int cli_parse_serial(const char *arg, struct vm_config *cfg)
{
	if (!strcmp(arg, "stdio")) {
		cfg->serial = SERIAL_STDIO;
	} else if (!strcmp(arg, "none")) {
		cfg->serial = SERIAL_NONE;
	} else if (!strncmp(arg, "file=", 5) && arg[5]) {
		cfg->serial = SERIAL_FILE;
		cfg->serial_path = arg + 5;
	} else {
		return cli_bad("--serial", arg, "expected stdio, file=PATH or none");
	}
	return 0;
}

static int cli_parse_disk(const char *arg, struct vm_config *cfg)
{
	char buf[VM_DISK_PATH_MAX + 64], *save = NULL, *tok;
	struct vm_disk_config *d;
	unsigned long n;

	if (cfg->nr_disks >= VM_MAX_DISKS)
		return cli_bad("--disk", arg, "too many disks");
	if (strlen(arg) >= sizeof(buf))
		return cli_bad("--disk", arg, "too long");
	d = &cfg->disks[cfg->nr_disks];
	memset(d, 0, sizeof(*d));
	d->num_queues = 1;
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "path=", 5)) {
			if (!tok[5])
				return cli_bad("--disk", arg, "path= is empty");
			if (strlen(tok + 5) >= sizeof(d->path))
				return cli_bad("--disk", arg, "path too long");
			strcpy(d->path, tok + 5);
		} else if (!strcmp(tok, "readonly=on")) {
			d->readonly = true;
		} else if (!strcmp(tok, "readonly=off")) {
			d->readonly = false;
		} else if (!strncmp(tok, "num_queues=", 11)) {
			if (parse_uint(tok + 11, 1, VM_DISK_MAX_QUEUES, &n))
				return cli_bad("--disk", arg, "num_queues must be from 1 to 16");
			d->num_queues = (unsigned)n;
		} else {
			return cli_bad("--disk", arg,
				       "unknown key (want path=, readonly=on|off, num_queues=)");
		}
	}
	if (!d->path[0])
		return cli_bad("--disk", arg, "path= is missing");
	cfg->nr_disks++;
	return 0;
}

static int cli_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
				      &v[4], &v[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) || !isxdigit((unsigned char)s[i * 3 + 1]))
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	if (mac[0] & 1) /* multicast bit: not a station address */
		return -EINVAL;
	return 0;
}

static int cli_parse_net(const char *arg, struct vm_config *cfg)
{
	char buf[256], *save = NULL, *tok;
	struct vm_net_config *n;
	unsigned long v;

	if (cfg->nr_nets >= VM_MAX_NETS)
		return cli_bad("--net", arg, "too many network devices");
	if (strlen(arg) >= sizeof(buf))
		return cli_bad("--net", arg, "too long");
	n = &cfg->nets[cfg->nr_nets];
	memset(n, 0, sizeof(*n));
	n->num_queue_pairs = 1;
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "tap=", 4)) {
			const char *name = tok + 4;

			if (!name[0] || strlen(name) >= sizeof(n->tap))
				return cli_bad("--net", arg,
					       "tap= needs a name of 1 to 15 characters");
			for (const char *p = name; *p; p++)
				if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
					return cli_bad("--net", arg,
						       "interface names cannot contain '/', ':' "
						       "or spaces");
			strcpy(n->tap, name);
		} else if (!strncmp(tok, "vhost_user=", 11)) {
			const char *path = tok + 11;

			if (!path[0] || strlen(path) >= sizeof(n->vhost_user))
				return cli_bad("--net", arg,
					       "vhost_user= needs a socket path of 1 to 107 bytes");
			strcpy(n->vhost_user, path);
		} else if (!strncmp(tok, "server=", 7)) {
			if (strcmp(tok + 7, "on") && strcmp(tok + 7, "off"))
				return cli_bad("--net", arg, "server= is on or off");
			n->vhost_user_server = !strcmp(tok + 7, "on");
		} else if (!strncmp(tok, "mac=", 4)) {
			if (cli_parse_mac(tok + 4, n->mac))
				return cli_bad(
				    "--net", arg,
				    "mac= wants a unicast address such as 52:54:00:12:34:56");
			n->mac_set = true;
		} else if (!strncmp(tok, "num_queues=", 11)) {
			if (parse_uint(tok + 11, 1, VM_NET_MAX_QUEUE_PAIRS, &v))
				return cli_bad("--net", arg,
					       "num_queues (queue pairs) must be from 1 to 8");
			n->num_queue_pairs = (unsigned)v;
		} else {
			return cli_bad("--net", arg,
				       "unknown key (want tap= or vhost_user=, mac=, num_queues=, "
				       "server=)");
		}
	}
	if (!n->tap[0] == !n->vhost_user[0])
		return cli_bad("--net", arg, "exactly one of tap= and vhost_user= is needed");
	if (n->vhost_user_server && !n->vhost_user[0])
		return cli_bad("--net", arg, "server= goes with vhost_user=");
	for (unsigned i = 0; i < cfg->nr_nets; i++) {
		if (n->tap[0] && !strcmp(cfg->nets[i].tap, n->tap))
			return cli_bad("--net", arg, "this TAP is already used by another --net");
		if (n->vhost_user[0] && !strcmp(cfg->nets[i].vhost_user, n->vhost_user))
			return cli_bad("--net", arg,
				       "this socket is already used by another --net");
	}
	cfg->nr_nets++;
	return 0;
}

static int cli_parse_console(const char *arg, struct vm_config *cfg)
{
	if (!strcmp(arg, "off")) {
		cfg->vconsole = VCONSOLE_OFF;
	} else if (!strcmp(arg, "stdio")) {
		cfg->vconsole = VCONSOLE_STDIO;
	} else if (!strncmp(arg, "file=", 5) && arg[5]) {
		cfg->vconsole = VCONSOLE_FILE;
		cfg->vconsole_path = arg + 5;
	} else {
		return cli_bad("--console", arg, "expected off, stdio or file=PATH");
	}
	return 0;
}

static int cli_parse_run(int argc, char **argv, struct vm_config *cfg)
{
	enum {
		OPT_KERNEL = 256,
		OPT_INITRD,
		OPT_CMDLINE,
		OPT_MEMORY,
		OPT_CPUS,
		OPT_SERIAL,
		OPT_CPU_POLICY,
		OPT_RNG,
		OPT_DISK,
		OPT_NET,
		OPT_CONSOLE,
		OPT_HELP
	};
	static const struct option opts[] = {
	    {"kernel", required_argument, NULL, OPT_KERNEL},
	    {"initrd", required_argument, NULL, OPT_INITRD},
	    {"cmdline", required_argument, NULL, OPT_CMDLINE},
	    {"memory", required_argument, NULL, OPT_MEMORY},
	    {"cpus", required_argument, NULL, OPT_CPUS},
	    {"serial", required_argument, NULL, OPT_SERIAL},
	    {"cpu-policy", required_argument, NULL, OPT_CPU_POLICY},
	    {"rng", no_argument, NULL, OPT_RNG},
	    {"disk", required_argument, NULL, OPT_DISK},
	    {"net", required_argument, NULL, OPT_NET},
	    {"console", required_argument, NULL, OPT_CONSOLE},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	unsigned long n;
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			cfg->kernel_path = optarg;
			break;
		case OPT_INITRD:
			cfg->initrd_path = optarg;
			break;
		case OPT_CMDLINE:
			cfg->cmdline = optarg;
			break;
		case OPT_MEMORY:
			if ((ret = cli_parse_memory(optarg, cfg)))
				return ret;
			break;
		case OPT_CPUS:
			if (parse_uint(optarg, 1, CLI_MAX_CPUS, &n))
				return cli_bad("--cpus", optarg, "expected a number from 1 to 254");
			cfg->nr_cpus = (unsigned)n;
			break;
		case OPT_SERIAL:
			if ((ret = cli_parse_serial(optarg, cfg)))
				return ret;
			break;
		case OPT_CPU_POLICY:
			cfg->cpu_policy_path = optarg;
			break;
		case OPT_RNG:
			cfg->rng = true;
			break;
		case OPT_DISK:
			if ((ret = cli_parse_disk(optarg, cfg)))
				return ret;
			break;
		case OPT_NET:
			if ((ret = cli_parse_net(optarg, cfg)))
				return ret;
			break;
		case OPT_CONSOLE:
			if ((ret = cli_parse_console(optarg, cfg)))
				return ret;
			break;
		case OPT_HELP:
			return 1;
		case ':':
			log_err("option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			log_err("unknown option '%s' (see sluice --help)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s' (see sluice --help)", argv[optind]);
		return -EINVAL;
	}
	if (cfg->serial == SERIAL_STDIO && cfg->vconsole == VCONSOLE_STDIO) {
		log_err("--serial stdio and --console stdio: only one device can own the "
			"terminal (e.g. --serial none or --serial file=PATH)");
		return -EINVAL;
	}
	if (!cfg->kernel_path) {
		log_err("run: --kernel PATH is required");
		return -EINVAL;
	}
	if (access(cfg->kernel_path, R_OK) < 0) {
		log_err("cannot read kernel %s: %s", cfg->kernel_path, strerror(errno));
		return -errno;
	}
	if (cfg->initrd_path && access(cfg->initrd_path, R_OK) < 0) {
		log_err("cannot read initrd %s: %s", cfg->initrd_path, strerror(errno));
		return -errno;
	}
	return 0;
}

int cli_parse(int argc, char **argv, enum cli_command *cmd, struct vm_config *cfg)
{
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = CLI_DEFAULT_MEMORY;
	cfg->nr_cpus = 1;
	cfg->serial = SERIAL_STDIO;
	if (argc < 2) {
		log_err("no command given (try: sluice run --kernel PATH, or sluice --help)");
		return -EINVAL;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		*cmd = CLI_HELP;
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		*cmd = CLI_VERSION;
		return 0;
	}
	if (strcmp(argv[1], "run") != 0) {
		log_err("unknown command '%s' (see sluice --help)", argv[1]);
		return -EINVAL;
	}
	*cmd = CLI_RUN;
	ret = cli_parse_run(argc - 1, argv + 1, cfg);
	if (ret == 1)
		*cmd = CLI_HELP;
	return ret < 0 ? ret : 0;
}
