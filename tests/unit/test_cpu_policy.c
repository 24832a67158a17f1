/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_policy.h"

static int parse(struct cpu_policy_config *cfg, const char *text)
{
	return cpu_policy_parse(cfg, text, strlen(text), "test.policy");
}

static void test_defaults(void **state)
{
	struct cpu_policy_config cfg;

	(void)state;
	cpu_policy_config_init(&cfg, 4);
	assert_int_equal(cfg.nr_cpus, 4);
	assert_false(cfg.pmu);
	assert_int_equal(cfg.nr_cpuid_edits, 0);
	assert_int_equal(cfg.nr_msr_rules, 0);
	assert_int_equal(parse(&cfg, ""), 0);
	assert_int_equal(parse(&cfg, "\n\n   # only a comment\n\t\r\n"), 0);
	assert_int_equal(cfg.nr_cpuid_edits, 0);
	cpu_policy_config_free(&cfg);
}

static void test_full_file(void **state)
{
	static const char text[] = "# sluice cpu policy\n"
				   "pmu on   # expose the vPMU\n"
				   "cpuid 0x1 ecx clear 0x20\n"
				   "cpuid 7.0 EBX set 0x200\r\n"
				   "cpuid 0x40000010 eax value 0x1234abcd\n"
				   "msr 0x1a0 value 0x850089\n"
				   "msr 0x3a value 0x5 check\n"
				   "msr c0011029 gp";
	struct cpu_policy_config cfg;
	const struct msr_rule *r;

	(void)state;
	cpu_policy_config_init(&cfg, 2);
	assert_int_equal(parse(&cfg, text), 0);
	assert_true(cfg.pmu);
	assert_int_equal(cfg.nr_cpuid_edits, 3);
	assert_int_equal(cfg.cpuid_edits[0].leaf, 1);
	assert_false(cfg.cpuid_edits[0].has_subleaf);
	assert_int_equal(cfg.cpuid_edits[0].reg, CPUID_ECX);
	assert_int_equal(cfg.cpuid_edits[0].op, CPUID_EDIT_CLEAR);
	assert_int_equal(cfg.cpuid_edits[0].value, 0x20);
	assert_int_equal(cfg.cpuid_edits[0].line, 3);
	assert_int_equal(cfg.cpuid_edits[1].leaf, 7);
	assert_true(cfg.cpuid_edits[1].has_subleaf);
	assert_int_equal(cfg.cpuid_edits[1].subleaf, 0);
	assert_int_equal(cfg.cpuid_edits[1].reg, CPUID_EBX);
	assert_int_equal(cfg.cpuid_edits[1].op, CPUID_EDIT_SET);
	assert_int_equal(cfg.cpuid_edits[2].leaf, 0x40000010);
	assert_int_equal(cfg.cpuid_edits[2].op, CPUID_EDIT_VALUE);
	assert_int_equal(cfg.cpuid_edits[2].value, 0x1234abcd);

	assert_int_equal(cfg.nr_msr_rules, 3);
	r = cpu_policy_find_msr_rule(&cfg, 0x1a0);
	assert_non_null(r);
	assert_int_equal(r->action, MSR_ACTION_VALUE);
	assert_int_equal(r->value, 0x850089);
	assert_false(r->check_writes);
	r = cpu_policy_find_msr_rule(&cfg, 0x3a);
	assert_non_null(r);
	assert_true(r->check_writes);
	r = cpu_policy_find_msr_rule(&cfg, 0xc0011029);
	assert_non_null(r);
	assert_int_equal(r->action, MSR_ACTION_GP);
	assert_null(cpu_policy_find_msr_rule(&cfg, 0x10));

	assert_int_equal(parse(&cfg, "pmu off"), 0);
	assert_false(cfg.pmu);
	cpu_policy_config_free(&cfg);
	assert_null(cfg.cpuid_edits);
	assert_int_equal(cfg.nr_msr_rules, 0);
}

static void test_64bit_msr_value(void **state)
{
	struct cpu_policy_config cfg;

	(void)state;
	cpu_policy_config_init(&cfg, 1);
	assert_int_equal(parse(&cfg, "msr 0x10 value 0xffffffffffffffff\n"), 0);
	assert_true(cfg.msr_rules[0].value == UINT64_MAX);
	assert_int_equal(parse(&cfg, "msr 0x11 value 0x10000000000000000\n"), -EINVAL);
	cpu_policy_config_free(&cfg);
}

