/* SPDX-License-Identifier: MIT */
#include "cli.h"
#include "kv.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

void cli_usage(FILE *f)
{
	size_t nr;
	const struct machine_kind *kinds = machine_kinds(&nr);

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
		"  --memory size=SIZE[,hugepages=on][,shared=on]\n"
		"                       hugepages=on: 2 MiB hugetlbfs pages (reserved in\n"
		"                       /proc/sys/vm/nr_hugepages); shared=on: a memfd other\n"
		"                       processes can map (vhost-user gets one anyway);\n"
		"                       otherwise private memory with transparent huge pages\n"
		"  --cpus N             vCPUs (default 1, at most %d)\n"
		"  --serial MODE        COM1: stdio (default), file=PATH, or none\n"
		"  --cpu-policy FILE    CPUID/MSR policy overrides (docs/cpu-policy.md)\n",
		CLI_MAX_CPUS);
	for (size_t k = 0; k < nr; k++)
		if (kinds[k].usage)
			kinds[k].usage(f);
	fprintf(f,
		"\n"
		"Exit status: 0 when the guest resets or powers off; (v << 1) | 1 when it\n"
		"writes v to I/O port 0xf4; %d for bad input or setup failure; %d if the VMM\n"
		"fails while running; %d when the guest crashes (registers are printed).\n"
		"On a terminal, Ctrl-A x stops the VM.\n",
		VM_STATUS_SETUP_ERROR, VM_STATUS_VMM_ERROR, VM_STATUS_GUEST_CRASH);
}

/* --memory SIZE | size=SIZE[,hugepages=on|off][,shared=on|off] */
static const struct kv_key memory_keys[] = {
    {.name = "size",
     .type = KV_SIZE,
     .flags = KV_BARE | KV_REQUIRED,
     KV_FIELD(struct vm_config, mem_size)},
    {.name = "hugepages", .type = KV_BOOL, KV_FIELD(struct vm_config, hugepages)},
    {.name = "shared", .type = KV_BOOL, KV_FIELD(struct vm_config, shared_memory)},
};

static const struct kv_spec memory_spec = {
    .option = "--memory",
    .keys = memory_keys,
    .nr_keys = ARRAY_SIZE(memory_keys),
};

/* --serial stdio|none|file=PATH (a path may hold commas: file= takes the rest). */
struct serial_opt {
	unsigned mode; /* index in serial_modes */
	char file[VM_PATH_MAX];
};

enum { SERIAL_KEY_MODE, SERIAL_KEY_FILE };
static const char *const serial_modes[] = {"stdio", "none", NULL};
#define SERIAL_USAGE "expected stdio, file=PATH or none"
static const struct kv_key serial_keys[] = {
    [SERIAL_KEY_MODE] = {.name = "mode",
			 .type = KV_ENUM,
			 .flags = KV_BARE_ONLY,
			 KV_FIELD(struct serial_opt, mode),
			 .names = serial_modes,
			 .expect = SERIAL_USAGE},
    [SERIAL_KEY_FILE] = {.name = "file",
			 .type = KV_STR,
			 .flags = KV_TAIL,
			 KV_FIELD(struct serial_opt, file)},
};

static const struct kv_spec serial_spec = {
    .option = "--serial",
    .keys = serial_keys,
    .nr_keys = ARRAY_SIZE(serial_keys),
    .usage = SERIAL_USAGE,
};

static int cli_parse_serial(const char *arg, struct vm_config *cfg)
{
	struct serial_opt o = {0};
	uint64_t seen;
	int ret;

	if ((ret = kv_parse(&serial_spec, arg, &o, &seen)))
		return ret;
	if (kv_seen(seen, SERIAL_KEY_MODE) == kv_seen(seen, SERIAL_KEY_FILE))
		return kv_error("--serial", arg, "%s", SERIAL_USAGE);
	if (kv_seen(seen, SERIAL_KEY_FILE)) {
		cfg->serial = SERIAL_FILE;
		memcpy(cfg->serial_path, o.file, sizeof(o.file));
	} else {
		cfg->serial = o.mode == 0 ? SERIAL_STDIO : SERIAL_NONE;
	}
	return 0;
}

