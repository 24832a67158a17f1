/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static char kernel_path[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	strcpy(kernel_path, "/tmp/sluice-cli-kernelXXXXXX");
	fd = mkstemp(kernel_path);
	if (fd < 0)
		return -1;
	if (write(fd, "x", 1) != 1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(kernel_path);
	return 0;
}

#define PARSE(cmd, cfg, ...)                                                                       \
	({                                                                                         \
		char *argv[] = {"sluice", __VA_ARGS__, NULL};                                      \
		cli_parse((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, cmd, cfg);              \
	})

static void test_defaults(void **state)
{
	enum cli_command cmd;
	struct machine_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path), 0);
	assert_int_equal(cmd, CLI_RUN);
	assert_string_equal(cfg.vm.kernel_path, kernel_path);
	assert_int_equal(cfg.vm.mem_size, CLI_DEFAULT_MEMORY);
	assert_int_equal(cfg.vm.nr_cpus, 1);
	assert_int_equal(cfg.vm.serial, SERIAL_STDIO);
	assert_false(cfg.vm.hugepages);
	assert_false(cfg.vm.shared_memory); /* private RAM unless asked or needed */
	assert_false(cfg.rng);
	assert_null(cfg.vm.initrd_path);
}

static void test_all_options(void **state)
{
	enum cli_command cmd;
	struct machine_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory", "2G",
			       "--cpus", "4", "--cmdline", "console=ttyS0 quiet", "--serial",
			       "file=/tmp/out", "--initrd", kernel_path, "--cpu-policy", "/p",
			       "--rng"),
			 0);
	assert_true(cfg.rng);
	assert_int_equal(cfg.vm.mem_size, 2ULL << 30);
	assert_int_equal(cfg.vm.nr_cpus, 4);
	assert_string_equal(cfg.vm.cmdline, "console=ttyS0 quiet");
	assert_int_equal(cfg.vm.serial, SERIAL_FILE);
	assert_string_equal(cfg.vm.serial_path, "/tmp/out");
	assert_string_equal(cfg.vm.initrd_path, kernel_path);
	assert_string_equal(cfg.vm.cpu_policy_path, "/p");

	assert_int_equal(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory",
			       "size=1G,hugepages=on", "--serial", "none"),
			 0);
	assert_int_equal(cfg.vm.mem_size, 1ULL << 30);
	assert_true(cfg.vm.hugepages);
	assert_false(cfg.vm.shared_memory);
	assert_int_equal(cfg.vm.serial, SERIAL_NONE);
}

/* --memory shared=on|off: a memfd on request; keys combine in any order. */
static void test_memory_shared(void **state)
{
	enum cli_command cmd;
	struct machine_config cfg;

	(void)state;
	assert_int_equal(
	    PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory", "size=512M,shared=on"),
	    0);
	assert_int_equal(cfg.vm.mem_size, 512ULL << 20);
	assert_true(cfg.vm.shared_memory);
	assert_false(cfg.vm.hugepages);
	assert_int_equal(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory",
			       "shared=on,hugepages=on,size=64M"),
			 0);
	assert_true(cfg.vm.shared_memory);
	assert_true(cfg.vm.hugepages);
	assert_int_equal(cfg.vm.mem_size, 64ULL << 20);
	/* The last word counts. */
	assert_int_equal(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory",
			       "size=64M,shared=on,shared=off"),
			 0);
	assert_false(cfg.vm.shared_memory);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory",
			  "size=64M,shared=yes") < 0);
	assert_true(
	    PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory", "size=64M,shared") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory", "shared=on") < 0);
}

static void test_errors(void **state)
{
	enum cli_command cmd;
	struct machine_config cfg;

	(void)state;
	assert_true(PARSE(&cmd, &cfg, "run") < 0); /* no --kernel */
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", "/nonexistent/k") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--cpus", "0") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--cpus", "255") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--cpus", "two") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory", "12Q") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory", "0") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory", "hugepages=on") <
		    0);
	assert_true(
	    PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory", "size=1G,color=red") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--serial", "tcp") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--serial", "file=") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--bogus") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "extra") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel") < 0);
	assert_true(PARSE(&cmd, &cfg, "launch") < 0);
}