/* Run the parser with stderr captured; returns its result and the message. */
static int parse_capture(struct cpu_policy_config *cfg, const char *text, char *msg, size_t sz)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO), ret;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	ret = parse(cfg, text);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(msg, 1, sz - 1, tmp);
	msg[n] = '\0';
	fclose(tmp);
	return ret;
}

static void expect_error(const char *text, const char *where)
{
	struct cpu_policy_config cfg;
	char msg[1024];

	cpu_policy_config_init(&cfg, 1);
	assert_int_equal(parse_capture(&cfg, text, msg, sizeof(msg)), -EINVAL);
	if (!strstr(msg, where)) {
		print_error("for %s: expected '%s' in '%s'\n", text, where, msg);
		fail();
	}
	/* One line per error. */
	assert_non_null(strchr(msg, '\n'));
	assert_null(strchr(strchr(msg, '\n') + 1, '\n'));
	assert_int_equal(cfg.nr_cpuid_edits, 0);
	assert_int_equal(cfg.nr_msr_rules, 0);
	assert_false(cfg.pmu);
	cpu_policy_config_free(&cfg);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("pmu maybe\n", "test.policy:1: ");
	expect_error("pmu\n", "test.policy:1: ");
	expect_error("\n\npmu on off\n", "test.policy:3: ");
	expect_error("frobnicate 1\n", "test.policy:1: unknown keyword");
	expect_error("cpuid 1 ecx set\n", "test.policy:1: ");
	expect_error("cpuid 1 esi set 1\n", "bad register");
	expect_error("cpuid 1 ecx toggle 1\n", "bad cpuid operation");
	expect_error("cpuid 1 ecx set 0x100000000\n", "bad 32-bit hex value");
	expect_error("cpuid 1 ecx set -1\n", "bad 32-bit hex value");
	expect_error("cpuid 1 ecx set 0x\n", "bad 32-bit hex value");
	expect_error("cpuid 1 ecx set 12g\n", "bad 32-bit hex value");
	expect_error("cpuid 1. ecx set 1\n", "bad cpuid subleaf");
	expect_error("cpuid 1.2.3 ecx set 1\n", "bad cpuid subleaf");
	expect_error("cpuid .2 ecx set 1\n", "bad cpuid leaf");
	expect_error("cpuid 100000000 ecx set 1\n", "bad cpuid leaf");
	expect_error("msr\n", "test.policy:1: ");
	expect_error("msr 0x10\n", "test.policy:1: ");
	expect_error("msr 0x10 allow\n", "bad msr action");
	expect_error("msr 0x10 gp extra\n", "unexpected 'extra'");
	expect_error("msr 0x10 value\n", "test.policy:1: ");
	expect_error("msr 0x10 value 1 loose\n", "unexpected 'loose'");
	expect_error("msr 0x100000000 gp\n", "bad MSR index");
	expect_error("msr 0x10 gp\nmsr 0x10 value 0\n",
		     "test.policy:2: MSR 0x10 already has a rule");
	expect_error("a b c d e f g h i\n", "too many words");
}

static void test_error_rolls_back(void **state)
{
	struct cpu_policy_config cfg;
	char msg[512];

	(void)state;
	cpu_policy_config_init(&cfg, 1);
	assert_int_equal(parse(&cfg, "msr 0x10 gp\ncpuid 1 eax set 1\n"), 0);
	assert_int_equal(parse_capture(&cfg, "pmu on\nmsr 0x11 gp\ncpuid 2 eax set 1\nbogus\n", msg,
				       sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "test.policy:4: "));
	assert_false(cfg.pmu);
	assert_int_equal(cfg.nr_msr_rules, 1);
	assert_int_equal(cfg.nr_cpuid_edits, 1);
	assert_null(cpu_policy_find_msr_rule(&cfg, 0x11));
	cpu_policy_config_free(&cfg);
}

