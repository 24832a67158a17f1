/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "vhost_user_sock.h"

/* Room for the most fds a message may carry; more arrive as MSG_CTRUNC. */
union vu_cmsg_buf {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
};

void vhost_user_close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static void rx_drop(struct vhost_user_conn *c)
{
	vhost_user_close_fds(c->rx_fds, c->rx_nr_fds);
	c->rx_nr_fds = 0;
	c->rx_bytes = 0;
}

void vhost_user_conn_init(struct vhost_user_conn *c, int fd, enum vhost_user_kind rx_kind,
			  unsigned max_vrings, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->rx_kind = rx_kind;
	c->max_vrings = max_vrings;
	snprintf(c->name, sizeof(c->name), "%s", name ? name : "?");
	for (unsigned i = 0; i < VHOST_USER_MAX_FDS; i++)
		c->rx_fds[i] = -1;
}

void vhost_user_conn_close(struct vhost_user_conn *c)
{
	rx_drop(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Keep the fds of every SCM_RIGHTS block; returns false if some had no room. */
static bool rx_take_fds(struct vhost_user_conn *c, struct msghdr *mh)
{
	bool fit = true;
	struct cmsghdr *cm;
	size_t n;
	int fd;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (c->rx_nr_fds < VHOST_USER_MAX_FDS) {
				c->rx_fds[c->rx_nr_fds++] = fd;
			} else {
				close(fd);
				fit = false;
			}
		}
	}
	return fit;
}

static int rx_bad(struct vhost_user_conn *c, const char *why)
{
	log_err("vhost-user %s: bad %s message: %s; closing the connection", c->name,
		c->rx_bytes >= VHOST_USER_HDR_SIZE
		    ? vhost_user_request_name(c->rx_kind, c->rx.hdr.request)
		    : "incomplete",
		why);
	rx_drop(c);
	return -EPROTO;
}

int vhost_user_recv(struct vhost_user_conn *c, struct vhost_user_msg *msg,
		    int fds[VHOST_USER_MAX_FDS], unsigned *nr_fds)
{
	union vu_cmsg_buf ctl;
	struct msghdr mh;
	struct iovec iov;
	char why[160];
	size_t total;
	ssize_t n;
	int rc;

	*nr_fds = 0;
	for (;;) {
		if (c->rx_bytes < VHOST_USER_HDR_SIZE) {
			iov.iov_base = (uint8_t *)&c->rx.hdr + c->rx_bytes;
			iov.iov_len = VHOST_USER_HDR_SIZE - c->rx_bytes;
		} else {
			if (c->rx.hdr.size > VHOST_USER_PAYLOAD_MAX) {
				snprintf(why, sizeof(why), "payload size %u exceeds %zu",
					 c->rx.hdr.size, VHOST_USER_PAYLOAD_MAX);
				return rx_bad(c, why);
			}
			total = VHOST_USER_HDR_SIZE + c->rx.hdr.size;
			if (c->rx_bytes == total)
				break;
			iov.iov_base = c->rx.payload.raw + (c->rx_bytes - VHOST_USER_HDR_SIZE);
			iov.iov_len = total - c->rx_bytes;
		}

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			rc = -errno;
			log_err("vhost-user %s: recvmsg: %s", c->name, strerror(-rc));
			rx_drop(c);
			return rc;
		}
		c->rx_bytes += (size_t)n;
		if (!rx_take_fds(c, &mh) || (mh.msg_flags & MSG_CTRUNC))
			return rx_bad(c, "more fds than a message may carry (control data "
					 "truncated)");
		if (n == 0) {
			if (c->rx_bytes == 0 && c->rx_nr_fds == 0)
				return -ECONNRESET;
			return rx_bad(c, "peer hung up in the middle of the message");
		}
	}

	rc = vhost_user_msg_validate(&c->rx, c->rx_bytes, c->rx_nr_fds, c->rx_kind, c->max_vrings,
				     why, sizeof(why));
	if (rc)
		return rx_bad(c, why);

	memcpy(msg, &c->rx, sizeof(*msg));
	for (unsigned i = 0; i < c->rx_nr_fds; i++) {
		fds[i] = c->rx_fds[i];
		c->rx_fds[i] = -1;
	}
	*nr_fds = c->rx_nr_fds;
	c->rx_nr_fds = 0;
	c->rx_bytes = 0;
	return 0;
}

