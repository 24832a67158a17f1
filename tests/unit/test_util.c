/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "util.h"

static void test_parse_size_ok(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
	    {"64M", 64 * MiB},
	    {"2G", 2 * GiB},
	    {"2GiB", 2 * GiB},
	    {"2gib", 2 * GiB},
	    {"2GB", 2 * GiB},
	    {"512k", 512 * KiB},
	    {"512K", 512 * KiB},
	    {"4096", 4096},
	    {"1", 1},
	    {"1T", 1024 * GiB},
	    {"16777215T", 16777215ULL << 40}, /* largest T that fits */
	    {"17179869183G", 17179869183ULL << 30},
	    {"18446744073709551615", UINT64_MAX},
	    {"007M", 7 * MiB},
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		v = 0;
		if (parse_size(ok[i].s, &v) != 0 || v != ok[i].v)
			fail_msg("parse_size(\"%s\") = %llu, want %llu", ok[i].s,
				 (unsigned long long)v, (unsigned long long)ok[i].v);
	}
}

static void test_parse_size_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "0",
	    "0M",
	    "-1",
	    "+1",
	    " 1",
	    "1 ",
	    "12Q",
	    "1.5G",
	    "G",
	    "M",
	    "iB",
	    "64MiBx",
	    "64Mi",
	    "64MBB",
	    "64 M",
	    "4096iB", /* iB only after a unit */
	    "0x10",
	    "99999999999999999999",
	    "18446744073709551616",
	    "17179869184G", /* 2^64 */
	    "16777216T",    /* 2^64 */
	    "99999999999T",
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 12345;
		if (parse_size(bad[i], &v) != -EINVAL)
			fail_msg("parse_size(\"%s\") accepted (%llu)", bad[i],
				 (unsigned long long)v);
		if (v != 12345)
			fail_msg("parse_size(\"%s\") wrote its output on failure", bad[i]);
	}
	assert_int_equal(parse_size(NULL, &v), -EINVAL);
}