static void test_hostile_bytes(void **state)
{
	struct cpu_policy_config cfg;
	char line[CPU_POLICY_MAX_LINE + 2];
	char msg[512];
	static const char with_nul[] = "pmu on\npmu\0off\n";

	(void)state;
	cpu_policy_config_init(&cfg, 1);
	/* Embedded NUL: the length, not the terminator, bounds the text. */
	assert_int_equal(cpu_policy_parse(&cfg, with_nul, sizeof(with_nul) - 1, "nul"), -EINVAL);
	/* Not NUL-terminated: nothing beyond len is read (ASan would catch it). */
	{
		char *buf = malloc(6);

		memcpy(buf, "pmu on", 6);
		assert_int_equal(cpu_policy_parse(&cfg, buf, 6, "noterm"), 0);
		assert_true(cfg.pmu);
		free(buf);
	}
	memset(line, ' ', sizeof(line));
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(parse_capture(&cfg, line, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "line longer"));
	/* Exactly the limit is fine. */
	line[CPU_POLICY_MAX_LINE] = '\0';
	assert_int_equal(parse(&cfg, line), 0);
	assert_int_equal(cpu_policy_parse(&cfg, NULL, 0, "empty"), 0);
	cpu_policy_config_free(&cfg);
}

static void test_limits(void **state)
{
	struct cpu_policy_config cfg;
	char *text = malloc(64 * (CPU_POLICY_MAX_CPUID_EDITS + CPU_POLICY_MAX_MSR_RULES + 2));
	size_t off = 0;
	char msg[512];

	(void)state;
	cpu_policy_config_init(&cfg, 1);
	for (int i = 0; i < CPU_POLICY_MAX_CPUID_EDITS; i++)
		off += (size_t)sprintf(text + off, "cpuid %x eax set 1\n", i);
	for (int i = 0; i < CPU_POLICY_MAX_MSR_RULES; i++)
		off += (size_t)sprintf(text + off, "msr %x gp\n", i);
	assert_int_equal(parse(&cfg, text), 0);
	assert_int_equal(cfg.nr_cpuid_edits, CPU_POLICY_MAX_CPUID_EDITS);
	assert_int_equal(cfg.nr_msr_rules, CPU_POLICY_MAX_MSR_RULES);
	assert_int_equal(cfg.cpuid_edits[CPU_POLICY_MAX_CPUID_EDITS - 1].leaf,
			 CPU_POLICY_MAX_CPUID_EDITS - 1);
	assert_int_equal(parse_capture(&cfg, "cpuid 1 eax set 1", msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "too many cpuid lines"));
	assert_int_equal(parse_capture(&cfg, "msr 0x1000 gp", msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "too many msr lines"));
	cpu_policy_config_free(&cfg);
	free(text);
}

static void test_load(void **state)
{
	char path[] = "/tmp/sluice-policy-XXXXXX";
	struct cpu_policy_config cfg;
	int fd = mkstemp(path);
	static const char text[] = "pmu on\nmsr 0x10 value 7\n";
	char msg[512];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	cpu_policy_config_init(&cfg, 1);
	assert_int_equal(cpu_policy_load(&cfg, path), 0);
	assert_true(cfg.pmu);
	assert_int_equal(cfg.nr_msr_rules, 1);
	cpu_policy_config_free(&cfg);

	/* Messages name the file. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\nnope\n", 6), 6);
	close(fd);
	{
		FILE *tmp = tmpfile();
		int saved = dup(STDERR_FILENO);
		size_t n;

		fflush(stderr);
		dup2(fileno(tmp), STDERR_FILENO);
		assert_int_equal(cpu_policy_load(&cfg, path), -EINVAL);
		fflush(stderr);
		dup2(saved, STDERR_FILENO);
		close(saved);
		rewind(tmp);
		n = fread(msg, 1, sizeof(msg) - 1, tmp);
		msg[n] = '\0';
		fclose(tmp);
	}
	{
		char want[64];

		snprintf(want, sizeof(want), "%s:2: ", path);
		assert_non_null(strstr(msg, want));
	}
	unlink(path);
	assert_true(cpu_policy_load(&cfg, "/nonexistent/sluice.policy") < 0);
	cpu_policy_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	     cmocka_unit_test(test_full_file),
	    cmocka_unit_test(test_64bit_msr_value),  cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_error_rolls_back), cmocka_unit_test(test_hostile_bytes),
	    cmocka_unit_test(test_limits),	     cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