static void test_disk(void **state)
{
	enum cli_command cmd;
	struct machine_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--disk", "path=/a.img",
			       "--disk", "num_queues=4,readonly=on,path=/b.img"),
			 0);
	assert_int_equal(cfg.nr_disks, 2);
	assert_string_equal(cfg.disks[0].path, "/a.img");
	assert_false(cfg.disks[0].readonly);
	assert_int_equal(cfg.disks[0].num_queues, 1);
	assert_string_equal(cfg.disks[1].path, "/b.img");
	assert_true(cfg.disks[1].readonly);
	assert_int_equal(cfg.disks[1].num_queues, 4);

	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--disk", "readonly=on") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--disk", "path=") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--disk",
			  "path=/a,num_queues=0") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--disk",
			  "path=/a,num_queues=17") < 0);
	assert_true(
	    PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--disk", "path=/a,cache=none") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--disk",
			  "path=/a,readonly=yes") < 0);
}

static void test_net(void **state)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
	enum cli_command cmd;
	struct machine_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--net", "tap=tap0",
			       "--net", "num_queues=4,mac=52:54:00:AB:cd:ef,tap=tap1"),
			 0);
	assert_int_equal(cfg.nr_nets, 2);
	assert_string_equal(cfg.nets[0].tap, "tap0");
	assert_false(cfg.nets[0].mac_set);
	assert_int_equal(cfg.nets[0].num_queue_pairs, 1);
	assert_string_equal(cfg.nets[1].tap, "tap1");
	assert_true(cfg.nets[1].mac_set);
	assert_memory_equal(cfg.nets[1].mac, mac, 6);
	assert_int_equal(cfg.nets[1].num_queue_pairs, 4);

	static char *const bad[] = {
	    "mac=52:54:00:12:34:56",	     /* no tap */
	    "tap=",			     /* empty name */
	    "tap=0123456789abcdef",	     /* 16 characters: longer than IFNAMSIZ - 1 */
	    "tap=a/b",			     /* not an interface name */
	    "tap=t0,mac=01:00:5e:00:00:01",  /* multicast */
	    "tap=t0,mac=52:54:00:12:34",     /* short */
	    "tap=t0,mac=52:54:00:12:34:567", /* long */
	    "tap=t0,mac=52-54-00-12-34-56",  /* separators */
	    "tap=t0,mac=52:54:00:12:34: 6",  /* not hex */
	    "tap=t0,num_queues=0",
	    "tap=t0,num_queues=9",
	    "tap=t0,vhost=on",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--net", bad[i]) >= 0)
			fail_msg("--net %s was accepted", bad[i]);
	}
	/* The same TAP twice, and more NICs than MACHINE_MAX_NETS. */
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--net", "tap=t0", "--net",
			  "tap=t0") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--net", "tap=t0", "--net",
			  "tap=t1", "--net", "tap=t2", "--net", "tap=t3", "--net", "tap=t4") < 0);
}

static void test_net_vhost_user(void **state)
{
	enum cli_command cmd;
	struct machine_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--net",
			       "vhost_user=/tmp/vu0.sock,num_queues=2", "--net",
			       "server=on,vhost_user=/tmp/vu1.sock,mac=52:54:00:00:00:09", "--net",
			       "tap=tap0"),
			 0);
	assert_int_equal(cfg.nr_nets, 3);
	assert_string_equal(cfg.nets[0].vhost_user, "/tmp/vu0.sock");
	assert_string_equal(cfg.nets[0].tap, "");
	assert_false(cfg.nets[0].vhost_user_server);
	assert_int_equal(cfg.nets[0].num_queue_pairs, 2);
	assert_string_equal(cfg.nets[1].vhost_user, "/tmp/vu1.sock");
	assert_true(cfg.nets[1].vhost_user_server);
	assert_true(cfg.nets[1].mac_set);
	assert_string_equal(cfg.nets[2].vhost_user, "");

	static char *const bad[] = {
	    "vhost_user=",		  /* empty path */
	    "vhost_user=/a,tap=t0",	  /* both */
	    "tap=t0,server=on",		  /* server without vhost_user */
	    "vhost_user=/a,server=yes",	  /* not on/off */
	    "vhost_user=/a,num_queues=9", /* too many pairs */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--net", bad[i]) >= 0)
			fail_msg("--net %s was accepted", bad[i]);
	}
	/* A path of 108 bytes does not fit sun_path; the same socket twice. */
	char longpath[128];
	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "vhost_user=/", 12);
	longpath[11 + 108] = '\0';
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--net", longpath) < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--net", "vhost_user=/s",
			  "--net", "vhost_user=/s") < 0);
}