static int cli_parse_run(int argc, char **argv, struct machine_config *cfg)
{
	enum {
		OPT_KERNEL = 256,
		OPT_INITRD,
		OPT_CMDLINE,
		OPT_MEMORY,
		OPT_CPUS,
		OPT_SERIAL,
		OPT_CPU_POLICY,
		OPT_HELP,
		OPT_KIND, /* + index in the kind table */
		NR_FIXED = OPT_KIND - OPT_KERNEL,
	};
	static const struct option fixed[NR_FIXED] = {
	    {"kernel", required_argument, NULL, OPT_KERNEL},
	    {"initrd", required_argument, NULL, OPT_INITRD},
	    {"cmdline", required_argument, NULL, OPT_CMDLINE},
	    {"memory", required_argument, NULL, OPT_MEMORY},
	    {"cpus", required_argument, NULL, OPT_CPUS},
	    {"serial", required_argument, NULL, OPT_SERIAL},
	    {"cpu-policy", required_argument, NULL, OPT_CPU_POLICY},
	    {"help", no_argument, NULL, OPT_HELP},
	};
	size_t nr_kinds;
	const struct machine_kind *kinds = machine_kinds(&nr_kinds);
	struct option opts[NR_FIXED + nr_kinds + 1];
	size_t nr_opts = NR_FIXED;
	unsigned long n;
	int c, ret;

	memcpy(opts, fixed, sizeof(fixed));
	for (size_t k = 0; k < nr_kinds; k++)
		if (kinds[k].option)
			opts[nr_opts++] = (struct option){
			    kinds[k].option, kinds[k].option_arg ? required_argument : no_argument,
			    NULL, OPT_KIND + (int)k};
	opts[nr_opts] = (struct option){NULL, 0, NULL, 0};

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			cfg->vm.kernel_path = optarg;
			break;
		case OPT_INITRD:
			cfg->vm.initrd_path = optarg;
			break;
		case OPT_CMDLINE:
			cfg->vm.cmdline = optarg;
			break;
		case OPT_MEMORY:
			if ((ret = kv_parse(&memory_spec, optarg, &cfg->vm, NULL)))
				return ret;
			break;
		case OPT_CPUS:
			if (parse_uint(optarg, 1, CLI_MAX_CPUS, &n))
				return kv_error("--cpus", optarg, "expected a number from 1 to %d",
						CLI_MAX_CPUS);
			cfg->vm.nr_cpus = (unsigned)n;
			break;
		case OPT_SERIAL:
			if ((ret = cli_parse_serial(optarg, &cfg->vm)))
				return ret;
			break;
		case OPT_CPU_POLICY:
			cfg->vm.cpu_policy_path = optarg;
			break;
		case OPT_HELP:
			return 1;
		case ':':
			log_err("option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			if (c >= OPT_KIND && (size_t)(c - OPT_KIND) < nr_kinds) {
				const struct machine_kind *k = &kinds[c - OPT_KIND];

				if ((ret = k->parse(cfg, k->option_arg ? optarg : NULL)))
					return ret;
				break;
			}
			log_err("unknown option '%s' (see sluice --help)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s' (see sluice --help)", argv[optind]);
		return -EINVAL;
	}
	if (cfg->vm.serial == SERIAL_STDIO && cfg->console.mode == VIRTIO_CONSOLE_STDIO) {
		log_err("--serial stdio and --console stdio: only one device can own the "
			"terminal (e.g. --serial none or --serial file=PATH)");
		return -EINVAL;
	}
	if (!cfg->vm.kernel_path) {
		log_err("run: --kernel PATH is required");
		return -EINVAL;
	}
	if (access(cfg->vm.kernel_path, R_OK) < 0) {
		log_err("cannot read kernel %s: %s", cfg->vm.kernel_path, strerror(errno));
		return -errno;
	}
	if (cfg->vm.initrd_path && access(cfg->vm.initrd_path, R_OK) < 0) {
		log_err("cannot read initrd %s: %s", cfg->vm.initrd_path, strerror(errno));
		return -errno;
	}
	return 0;
}

int cli_parse(int argc, char **argv, enum cli_command *cmd, struct machine_config *cfg)
{
	int ret;

	machine_config_init(cfg);
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