static void test_parse_uint(void **state)
{
	unsigned long v = 0;

	(void)state;
	assert_int_equal(parse_uint("4", 1, 255, &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(parse_uint("1", 1, 255, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(parse_uint("255", 1, 255, &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(parse_uint("0", 0, 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_uint("18446744073709551615", 0, ULONG_MAX, &v), 0);
	assert_int_equal(v, ULONG_MAX);

	v = 77;
	assert_int_equal(parse_uint("0", 1, 255, &v), -EINVAL);
	assert_int_equal(parse_uint("256", 1, 255, &v), -EINVAL);
	assert_int_equal(parse_uint("", 0, 255, &v), -EINVAL);
	assert_int_equal(parse_uint(NULL, 0, 255, &v), -EINVAL);
	assert_int_equal(parse_uint("-1", 0, ULONG_MAX, &v), -EINVAL);
	assert_int_equal(parse_uint("+1", 0, 255, &v), -EINVAL);
	assert_int_equal(parse_uint(" 1", 0, 255, &v), -EINVAL);
	assert_int_equal(parse_uint("1 ", 0, 255, &v), -EINVAL);
	assert_int_equal(parse_uint("12a", 0, 255, &v), -EINVAL);
	assert_int_equal(parse_uint("1k", 0, 4096, &v), -EINVAL);
	assert_int_equal(parse_uint("0x10", 0, 255, &v), -EINVAL);
	assert_int_equal(parse_uint("18446744073709551616", 0, ULONG_MAX, &v), -EINVAL);
	assert_int_equal(parse_uint("99999999999999999999", 0, ULONG_MAX, &v), -EINVAL);
	assert_int_equal(v, 77);
}

struct tmp {
	char dir[64];
	char file[96];
};

static int setup_tmp(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->dir, "/tmp/sluice-test-util-XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	snprintf(t->file, sizeof(t->file), "%s/f", t->dir);
	*state = t;
	return 0;
}

static int teardown_tmp(void **state)
{
	struct tmp *t = *state;

	unlink(t->file);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void write_tmp(const struct tmp *t, const void *data, size_t len)
{
	int fd = open(t->file, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_read_file_ok(void **state)
{
	struct tmp *t = *state;
	uint8_t content[10000];
	uint8_t *data = NULL;
	size_t size = 0;

	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 7);
	write_tmp(t, content, sizeof(content));
	assert_int_equal(read_file(t->file, sizeof(content), &data, &size), 0);
	assert_int_equal(size, sizeof(content));
	assert_memory_equal(data, content, sizeof(content));
	free(data);

	/* Empty file: a valid (freeable) buffer of size 0. */
	write_tmp(t, "", 0);
	data = NULL;
	size = 99;
	assert_int_equal(read_file(t->file, 16, &data, &size), 0);
	assert_int_equal(size, 0);
	assert_non_null(data);
	free(data);
}

static void test_read_file_errors(void **state)
{
	struct tmp *t = *state;
	uint8_t *data = (uint8_t *)0x1;
	size_t size = 7;
	char missing[128];

	snprintf(missing, sizeof(missing), "%s/does-not-exist", t->dir);
	assert_int_equal(read_file(missing, 4096, &data, &size), -ENOENT);
	assert_true(read_file(t->dir, 4096, &data, &size) < 0);

	/* One byte over the limit. */
	write_tmp(t, "12345678", 8);
	assert_int_equal(read_file(t->file, 7, &data, &size), -EFBIG);
	assert_int_equal(read_file(t->file, 0, &data, &size), -EFBIG);
	/* Outputs untouched on failure. */
	assert_ptr_equal(data, (uint8_t *)0x1);
	assert_int_equal(size, 7);
	/* Exactly at the limit is fine. */
	assert_int_equal(read_file(t->file, 8, &data, &size), 0);
	assert_int_equal(size, 8);
	assert_memory_equal(data, "12345678", 8);
	free(data);
}

static void test_read_file_not_regular(void **state)
{
	uint8_t *data = NULL;
	size_t size = 0;

	(void)state;
	/* Devices and FIFOs have no meaningful size: refused, not read. */
	assert_true(read_file("/dev/null", 4096, &data, &size) < 0);
	assert_null(data);
}

/*
 * A FIFO given as --kernel/--initrd/policy file must be refused, not hang
 * sluice: open(O_RDONLY) on a FIFO with no writer blocks before the
 * S_ISREG check is reached. Run in a child with a timeout.
 */
static void test_read_file_fifo_does_not_block(void **state)
{
	struct tmp *t = *state;
	int status;
	pid_t pid;

	assert_int_equal(mkfifo(t->file, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t *data = NULL;
		size_t size = 0;

		alarm(2);
		_exit(read_file(t->file, 4096, &data, &size) < 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("read_file on a FIFO blocked (child killed by signal %d)",
			 WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_align_overflow_helpers(void **state)
{
	uint64_t s;

	(void)state;
	assert_int_equal(ALIGN_UP(4097ULL, 4096), 8192);
	assert_int_equal(ALIGN_UP(4096ULL, 4096), 4096);
	assert_int_equal(ALIGN_DOWN(8191ULL, 4096), 4096);
	assert_int_equal(add_overflows_u64(UINT64_MAX - 1, 1, &s), 0);
	assert_int_equal(s, UINT64_MAX);
	assert_int_equal(add_overflows_u64(UINT64_MAX, 1, &s), -ERANGE);
}

/* What the log calls in fn print to stderr (truncated to len - 1 bytes). */
static void capture_stderr(void (*fn)(void *), void *arg, char *out, size_t len)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fileno(tmp), STDERR_FILENO), STDERR_FILENO);
	fn(arg);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, len - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
}

static void log_dev_lines(void *arg)
{
	struct log_dev *d = arg;

	log_dev_err(d, "cannot open %s: %s", "disk.img", "No such file");
	log_dev_warn(d, "queue %u: push refused", 3u);
	log_dev_info(d, "link up");
	log_dev_debug(d, "only with SLUICE_DEBUG");
}

static void log_hand_lines(void *arg)
{
	const char *name = arg;

	log_err("%s: cannot open %s: %s", name, "disk.img", "No such file");
	log_warn("%s: queue %u: push refused", name, 3u);
	log_info("%s: link up", name);
	log_debug("%s: only with SLUICE_DEBUG", name);
}

/* log_dev_*() print exactly what the hand-prefixed log_*() calls they replace printed. */
static void test_log_dev_prefix(void **state)
{
	static char got[4096], want[4096];
	struct log_dev d;

	(void)state;
	log_dev_init(&d, "vhost-user-net %s", "/run/vu.sock");
	assert_string_equal(d.name, "vhost-user-net /run/vu.sock");
	unsetenv("SLUICE_DEBUG");
	capture_stderr(log_dev_lines, &d, got, sizeof(got));
	assert_string_equal(got,
			    "sluice: error: vhost-user-net /run/vu.sock: cannot open disk.img: "
			    "No such file\n"
			    "sluice: warning: vhost-user-net /run/vu.sock: queue 3: push refused\n"
			    "sluice: vhost-user-net /run/vu.sock: link up\n");
	setenv("SLUICE_DEBUG", "1", 1);
	capture_stderr(log_dev_lines, &d, got, sizeof(got));
	capture_stderr(log_hand_lines, d.name, want, sizeof(want));
	unsetenv("SLUICE_DEBUG");
	assert_non_null(strstr(got, "sluice: debug: vhost-user-net /run/vu.sock: only with"));
	assert_string_equal(got, want);
}

static void log_dev_long(void *arg)
{
	static char msg[2000];

	memset(msg, 'x', sizeof(msg) - 1);
	log_dev_err(arg, "%s", msg);
}

static void log_hand_long(void *arg)
{
	static char msg[2000];

	memset(msg, 'x', sizeof(msg) - 1);
	log_err("%s: %s", ((struct log_dev *)arg)->name, msg);
}

/* Over-long lines are cut where log_msg() cuts them; over-long names at LOG_DEV_NAME_MAX - 1. */
static void test_log_dev_truncation(void **state)
{
	static char got[4096], want[4096], name[300];
	struct log_dev d;

	(void)state;
	log_dev_init(&d, "virtio-blk");
	capture_stderr(log_dev_long, &d, got, sizeof(got));
	capture_stderr(log_hand_long, &d, want, sizeof(want));
	assert_true(strlen(got) > 1000 && strlen(got) < 1100);
	assert_string_equal(got, want);

	memset(name, 'n', sizeof(name) - 1);
	log_dev_init(&d, "vhost-user %s", name);
	assert_int_equal(strlen(d.name), LOG_DEV_NAME_MAX - 1);
	assert_memory_equal(d.name, "vhost-user nnn", 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_size_ok),
	    cmocka_unit_test(test_parse_size_bad),
	    cmocka_unit_test(test_parse_uint),
	    cmocka_unit_test_setup_teardown(test_read_file_ok, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_read_file_errors, setup_tmp, teardown_tmp),
	    cmocka_unit_test(test_read_file_not_regular),
	    cmocka_unit_test_setup_teardown(test_read_file_fifo_does_not_block, setup_tmp,
					    teardown_tmp),
	    cmocka_unit_test(test_align_overflow_helpers),
	    cmocka_unit_test(test_log_dev_prefix),
	    cmocka_unit_test(test_log_dev_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