static void test_console(void **state)
{
	enum cli_command cmd;
	struct machine_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path), 0);
	assert_int_equal(cfg.console.mode, VIRTIO_CONSOLE_OFF);
	assert_int_equal(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--serial", "none",
			       "--console", "stdio"),
			 0);
	assert_int_equal(cfg.console.mode, VIRTIO_CONSOLE_STDIO);
	assert_int_equal(
	    PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--console", "file=/tmp/hvc.log"), 0);
	assert_int_equal(cfg.console.mode, VIRTIO_CONSOLE_FILE);
	assert_string_equal(cfg.console.path, "/tmp/hvc.log");
	/* Both on the terminal: refused, since input can only go to one. */
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--console", "stdio") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--console", "file=") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--console", "pty") < 0);
}

/* Every key=value option goes through the one parser (vmm-core/kv.c): its rules hold for each. */
static void test_kv_rules(void **state)
{
	enum cli_command cmd;
	struct machine_config cfg;

	(void)state;
	/* file= takes the rest of the argument: paths may hold commas. */
	assert_int_equal(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--serial",
			       "file=/tmp/a,b=c", "--console", "file=/tmp/x,y"),
			 0);
	assert_int_equal(cfg.vm.serial, SERIAL_FILE);
	assert_string_equal(cfg.vm.serial_path, "/tmp/a,b=c");
	assert_int_equal(cfg.console.mode, VIRTIO_CONSOLE_FILE);
	assert_string_equal(cfg.console.path, "/tmp/x,y");
	/* A bare leading value is the option's default key. */
	assert_int_equal(
	    PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--memory", "128M,shared=on"), 0);
	assert_int_equal(cfg.vm.mem_size, 128ULL << 20);
	assert_true(cfg.vm.shared_memory);
	/* Empty items are skipped; the last of a repeated key counts. */
	assert_int_equal(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--disk",
			       ",path=/a,,num_queues=2,num_queues=3,"),
			 0);
	assert_string_equal(cfg.disks[0].path, "/a");
	assert_int_equal(cfg.disks[0].num_queues, 3);
	/* A mode and a file at once, or a bare mode spelled as a key, are refused. */
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--serial", "none,file=/x") <
		    0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--serial", "mode=none") < 0);
	assert_true(
	    PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--console", "stdio,file=/x") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--disk", "=/a") < 0);
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--disk", "/a") < 0);
	/* Nine disks: one more than MACHINE_MAX_DISKS. */
	assert_true(PARSE(&cmd, &cfg, "run", "--kernel", kernel_path, "--disk", "path=/1", "--disk",
			  "path=/2", "--disk", "path=/3", "--disk", "path=/4", "--disk", "path=/5",
			  "--disk", "path=/6", "--disk", "path=/7", "--disk", "path=/8", "--disk",
			  "path=/9") < 0);
	assert_int_equal(cfg.nr_disks, MACHINE_MAX_DISKS);
}

static void test_help_version(void **state)
{
	enum cli_command cmd;
	struct machine_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cmd, &cfg, "--help"), 0);
	assert_int_equal(cmd, CLI_HELP);
	assert_int_equal(PARSE(&cmd, &cfg, "--version"), 0);
	assert_int_equal(cmd, CLI_VERSION);
	assert_int_equal(PARSE(&cmd, &cfg, "run", "--help"), 0);
	assert_int_equal(cmd, CLI_HELP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	   cmocka_unit_test(test_all_options),
	    cmocka_unit_test(test_errors),	   cmocka_unit_test(test_memory_shared),
	    cmocka_unit_test(test_disk),	   cmocka_unit_test(test_net),
	    cmocka_unit_test(test_net_vhost_user), cmocka_unit_test(test_console),
	    cmocka_unit_test(test_kv_rules),	   cmocka_unit_test(test_help_version),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
