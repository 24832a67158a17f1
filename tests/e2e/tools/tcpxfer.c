// SPDX-License-Identifier: MIT
/*
 * tcpxfer: one bulk TCP transfer, for the virtual-host network step and
 * benchmark (runs in the virtual host and in the L2 guest, linked statically).
 *
 *   tcpxfer recv PORT [TIMEOUT]       accept one connection on PORT, copy it
 *                                     to stdout until EOF
 *   tcpxfer send ADDR PORT [BYTES]    connect (retrying for up to 30 s, the
 *                                     receiver may still be starting) and send
 *                                     stdin, or BYTES of a fixed pattern
 *
 * Each side prints one line on stderr when done:
 *   tcpxfer recv|send bytes=N secs=S mbps=M
 * timed from the accepted/established connection to EOF (recv) or to the
 * last byte handed to the kernel and the write side shut down (send).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256u * 1024u)

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

static int parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (parse_u64(s, &v) || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static void report(const char *what, uint64_t bytes, double secs)
{
	if (secs <= 0)
		secs = 1e-9;
	fprintf(stderr, "tcpxfer %s bytes=%llu secs=%.3f mbps=%.2f\n", what,
		(unsigned long long)bytes, secs, (double)bytes / secs / 1e6);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int do_recv(uint16_t port, int timeout_s, char *buf)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
	struct pollfd pfd;
	uint64_t total = 0;
	double t0;
	int one = 1, ls, fd;

	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1)) {
		fprintf(stderr, "tcpxfer: listen on port %u: %s\n", port, strerror(errno));
		return 1;
	}
	pfd = (struct pollfd){.fd = ls, .events = POLLIN};
	if (poll(&pfd, 1, timeout_s * 1000) != 1) {
		fprintf(stderr, "tcpxfer: no connection on port %u within %d s\n", port, timeout_s);
		return 1;
	}
	fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "tcpxfer: accept: %s\n", strerror(errno));
		return 1;
	}
	close(ls);
	t0 = now_s();
	for (;;) {
		ssize_t r = read(fd, buf, CHUNK);

		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "tcpxfer: read: %s\n", strerror(errno));
			return 1;
		}
		if (write_all(STDOUT_FILENO, buf, (size_t)r)) {
			fprintf(stderr, "tcpxfer: write to stdout: %s\n", strerror(errno));
			return 1;
		}
		total += (uint64_t)r;
	}
	report("recv", total, now_s() - t0);
	close(fd);
	return 0;
}

static int connect_retry(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int i, fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "tcpxfer: bad IPv4 address %s\n", addr);
		return -1;
	}
	for (i = 0; i < 300; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		usleep(100000);
	}
	fprintf(stderr, "tcpxfer: connect to %s:%u: %s\n", addr, port, strerror(errno));
	return -1;
}

static int do_send(const char *addr, uint16_t port, int have_bytes, uint64_t bytes, char *buf)
{
	uint64_t total = 0;
	double t0;
	int fd;

	if (have_bytes)
		for (size_t i = 0; i < CHUNK; i++)
			buf[i] = (char)(i * 131u + 7u);
	fd = connect_retry(addr, port);
	if (fd < 0)
		return 1;
	t0 = now_s();
	for (;;) {
		size_t n = CHUNK;

		if (have_bytes) {
			if (total == bytes)
				break;
			if (bytes - total < n)
				n = (size_t)(bytes - total);
		} else {
			ssize_t r = read(STDIN_FILENO, buf, CHUNK);

			if (r == 0)
				break;
			if (r < 0) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "tcpxfer: read stdin: %s\n", strerror(errno));
				return 1;
			}
			n = (size_t)r;
		}
		if (write_all(fd, buf, n)) {
			fprintf(stderr, "tcpxfer: send: %s\n", strerror(errno));
			return 1;
		}
		total += n;
	}
	if (shutdown(fd, SHUT_WR)) {
		fprintf(stderr, "tcpxfer: shutdown: %s\n", strerror(errno));
		return 1;
	}
	report("send", total, now_s() - t0);
	/* Wait for the receiver to close, so its EOF is not cut by our exit. */
	while (read(fd, buf, CHUNK) > 0)
		;
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[CHUNK];
	uint64_t v = 0;
	uint16_t port;

	if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "recv") && !parse_port(argv[2], &port) &&
	    (argc < 4 || !parse_u64(argv[3], &v)))
		return do_recv(port, argc == 4 ? (int)(v > 3600 ? 3600 : v) : 120, buf);
	if (argc >= 4 && argc <= 5 && !strcmp(argv[1], "send") && !parse_port(argv[3], &port) &&
	    (argc < 5 || !parse_u64(argv[4], &v)))
		return do_send(argv[2], port, argc == 5, v, buf);
	fprintf(stderr, "usage: tcpxfer recv PORT [TIMEOUT] | send ADDR PORT [BYTES]\n");
	return 2;
}
