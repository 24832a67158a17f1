// SPDX-License-Identifier: MIT
/*
 * randread: 4 KiB random reads with O_DIRECT at queue depth 1, for the
 * virtual-host disk benchmark (runs inside the L2 guest, linked statically).
 *
 * usage: randread DEV [COUNT [SEED]]
 * Reads COUNT (default 4096) 4 KiB blocks at offsets drawn from a xorshift64
 * sequence seeded with SEED (default 1), so every run and every VMM reads the
 * same blocks in the same order. Prints one line:
 *   randread reads=N bytes=B secs=S iops=I mbps=M
 * The seconds are the guest's CLOCK_MONOTONIC; the benchmark step also
 * times the run from outside the guest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096u

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return (errno || *end || end == s) ? -1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t count = 4096, seed = 1, size = 0, blocks, i;
	void *buf;
	double t0, secs;
	int fd;

	if (argc < 2 || argc > 4 || (argc > 2 && parse_u64(argv[2], &count)) ||
	    (argc > 3 && parse_u64(argv[3], &seed))) {
		fprintf(stderr, "usage: randread DEV [COUNT [SEED]]\n");
		return 2;
	}
	if (seed == 0)
		seed = 1; /* xorshift's fixed point */
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "randread: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
		off_t end = lseek(fd, 0, SEEK_END);

		size = end < 0 ? 0 : (uint64_t)end;
	}
	blocks = size / BLOCK;
	if (blocks == 0) {
		fprintf(stderr, "randread: %s: smaller than one block\n", argv[1]);
		return 1;
	}
	if (posix_memalign(&buf, BLOCK, BLOCK)) {
		fprintf(stderr, "randread: out of memory\n");
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < count; i++) {
		off_t off = (off_t)((xorshift64(&seed) % blocks) * BLOCK);
		ssize_t r = pread(fd, buf, BLOCK, off);

		if (r != (ssize_t)BLOCK) {
			fprintf(stderr, "randread: read at %lld: %s\n", (long long)off,
				r < 0 ? strerror(errno) : "short read");
			return 1;
		}
	}
	secs = now_s() - t0;
	if (secs <= 0)
		secs = 1e-9;
	printf("randread reads=%llu bytes=%llu secs=%.3f iops=%.0f mbps=%.2f\n",
	       (unsigned long long)count, (unsigned long long)(count * BLOCK), secs,
	       (double)count / secs, (double)(count * BLOCK) / secs / 1e6);
	free(buf);
	close(fd);
	return 0;
}
