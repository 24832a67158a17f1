/* SPDX-License-Identifier: MIT */
/*
 * The machine layer (vmm-core/machine/): the kind table's order, the memory
 * decision taken from device configs, and, where /dev/kvm is usable, a
 * whole machine built through the three phases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "machine.h"
#include "util.h"
#include "virtio_blk.h"
#include "virtio_console.h"
#include "virtio_rng.h"

#define PARSE(cfg, ...)                                                                            \
	({                                                                                         \
		char *argv[] = {"sluice", "run", "--kernel", "/dev/null", __VA_ARGS__, NULL};      \
		enum cli_command cmd;                                                              \
		cli_parse((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, &cmd, cfg);             \
	})

/* The order devices are added in, and so their PCI slots: as before the machine layer. */
static void test_kind_order(void **state)
{
	static const char *const names[] = {"virtio-rng", "virtio-blk", "virtio-net",
					    "virtio-console"};
	static const char *const options[] = {"rng", "disk", "net", "console"};
	size_t nr;
	const struct machine_kind *k = machine_kinds(&nr);

	(void)state;
	assert_int_equal(nr, 4);
	for (size_t i = 0; i < nr; i++) {
		assert_string_equal(k[i].name, names[i]);
		assert_string_equal(k[i].option, options[i]);
		assert_non_null(k[i].parse);
		assert_non_null(k[i].count);
		assert_non_null(k[i].create);
		assert_non_null(k[i].destroy);
		assert_non_null(k[i].usage);
	}
	assert_false(k[0].option_arg); /* --rng is a flag */
}

/* Guest RAM is a memfd when --memory shared=on asks or a vhost-user NIC needs it. */
static void test_shared_memory_decision(void **state)
{
	struct machine_config cfg;
	struct vm_config vm;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--rng"), 0);
	machine_vm_config(&cfg, &vm);
	assert_false(vm.shared_memory);
	assert_int_equal(vm.mem_size, CLI_DEFAULT_MEMORY);

	assert_int_equal(PARSE(&cfg, "--net", "tap=t0", "--memory", "size=1G,hugepages=on"), 0);
	machine_vm_config(&cfg, &vm);
	assert_false(vm.shared_memory);
	assert_true(vm.hugepages);
	assert_int_equal(vm.mem_size, 1ULL << 30);

	assert_int_equal(PARSE(&cfg, "--net", "tap=t0", "--net", "vhost_user=/tmp/vu.sock"), 0);
	assert_false(cfg.vm.shared_memory); /* the user did not ask... */
	machine_vm_config(&cfg, &vm);
	assert_true(vm.shared_memory); /* ...the backend needs it */

	assert_int_equal(PARSE(&cfg, "--memory", "size=64M,shared=on"), 0);
	machine_vm_config(&cfg, &vm);
	assert_true(vm.shared_memory);
}

static bool have_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * A whole machine through the three phases on real KVM: rng, four disks of
 * 16 queues (more event-loop handlers than the old fixed table of 64 had)
 * and a console, each in its slot in the table's order.
 */
static void test_machine_create(void **state)
{
	char dir[] = "/tmp/sluice-machine-XXXXXX", kernel[64], disks[4][64], con[64], arg[4][96];
	struct machine_config cfg;
	struct machine *m;
	size_t nr;
	const struct machine_kind *kinds = machine_kinds(&nr);
	int fd;

	(void)state;
	if (!have_kvm())
		skip();
	assert_non_null(mkdtemp(dir));
	/* A flat real-mode guest: hlt. It is built, not run. */
	snprintf(kernel, sizeof(kernel), "%s/k.bin", dir);
	fd = open(kernel, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\xf4", 1), 1);
	close(fd);
	for (int i = 0; i < 4; i++) {
		snprintf(disks[i], sizeof(disks[i]), "%s/d%d.img", dir, i);
		fd = open(disks[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, 1 << 20), 0);
		close(fd);
		snprintf(arg[i], sizeof(arg[i]), "path=%s,num_queues=16", disks[i]);
	}
	snprintf(con, sizeof(con), "file=%s/hvc.log", dir);
	{
		char *argv[] = {"sluice", "run",    "--kernel",	 kernel,   "--memory", "64M",
				"--disk", arg[3],   "--console", con,	   "--disk",   arg[0],
				"--rng",  "--disk", arg[1],	 "--disk", arg[2],     NULL};
		enum cli_command cmd;

		assert_int_equal(cli_parse(ARRAY_SIZE(argv) - 1, argv, &cmd, &cfg), 0);
	}
	m = calloc(1, sizeof(*m));
	assert_non_null(m);
	assert_int_equal(machine_create(m, &cfg), 0);
	assert_true(m->vm.finalized);
	assert_int_equal(m->nr_devs, 6);
	/* Slot 0 is the host bridge; then the kinds' order, disks in command-line order. */
	assert_ptr_equal(m->devs[0].kind, &kinds[0]);
	assert_ptr_equal(m->vm.pci.slots[1], &((struct virtio_rng *)m->devs[0].dev)->vdev.pci);
	for (unsigned i = 0; i < 4; i++) {
		struct virtio_blk *blk = m->devs[1 + i].dev;

		assert_ptr_equal(m->devs[1 + i].kind, &kinds[1]);
		assert_int_equal(m->devs[1 + i].index, i);
		assert_ptr_equal(m->vm.pci.slots[2 + i], &blk->vdev.pci);
		assert_int_equal(blk->nr_queues, 16);
	}
	assert_string_equal(cfg.disks[0].path, disks[3]);
	assert_ptr_equal(m->devs[5].kind, &kinds[3]);
	assert_ptr_equal(m->vm.pci.slots[6], &((struct virtio_console *)m->devs[5].dev)->vdev.pci);
	assert_null(m->vm.pci.slots[7]);
	/* Each disk: 16 kicks + INTx; plus the rng's, the console's and the VM's own. */
	assert_true(evloop_nr_handlers(&m->vm.loop) >= 4 * 17 + 2 + 3 + 2);
	machine_destroy(m);
	free(m);

	for (int i = 0; i < 4; i++)
		unlink(disks[i]);
	snprintf(con, sizeof(con), "%s/hvc.log", dir);
	unlink(con);
	unlink(kernel);
	rmdir(dir);
}

/* A failure in phase 2 tears down what phases 1 and 2 built: one error line, no leak. */
static void test_machine_create_fails_cleanly(void **state)
{
	struct machine_config cfg;
	struct machine *m;
	char kernel[] = "/tmp/sluice-machine-kXXXXXX";
	int fd;

	(void)state;
	if (!have_kvm())
		skip();
	fd = mkstemp(kernel);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\xf4", 1), 1);
	close(fd);
	{
		char *argv[] = {"sluice",
				"run",
				"--kernel",
				kernel,
				"--rng",
				"--disk",
				"path=/nonexistent/sluice-no-disk.img",
				NULL};
		enum cli_command cmd;

		assert_int_equal(cli_parse(ARRAY_SIZE(argv) - 1, argv, &cmd, &cfg), 0);
	}
	m = calloc(1, sizeof(*m));
	assert_non_null(m);
	assert_true(machine_create(m, &cfg) < 0);
	assert_int_equal(m->nr_devs, 0);
	assert_false(m->vm_created);
	machine_destroy(m); /* harmless after a failed create */
	free(m);
	unlink(kernel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kind_order),
	    cmocka_unit_test(test_shared_memory_decision),
	    cmocka_unit_test(test_machine_create),
	    cmocka_unit_test(test_machine_create_fails_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
