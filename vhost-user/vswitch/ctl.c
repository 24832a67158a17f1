/* SPDX-License-Identifier: MIT */
/*
 * The control socket: a client connects, writes one command line ("stats",
 * "macs"), reads the answer until EOF. Served by the control loop on the main
 * lcore, one client at a time; a client that sends nothing within 200 ms gets
 * "stats".
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "vswitch.h"

static int ctl_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		log_err("vswitch: control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

int vsw_ctl_open(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, ret;

	ret = ctl_addr(path, &sa);
	if (ret < 0)
		return ret;
	/* Replace a socket file left behind, never anything else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0) {
		ret = -errno;
		log_err("vswitch: control socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

void vsw_ctl_serve(struct vsw *v, int lfd)
{
	char cmd[64] = "";
	struct pollfd pfd;
	ssize_t n;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&pfd, 1, 200) == 1) {
		n = read(fd, cmd, sizeof(cmd) - 1);
		cmd[n > 0 ? n : 0] = '\0';
		cmd[strcspn(cmd, "\r\n")] = '\0';
	}
	if (cmd[0] == '\0' || strcmp(cmd, "stats") == 0)
		vsw_stats_print_ports(v, fd);
	else if (strcmp(cmd, "macs") == 0)
		vsw_stats_print_macs(v, fd);
	else
		dprintf(fd, "error: unknown command '%s' (stats, macs)\n", cmd);
	close(fd);
}

void vsw_ctl_close(int lfd, const char *path)
{
	if (lfd < 0)
		return;
	close(lfd);
	unlink(path);
}

int vsw_ctl_query(const char *path, const char *cmd)
{
	struct sockaddr_un sa;
	char buf[4096];
	ssize_t n;
	int fd, ret;

	ret = ctl_addr(path, &sa);
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		ret = -errno;
		log_err("vswitch: connect %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	dprintf(fd, "%s\n", cmd);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, n, stdout) != (size_t)n)
			break;
	close(fd);
	return 0;
}