static int wait_writable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	for (;;) {
		if (poll(&p, 1, -1) >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int vhost_user_send(int fd, const struct vhost_user_msg *msg, const int *fds, unsigned nr_fds)
{
	union vu_cmsg_buf ctl;
	struct iovec iov[2];
	struct cmsghdr *cm;
	struct msghdr mh;
	size_t total, sent = 0;
	ssize_t n;
	int rc;

	if (msg->hdr.size > VHOST_USER_PAYLOAD_MAX || nr_fds > VHOST_USER_MAX_FDS) {
		log_err("vhost-user: refusing to send request %u: %u payload bytes, %u fds",
			msg->hdr.request, msg->hdr.size, nr_fds);
		return -EINVAL;
	}
	total = VHOST_USER_HDR_SIZE + msg->hdr.size;
	memset(&ctl, 0, sizeof(ctl));

	while (sent < total) {
		memset(&mh, 0, sizeof(mh));
		if (sent < VHOST_USER_HDR_SIZE) {
			iov[0].iov_base = (uint8_t *)&msg->hdr + sent;
			iov[0].iov_len = VHOST_USER_HDR_SIZE - sent;
			iov[1].iov_base = (void *)msg->payload.raw;
			iov[1].iov_len = msg->hdr.size;
			mh.msg_iov = iov;
			mh.msg_iovlen = msg->hdr.size ? 2 : 1;
		} else {
			iov[0].iov_base =
			    (uint8_t *)msg->payload.raw + (sent - VHOST_USER_HDR_SIZE);
			iov[0].iov_len = total - sent;
			mh.msg_iov = iov;
			mh.msg_iovlen = 1;
		}
		/* The fds ride with the first byte. */
		if (sent == 0 && nr_fds) {
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr_fds);
		}
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && sent == 0)
				return -EAGAIN;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				rc = wait_writable(fd);
			else
				rc = -errno;
			if (rc == 0)
				continue;
			log_err("vhost-user: sending request %u: %s", msg->hdr.request,
				strerror(-rc));
			return rc;
		}
		sent += (size_t)n;
	}
	return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		log_err("vhost-user: socket path too long (max %zu bytes): %s",
			sizeof(sa->sun_path) - 1, path);
		return -ENAMETOOLONG;
	}
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* True if something accepts connections at sa (a live server). */
static bool someone_listens(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

int vhost_user_listen(const char *path, bool nonblock)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, rc;

	rc = unix_addr(path, &sa);
	if (rc)
		return rc;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("vhost-user: %s exists and is not a socket", path);
			return -EEXIST;
		}
		if (someone_listens(&sa)) {
			log_err("vhost-user: %s is in use by another server", path);
			return -EADDRINUSE;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			rc = -errno;
			log_err("vhost-user: removing stale socket %s: %s", path, strerror(-rc));
			return rc;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		rc = -errno;
		log_err("vhost-user: socket: %s", strerror(-rc));
		return rc;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		log_err("vhost-user: listening on %s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	return fd;
}

int vhost_user_accept(int listen_fd, bool nonblock)
{
	int fd, rc;

	for (;;) {
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0));
		if (fd >= 0)
			return fd;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		rc = -errno;
		log_err("vhost-user: accept: %s", strerror(-rc));
		return rc;
	}
}

int vhost_user_connect(const char *path, bool nonblock)
{
	struct sockaddr_un sa;
	int fd, rc;

	rc = unix_addr(path, &sa);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		log_err("vhost-user: socket: %s", strerror(-rc));
		return rc;
	}
	/* A unix connect completes at once or fails; go non-blocking after. */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EISCONN) /* an interrupted connect completed */
			break;
		rc = -errno;
		close(fd);
		if (rc == -ENOENT || rc == -ECONNREFUSED)
			log_debug("vhost-user: no server at %s yet: %s", path, strerror(-rc));
		else
			log_err("vhost-user: connecting to %s: %s", path, strerror(-rc));
		return rc;
	}
	if (nonblock) {
		rc = set_nonblock(fd);
		if (rc) {
			log_err("vhost-user: O_NONBLOCK on %s: %s", path, strerror(-rc));
			close(fd);
			return rc;
		}
	}
	return fd;
}
