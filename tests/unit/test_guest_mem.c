/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest_mem.h"
#include "util.h"

/*
 * The VMA of /proc/self/smaps that starts at addr: copies its field lines
 * (after the header) into buf, NUL-terminated. 0, or -1 if there is none.
 */
static int smaps_of(const void *addr, char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	unsigned long start, end;
	size_t used = 0;
	int found = 0;

	if (!f)
		return -1;
	buf[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		/* "start-end perms ..." (field lines start with "Name:") */
		bool header = sscanf(line, "%lx-%lx", &start, &end) == 2;
		if (header && found)
			break;
		if (header && start == (unsigned long)(uintptr_t)addr) {
			found = 1;
			continue;
		}
		if (found && used + strlen(line) < len) {
			strcpy(buf + used, line);
			used += strlen(line);
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

/* A "Name:   N kB" field of smaps text, or -1. */
static long smaps_kb(const char *smaps, const char *name)
{
	const char *p = strstr(smaps, name);

	return p && p[strlen(name)] == ':' ? strtol(p + strlen(name) + 1, NULL, 10) : -1;
}

/* Whether the VmFlags line of smaps text has the two-letter flag. */
static bool smaps_vmflag(const char *smaps, const char *flag)
{
	const char *p = strstr(smaps, "VmFlags:");
	char want[8];

	if (!p)
		return false;
	snprintf(want, sizeof(want), " %s", flag);
	for (p += 8; *p && *p != '\n'; p++)
		if (!strncmp(p, want, 3) && (p[3] == ' ' || p[3] == '\n' || !p[3]))
			return true;
	return false;
}

/* The host's THP mode: the bracketed word of sysfs file `name`, or "". */
static void thp_mode(const char *name, char *mode, size_t len)
{
	char path[128], line[128];
	FILE *f;
	char *a, *b;

	mode[0] = 0;
	snprintf(path, sizeof(path), "/sys/kernel/mm/transparent_hugepage/%s", name);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && (a = strchr(line, '[')) && (b = strchr(a, ']'))) {
		*b = 0;
		snprintf(mode, len, "%s", a + 1);
	}
	fclose(f);
}

static char smaps_buf[16384];

/* The default: private anonymous memory, no fd, 2 MiB aligned. */
static void test_small_layout(void **state)
{
	struct guest_mem gm;

	(void)state;
	assert_int_equal(guest_mem_init(&gm, 64 * MiB, 0), 0);
	assert_int_equal(gm.fd, -1);
	assert_false(guest_mem_has_fd(&gm));
	assert_int_equal(gm.backing, GUEST_MEM_ANON);
	assert_string_equal(guest_mem_backing_name(&gm), "anonymous");
	assert_non_null(gm.base);
	assert_int_equal((uintptr_t)gm.base % (2 * MiB), 0);
	assert_int_equal(gm.size, 64 * MiB);
	assert_int_equal(gm.page_size, 4096);
	assert_false(gm.hugepages);
	assert_int_equal(gm.nr_regions, 1);
	assert_int_equal(gm.regions[0].gpa, 0);
	assert_int_equal(gm.regions[0].size, 64 * MiB);
	assert_ptr_equal(gm.regions[0].hva, gm.base);
	assert_int_equal(gm.regions[0].fd_offset, 0);
	assert_int_equal(guest_mem_low_end(&gm), 64 * MiB);
	guest_mem_destroy(&gm);
	assert_int_equal(gm.fd, -1);
	assert_null(gm.base);
	guest_mem_destroy(&gm); /* twice is harmless */
}

/* GUEST_MEM_SHARED: a memfd, mapped shared, 2 MiB aligned. */
static void test_memfd_layout(void **state)
{
	struct guest_mem gm;
	char link[64], target[128];
	ssize_t n;

	(void)state;
	assert_int_equal(guest_mem_init(&gm, 64 * MiB, GUEST_MEM_SHARED), 0);
	assert_true(gm.fd >= 0);
	assert_true(guest_mem_has_fd(&gm));
	assert_int_equal(gm.backing, GUEST_MEM_MEMFD);
	assert_string_equal(guest_mem_backing_name(&gm), "memfd");
	assert_false(gm.hugepages);
	assert_int_equal((uintptr_t)gm.base % (2 * MiB), 0);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", gm.fd);
	n = readlink(link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = 0;
	assert_non_null(strstr(target, "memfd:sluice-ram"));
	assert_int_equal(smaps_of(gm.base, smaps_buf, sizeof(smaps_buf)), 0);
	assert_true(smaps_vmflag(smaps_buf, "sh"));
	assert_int_equal(smaps_kb(smaps_buf, "Size"), 64 * 1024);
	guest_mem_destroy(&gm);
	assert_int_equal(gm.fd, -1);
}

/*
 * Private RAM as the kernel sees it: one private VMA of exactly the RAM,
 * advised for huge pages (hg) and not inherited by a child (dc).
 */
static void test_private_vma(void **state)
{
	struct guest_mem gm;

	(void)state;
	assert_int_equal(guest_mem_init(&gm, 64 * MiB, 0), 0);
	assert_int_equal(smaps_of(gm.base, smaps_buf, sizeof(smaps_buf)), 0);
	assert_int_equal(smaps_kb(smaps_buf, "Size"), 64 * 1024);
	assert_false(smaps_vmflag(smaps_buf, "sh"));
	assert_true(smaps_vmflag(smaps_buf, "hg"));
	assert_true(smaps_vmflag(smaps_buf, "dc"));
	assert_int_equal(smaps_kb(smaps_buf, "Rss"), 0); /* nothing touched, nothing used */
	guest_mem_destroy(&gm);
}

/*
 * On a host whose THP mode is madvise or always (Debian: always), touched
 * private guest RAM is backed by 2 MiB pages. (A memfd is not, unless
 * shmem_enabled allows it: what this backing replaced by default.)
 */
static void test_private_thp(void **state)
{
	struct guest_mem gm;
	char mode[32];

	(void)state;
	thp_mode("enabled", mode, sizeof(mode));
	if (strcmp(mode, "always") && strcmp(mode, "madvise")) {
		printf("THP is '%s' on this host: nothing to check\n", mode);
		skip();
	}
	assert_int_equal(guest_mem_init(&gm, 64 * MiB, 0), 0);
	for (uint64_t off = 0; off < 8 * MiB; off += 4096)
		assert_int_equal(guest_mem_write(&gm, off, "x", 1), 0);
	assert_int_equal(smaps_of(gm.base, smaps_buf, sizeof(smaps_buf)), 0);
	printf("THP %s: Rss %ld kB, AnonHugePages %ld kB, THPeligible %ld\n", mode,
	       smaps_kb(smaps_buf, "Rss"), smaps_kb(smaps_buf, "AnonHugePages"),
	       smaps_kb(smaps_buf, "THPeligible"));
	assert_int_equal(smaps_kb(smaps_buf, "THPeligible"), 1);
	assert_true(smaps_kb(smaps_buf, "AnonHugePages") >= 2048);
	guest_mem_destroy(&gm);
}

/*
 * A forked child does not get private guest RAM (MADV_DONTFORK): it would
 * otherwise be shared copy-on-write, and each guest write after the fork
 * would copy a page. A memfd mapping is shared, not copied: the child keeps it.
 */
static void test_dontfork(void **state)
{
	struct guest_mem anon, shared;
	unsigned char vec;
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(guest_mem_init(&anon, 8 * MiB, 0), 0);
	assert_int_equal(guest_mem_init(&shared, 8 * MiB, GUEST_MEM_SHARED), 0);
	assert_int_equal(guest_mem_write(&anon, 0, "a", 1), 0);
	assert_int_equal(guest_mem_write(&shared, 0, "s", 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* mincore fails with ENOMEM on an address that is not mapped. */
		int anon_gone = mincore(anon.base, 4096, &vec) < 0 && errno == ENOMEM;
		int shared_kept = mincore(shared.base, 4096, &vec) == 0 && shared.base[0] == 's';

		_exit(anon_gone && shared_kept ? 0 : 1 + !anon_gone);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(anon.base[0], 'a');
	guest_mem_destroy(&anon);
	guest_mem_destroy(&shared);
}

static void test_exactly_hole(void **state)
{
	struct guest_mem gm;

	(void)state;
	assert_int_equal(guest_mem_init(&gm, 3 * GiB, 0), 0);
	assert_int_equal(gm.nr_regions, 1);
	assert_int_equal(guest_mem_low_end(&gm), GUEST_MEM_HOLE_START);
	assert_non_null(guest_mem_ptr(&gm, 3 * GiB - 1, 1));
	assert_null(guest_mem_ptr(&gm, 3 * GiB, 1));
	assert_null(guest_mem_ptr(&gm, 4 * GiB, 1));
	guest_mem_destroy(&gm);

	/* One page over: a 4 KiB high region. */
	assert_int_equal(guest_mem_init(&gm, 3 * GiB + 4096, 0), 0);
	assert_int_equal(gm.nr_regions, 2);
	assert_int_equal(gm.regions[1].gpa, GUEST_MEM_HIGH_START);
	assert_int_equal(gm.regions[1].size, 4096);
	assert_non_null(guest_mem_ptr(&gm, 4 * GiB + 4095, 1));
	assert_null(guest_mem_ptr(&gm, 4 * GiB + 4096, 1));
	guest_mem_destroy(&gm);
}

/* 4 GiB: low 3 GiB, then 1 GiB at 4 GiB. MAP_NORESERVE keeps it free. */
static int setup_4g_flags(void **state, unsigned flags)
{
	struct guest_mem *gm = calloc(1, sizeof(*gm));

	if (!gm || guest_mem_init(gm, 4 * GiB, flags)) {
		free(gm);
		return -1;
	}
	*state = gm;
	return 0;
}

static int setup_4g(void **state)
{
	return setup_4g_flags(state, 0);
}

static int setup_4g_shared(void **state)
{
	return setup_4g_flags(state, GUEST_MEM_SHARED);
}

static int teardown_4g(void **state)
{
	guest_mem_destroy(*state);
	free(*state);
	return 0;
}

static void test_large_layout(void **state)
{
	struct guest_mem *gm = *state;

	assert_int_equal(gm->size, 4 * GiB);
	assert_int_equal(gm->nr_regions, 2);
	assert_int_equal(gm->regions[0].gpa, 0);
	assert_int_equal(gm->regions[0].size, 3 * GiB);
	assert_ptr_equal(gm->regions[0].hva, gm->base);
	assert_int_equal(gm->regions[1].gpa, 4 * GiB);
	assert_int_equal(gm->regions[1].size, 1 * GiB);
	assert_int_equal(gm->regions[1].fd_offset, 3 * GiB);
	assert_ptr_equal(gm->regions[1].hva, gm->base + 3 * GiB);
	assert_int_equal(guest_mem_low_end(gm), 3 * GiB);
}

static void test_ptr_bounds(void **state)
{
	struct guest_mem *gm = *state;
	uint8_t *base = gm->base;

	/* Low region. */
	assert_ptr_equal(guest_mem_ptr(gm, 0, 1), base);
	assert_ptr_equal(guest_mem_ptr(gm, 0, 3 * GiB), base);
	assert_ptr_equal(guest_mem_ptr(gm, 3 * GiB - 1, 1), base + 3 * GiB - 1);
	assert_ptr_equal(guest_mem_ptr(gm, 3 * GiB - 8, 8), base + 3 * GiB - 8);
	assert_null(guest_mem_ptr(gm, 3 * GiB - 8, 9));
	assert_null(guest_mem_ptr(gm, 0, 3 * GiB + 1));
	/* The hole. */
	assert_null(guest_mem_ptr(gm, 3 * GiB, 1));
	assert_null(guest_mem_ptr(gm, 0xfee00000ULL, 4));
	assert_null(guest_mem_ptr(gm, 4 * GiB - 1, 1));
	assert_null(guest_mem_ptr(gm, 4 * GiB - 1, 2)); /* hole into high */
	/* Straddling the hole although both ends are RAM: host memory happens
	 * to be contiguous there, the guest's is not. */
	assert_null(guest_mem_ptr(gm, 3 * GiB - 4096, GiB + 8192));
	assert_null(guest_mem_ptr(gm, 3 * GiB - 1, 2));
	/* High region. */
	assert_ptr_equal(guest_mem_ptr(gm, 4 * GiB, 1), base + 3 * GiB);
	assert_ptr_equal(guest_mem_ptr(gm, 5 * GiB - 1, 1), base + 4 * GiB - 1);
	assert_ptr_equal(guest_mem_ptr(gm, 4 * GiB, GiB), base + 3 * GiB);
	assert_null(guest_mem_ptr(gm, 5 * GiB, 1));
	assert_null(guest_mem_ptr(gm, 5 * GiB - 1, 2));
	assert_null(guest_mem_ptr(gm, 4 * GiB, GiB + 1));
	/* len 0 is checked as len 1. */
	assert_ptr_equal(guest_mem_ptr(gm, 5 * GiB - 1, 0), base + 4 * GiB - 1);
	assert_null(guest_mem_ptr(gm, 5 * GiB, 0));
	assert_null(guest_mem_ptr(gm, 3 * GiB, 0));
	/* Wrap-around and huge lengths. */
	assert_null(guest_mem_ptr(gm, UINT64_MAX, 1));
	assert_null(guest_mem_ptr(gm, UINT64_MAX, 2));
	assert_null(guest_mem_ptr(gm, 4 * GiB, UINT64_MAX));
	assert_null(guest_mem_ptr(gm, 1, UINT64_MAX));
	assert_null(guest_mem_ptr(gm, 0, UINT64_MAX));
	assert_null(guest_mem_ptr(gm, 2, UINT64_MAX));		    /* last wraps to 0 */
	assert_null(guest_mem_ptr(gm, 0x1000, UINT64_MAX - 0x800)); /* last wraps to 0x7fe */
	assert_null(guest_mem_ptr(gm, 4 * GiB + 0x1000, UINT64_MAX - 0x800));
	assert_null(guest_mem_ptr(gm, 0, 1ULL << 63));
	assert_null(guest_mem_ptr(gm, 4 * GiB, UINT64_MAX - 4 * GiB + 1)); /* last = 2^64: wraps */
	assert_null(guest_mem_ptr(gm, UINT64_MAX - 4096 + 1, 4096));
}

static void test_read_write(void **state)
{
	struct guest_mem *gm = *state;
	const char msg[] = "sluice guest memory";
	char buf[sizeof(msg)];
	uint8_t keep[16], chk[16];

	assert_int_equal(guest_mem_write(gm, 0x1000, msg, sizeof(msg)), 0);
	assert_int_equal(guest_mem_read(gm, 0x1000, buf, sizeof(buf)), 0);
	assert_string_equal(buf, msg);
	assert_memory_equal(gm->base + 0x1000, msg, sizeof(msg));

	assert_int_equal(guest_mem_write(gm, 5 * GiB - sizeof(msg), msg, sizeof(msg)), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(guest_mem_read(gm, 5 * GiB - sizeof(msg), buf, sizeof(buf)), 0);
	assert_string_equal(buf, msg);

	/* Out of range: -EFAULT and no partial copy either way. */
	memset(keep, 0x5a, sizeof(keep));
	assert_int_equal(guest_mem_write(gm, 3 * GiB - 8, keep, 8), 0);
	memset(chk, 0xa5, sizeof(chk));
	assert_int_equal(guest_mem_write(gm, 3 * GiB - 8, chk, 16), -EFAULT);
	assert_memory_equal(gm->base + 3 * GiB - 8, keep, 8);
	memset(chk, 0xa5, sizeof(chk));
	assert_int_equal(guest_mem_read(gm, 3 * GiB - 8, chk, 16), -EFAULT);
	for (size_t i = 0; i < sizeof(chk); i++)
		assert_int_equal(chk[i], 0xa5);
	assert_int_equal(guest_mem_read(gm, 5 * GiB, chk, 1), -EFAULT);
	assert_int_equal(guest_mem_write(gm, UINT64_MAX, chk, 2), -EFAULT);
}

/* What vhost-user relies on: another mapping of the fd sees guest writes. */
static void test_shared_through_fd(void **state)
{
	struct guest_mem *gm = *state;
	const uint64_t gpa = 4 * GiB + 0x2340; /* high region: fd offset is 3 GiB */
	const struct guest_mem_region *r = &gm->regions[1];
	uint64_t off = r->fd_offset + (gpa - r->gpa);
	uint64_t map_off = off & ~4095ULL;
	uint8_t *peer;
	char buf[8];

	peer = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, gm->fd, (off_t)map_off);
	assert_true(peer != MAP_FAILED);
	assert_int_equal(guest_mem_write(gm, gpa, "backend", 8), 0);
	assert_memory_equal(peer + (off - map_off), "backend", 8);
	/* And the other way: the backend writes, the guest sees it. */
	memcpy(peer + (off - map_off), "guest!!", 8);
	assert_int_equal(guest_mem_read(gm, gpa, buf, 8), 0);
	assert_memory_equal(buf, "guest!!", 8);
	munmap(peer, 4096);

	assert_int_equal(pread(gm->fd, buf, 8, (off_t)off), 8);
	assert_memory_equal(buf, "guest!!", 8);
}

static void test_bad_sizes(void **state)
{
	struct guest_mem gm;

	(void)state;
	assert_int_equal(guest_mem_init(&gm, 64 * MiB + 1, 0), -EINVAL);
	assert_int_equal(gm.fd, -1);
	assert_null(gm.base);
	assert_int_equal(gm.nr_regions, 0);
	assert_null(guest_mem_ptr(&gm, 0, 1));
	guest_mem_destroy(&gm); /* safe after a failed init */
	assert_int_equal(guest_mem_init(&gm, 2048, 0), -EINVAL);
	assert_int_equal(guest_mem_init(&gm, 0, GUEST_MEM_SHARED), -EINVAL);
	assert_int_equal(gm.fd, -1); /* no memfd left behind */
	/* With huge pages the size must be a multiple of the huge page size. */
	assert_int_equal(guest_mem_init(&gm, 64 * MiB + 4096, GUEST_MEM_HUGETLB), -EINVAL);
	assert_int_equal(gm.fd, -1);
	assert_int_equal(guest_mem_init(&gm, 64 * MiB, 1U << 7), -EINVAL); /* unknown flag */
	assert_int_equal(guest_mem_init(&gm, UINT64_MAX & ~4095ULL, 0), -EINVAL);
	assert_null(gm.base);
}

static long meminfo_field(const char *name)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(name);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static void test_hugepages_unavailable(void **state)
{
	struct guest_mem gm;
	long free_pages = meminfo_field("HugePages_Free");
	long page_kb = meminfo_field("Hugepagesize");
	int ret;

	(void)state;
	ret = guest_mem_init(&gm, 8 * MiB, GUEST_MEM_HUGETLB);
	if (free_pages > 0 && page_kb == 2048 && free_pages * 2 >= 8) {
		/* The host has them; a clean failure is not what to test here. */
		if (ret == 0) {
			assert_true(gm.hugepages);
			assert_int_equal(gm.backing, GUEST_MEM_HUGETLBFS);
			assert_true(guest_mem_has_fd(&gm));
			assert_int_equal(gm.page_size, 2 * MiB);
			guest_mem_destroy(&gm);
		}
		skip();
	}
	assert_true(ret < 0);
	assert_int_equal(gm.fd, -1);
	assert_null(gm.base);
	assert_int_equal(gm.nr_regions, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_layout),
	    cmocka_unit_test(test_memfd_layout),
	    cmocka_unit_test(test_private_vma),
	    cmocka_unit_test(test_private_thp),
	    cmocka_unit_test(test_dontfork),
	    cmocka_unit_test(test_exactly_hole),
	    cmocka_unit_test_setup_teardown(test_large_layout, setup_4g, teardown_4g),
	    cmocka_unit_test_setup_teardown(test_ptr_bounds, setup_4g, teardown_4g),
	    cmocka_unit_test_setup_teardown(test_read_write, setup_4g, teardown_4g),
	    cmocka_unit_test_setup_teardown(test_read_write, setup_4g_shared, teardown_4g),
	    cmocka_unit_test_setup_teardown(test_shared_through_fd, setup_4g_shared, teardown_4g),
	    cmocka_unit_test(test_bad_sizes),
	    cmocka_unit_test(test_hugepages_unavailable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
