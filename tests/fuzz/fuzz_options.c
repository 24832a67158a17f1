/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the command line's key=value options (vmm-core/kv.c
 * behind --memory, --serial, --disk, --net, --console) through cli_parse.
 * The input is NUL-separated chunks; each chunk's first byte picks the
 * option, the rest is its value. Whatever cli_parse accepts must hold what
 * the devices rely on: strings terminated inside their fields and not
 * empty, counts and queue numbers in range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "machine.h"

#define MAX_CHUNKS 24

static void check(int ok)
{
	if (!ok)
		abort();
}

static int terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL && s[0] != '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const opts[] = {"--memory", "--serial",  "--disk",
					   "--net",    "--console", "--cpus"};
	char *argv[4 + 2 * MAX_CHUNKS + 1] = {"sluice", "run", "--kernel", "/dev/null"};
	char *vals[MAX_CHUNKS];
	struct machine_config cfg;
	enum cli_command cmd;
	size_t off = 0;
	int argc = 4, n = 0;

	while (off < size && n < MAX_CHUNKS) {
		const uint8_t *end = memchr(data + off, '\0', size - off);
		size_t len = end ? (size_t)(end - (data + off)) : size - off;

		vals[n] = malloc(len ? len : 1);
		if (!vals[n])
			break;
		memcpy(vals[n], data + off + 1, len ? len - 1 : 0);
		vals[n][len ? len - 1 : 0] = '\0';
		argv[argc++] = (char *)opts[(len ? data[off] : 0) % 6];
		argv[argc++] = vals[n++];
		off += len + 1;
	}
	argv[argc] = NULL;
	if (cli_parse(argc, argv, &cmd, &cfg) == 0 && cmd == CLI_RUN) {
		check(cfg.vm.mem_size > 0);
		check(cfg.vm.nr_cpus >= 1 && cfg.vm.nr_cpus <= CLI_MAX_CPUS);
		if (cfg.vm.serial == SERIAL_FILE)
			check(terminated(cfg.vm.serial_path, sizeof(cfg.vm.serial_path)));
		check(cfg.nr_disks <= MACHINE_MAX_DISKS);
		for (unsigned i = 0; i < cfg.nr_disks; i++) {
			check(terminated(cfg.disks[i].path, sizeof(cfg.disks[i].path)));
			check(cfg.disks[i].num_queues >= 1 &&
			      cfg.disks[i].num_queues <= VIRTIO_BLK_MAX_QUEUES);
		}
		check(cfg.nr_nets <= MACHINE_MAX_NETS);
		for (unsigned i = 0; i < cfg.nr_nets; i++) {
			const struct virtio_net_conf *c = &cfg.nets[i];

			check(!c->tap[0] != !c->vhost_user[0]);
			check(memchr(c->tap, '\0', sizeof(c->tap)) != NULL);
			check(memchr(c->vhost_user, '\0', sizeof(c->vhost_user)) != NULL);
			check(!strpbrk(c->tap, "/: \t\n"));
			check(c->num_queue_pairs >= 1 &&
			      c->num_queue_pairs <= VIRTIO_NET_MAX_QUEUE_PAIRS);
			check(!c->mac_set || !(c->mac[0] & 1));
		}
		check(cfg.console.mode <= VIRTIO_CONSOLE_FILE);
		if (cfg.console.mode == VIRTIO_CONSOLE_FILE)
			check(terminated(cfg.console.path, sizeof(cfg.console.path)));
	}
	while (n > 0)
		free(vals[--n]);
	return 0;
}
