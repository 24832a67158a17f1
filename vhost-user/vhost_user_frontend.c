/* SPDX-License-Identifier: MIT */
#include "vhost_user_frontend.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *req_name(uint32_t req)
{
	return vhost_user_request_name(VHOST_USER_BACKEND_REPLY, req);
}

int vhost_user_frontend_init(struct vhost_user_frontend *fe, const char *path, bool server,
			     unsigned max_vrings)
{
	memset(fe, 0, sizeof(*fe));
	log_dev_init(&fe->log, "vhost-user %s", path);
	fe->listen_fd = -1;
	fe->conn.fd = -1;
	fe->inflight.fd = -1;
	fe->server = server;
	fe->max_vrings = max_vrings;
	fe->reply_timeout_ms = VHOST_USER_FRONTEND_REPLY_TIMEOUT_MS;
	/* Until the path is known to fit, lines spell it out rather than use fe->log. */
	if (max_vrings == 0 || max_vrings > VHOST_USER_MAX_VRINGS) {
		log_err("vhost-user %s: %u vrings out of 1..%u", path, max_vrings,
			VHOST_USER_MAX_VRINGS);
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(fe->path)) {
		log_err("vhost-user: socket path too long (max %zu bytes): %s",
			sizeof(fe->path) - 1, path);
		return -ENAMETOOLONG;
	}
	strcpy(fe->path, path);
	if (server) {
		fe->listen_fd = vhost_user_listen(path, true);
		if (fe->listen_fd < 0)
			return fe->listen_fd;
	}
	return 0;
}

static void inflight_release(struct vhost_user_inflight_area *a)
{
	/* map, not fd, says there is an area: a zeroed struct holds none. */
	if (a->map) {
		munmap(a->map, a->size);
		close(a->fd);
	}
	memset(a, 0, sizeof(*a));
	a->fd = -1;
}

void vhost_user_frontend_destroy(struct vhost_user_frontend *fe)
{
	vhost_user_frontend_close(fe);
	inflight_release(&fe->inflight);
	if (fe->listen_fd >= 0) {
		close(fe->listen_fd);
		unlink(fe->path);
	}
	fe->listen_fd = -1;
}

int vhost_user_frontend_attach(struct vhost_user_frontend *fe, int fd)
{
	int fl;

	if (fe->conn.fd >= 0)
		return -EISCONN;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int ret = -errno;

		log_dev_err(&fe->log, "O_NONBLOCK: %s", strerror(errno));
		return ret;
	}
	vhost_user_conn_init(&fe->conn, fd, VHOST_USER_BACKEND_REPLY, fe->max_vrings, fe->path);
	fe->connected = true;
	/* A new backend: nothing is negotiated until its handshake succeeds. */
	fe->features = fe->protocol_features = 0;
	fe->queue_num = 0;
	return 0;
}

int vhost_user_frontend_connect(struct vhost_user_frontend *fe)
{
	int fd, ret;

	if (fe->conn.fd >= 0)
		return -EISCONN;
	fd = fe->server ? vhost_user_accept(fe->listen_fd, true)
			: vhost_user_connect(fe->path, true);
	if (fd < 0)
		return fd;
	if ((ret = vhost_user_frontend_attach(fe, fd)))
		close(fd);
	return ret;
}

void vhost_user_frontend_fail(struct vhost_user_frontend *fe, const char *why)
{
	if (!fe->connected)
		return;
	if (why)
		log_dev_err(&fe->log, "%s; closing the connection", why);
	/* The backend sees EOF now; the fd stays until vhost_user_frontend_close(). */
	shutdown(fe->conn.fd, SHUT_RDWR);
	fe->connected = false;
}

void vhost_user_frontend_close(struct vhost_user_frontend *fe)
{
	vhost_user_frontend_fail(fe, NULL);
	if (fe->conn.fd >= 0)
		vhost_user_conn_close(&fe->conn);
	fe->conn.fd = -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on the socket until deadline; 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline - now_ms();
		int n;

		if (left < 0)
			left = 0;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * Send msg (flags are set here) and, if the request has a reply or
 * REPLY_ACK applies, wait for it into *reply. want_reply: the request has a
 * reply of its own (the GET_* ones). The fds that came with the reply go to
 * reply_fds (the caller closes them) or, when it is NULL, are closed here;
 * on failure none are left open.
 */
static int fe_call_fds(struct vhost_user_frontend *fe, struct vhost_user_msg *msg, const int *fds,
		       unsigned nr_fds, bool want_reply, struct vhost_user_msg *reply,
		       int *reply_fds, unsigned *nr_reply_fds)
{
	bool ack = !want_reply &&
		   (fe->protocol_features & VHOST_USER_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK));
	int64_t deadline = now_ms() + fe->reply_timeout_ms;
	int rfds[VHOST_USER_MAX_FDS];
	struct vhost_user_msg r;
	unsigned nr_rfds;
	char why[128];
	int ret;

	if (!fe->connected)
		return -ENOTCONN;
	msg->hdr.flags = VHOST_USER_VERSION | (ack ? VHOST_USER_NEED_REPLY : 0);
	while ((ret = vhost_user_send(fe->conn.fd, msg, fds, nr_fds)) == -EAGAIN)
		if ((ret = wait_fd(fe->conn.fd, POLLOUT, deadline)))
			break;
	if (ret) {
		snprintf(why, sizeof(why), "sending %s: %s", req_name(msg->hdr.request),
			 strerror(-ret));
		vhost_user_frontend_fail(fe, why);
		return ret;
	}
	if (!want_reply && !ack)
		return 0;
	while ((ret = vhost_user_recv(&fe->conn, &r, rfds, &nr_rfds)) == -EAGAIN)
		if ((ret = wait_fd(fe->conn.fd, POLLIN, deadline)))
			break;
	if (ret) {
		if (ret == -ETIMEDOUT)
			snprintf(why, sizeof(why), "no reply to %s within %d ms",
				 req_name(msg->hdr.request), fe->reply_timeout_ms);
		else if (ret == -ECONNRESET)
			snprintf(why, sizeof(why),
				 "backend closed the connection instead of "
				 "answering %s",
				 req_name(msg->hdr.request));
		else /* vhost_user_recv() logged the bad message */
			why[0] = '\0';
		vhost_user_frontend_fail(fe, why[0] ? why : NULL);
		return ret == -ETIMEDOUT || ret == -ECONNRESET ? ret : -EPROTO;
	}
	/* The validator allows fds only on replies that carry one (GET_INFLIGHT_FD). */
	if (r.hdr.request != msg->hdr.request || !reply_fds)
		vhost_user_close_fds(rfds, nr_rfds);
	if (r.hdr.request != msg->hdr.request) {
		snprintf(why, sizeof(why), "reply for %s (%u) to a %s request",
			 req_name(r.hdr.request), r.hdr.request, req_name(msg->hdr.request));
		vhost_user_frontend_fail(fe, why);
		return -EPROTO;
	}
	if (ack && r.payload.u64 != 0) {
		if (reply_fds)
			vhost_user_close_fds(rfds, nr_rfds);
		log_dev_err(&fe->log, "backend refused %s (status %llu)",
			    req_name(msg->hdr.request), (unsigned long long)r.payload.u64);
		return -EIO;
	}
	if (reply)
		*reply = r;
	if (reply_fds) {
		memcpy(reply_fds, rfds, nr_rfds * sizeof(int));
		*nr_reply_fds = nr_rfds;
	}
	return 0;
}

static int fe_call(struct vhost_user_frontend *fe, struct vhost_user_msg *msg, const int *fds,
		   unsigned nr_fds, bool want_reply, struct vhost_user_msg *reply)
{
	return fe_call_fds(fe, msg, fds, nr_fds, want_reply, reply, NULL, NULL);
}

static struct vhost_user_msg fe_msg(uint32_t req, uint32_t size)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = req;
	m.hdr.size = size;
	return m;
}

static int fe_get_u64(struct vhost_user_frontend *fe, uint32_t req, uint64_t *v)
{
	struct vhost_user_msg m = fe_msg(req, 0), r;
	int ret = fe_call(fe, &m, NULL, 0, true, &r);

	if (!ret)
		*v = r.payload.u64;
	return ret;
}

static int fe_set_u64(struct vhost_user_frontend *fe, uint32_t req, uint64_t v, int fd)
{
	struct vhost_user_msg m = fe_msg(req, sizeof(uint64_t));

	m.payload.u64 = v;
	return fe_call(fe, &m, &fd, fd >= 0 ? 1 : 0, false, NULL);
}

static int fe_set_state(struct vhost_user_frontend *fe, uint32_t req, unsigned idx, unsigned num)
{
	struct vhost_user_msg m = fe_msg(req, sizeof(struct vhost_user_vring_state));

	m.payload.state.index = idx;
	m.payload.state.num = num;
	return fe_call(fe, &m, NULL, 0, false, NULL);
}

int vhost_user_frontend_handshake(struct vhost_user_frontend *fe, uint64_t want_protocol)
{
	struct vhost_user_msg m = fe_msg(VHOST_USER_SET_OWNER, 0);
	uint64_t features, offered = 0, proto = 0, qnum = 0;
	int ret;

	/* No REPLY_ACK during the handshake: protocol features are 0 until it succeeds. */
	if ((ret = fe_call(fe, &m, NULL, 0, false, NULL)))
		return ret;
	if ((ret = fe_get_u64(fe, VHOST_USER_GET_FEATURES, &features)))
		return ret;
	if (features & VHOST_USER_BIT(VHOST_USER_F_PROTOCOL_FEATURES)) {
		if ((ret = fe_get_u64(fe, VHOST_USER_GET_PROTOCOL_FEATURES, &offered)))
			return ret;
		proto = offered & want_protocol;
		if ((ret = fe_set_u64(fe, VHOST_USER_SET_PROTOCOL_FEATURES, proto, -1)))
			return ret;
	}
	if (proto & VHOST_USER_BIT(VHOST_USER_PROTOCOL_F_MQ)) {
		if ((ret = fe_get_u64(fe, VHOST_USER_GET_QUEUE_NUM, &qnum)))
			return ret;
		if (qnum == 0 || qnum > VHOST_USER_MAX_VRINGS) {
			vhost_user_frontend_fail(fe, "GET_QUEUE_NUM reply out of range");
			return -EPROTO;
		}
	}
	fe->features = features;
	fe->protocol_features = proto;
	fe->queue_num = (unsigned)qnum;
	log_dev_debug(&fe->log,
		      "backend features 0x%llx, protocol features 0x%llx of 0x%llx, "
		      "%u queues",
		      (unsigned long long)features, (unsigned long long)proto,
		      (unsigned long long)offered, fe->queue_num);
	return 0;
}

int vhost_user_frontend_set_features(struct vhost_user_frontend *fe, uint64_t features)
{
	return fe_set_u64(fe, VHOST_USER_SET_FEATURES, features, -1);
}

int vhost_user_frontend_set_mem_table(struct vhost_user_frontend *fe,
				      const struct vhost_user_memory *mem, const int *fds)
{
	struct vhost_user_msg m;
	char why[128];

	if (vhost_user_mem_table_check(mem, why, sizeof(why))) {
		log_dev_err(&fe->log, "refusing to send a bad memory table: %s", why);
		return -EINVAL;
	}
	m = fe_msg(VHOST_USER_SET_MEM_TABLE,
		   (uint32_t)(offsetof(struct vhost_user_memory, regions) +
			      mem->nregions * sizeof(struct vhost_user_mem_region)));
	m.payload.memory = *mem;
	return fe_call(fe, &m, fds, mem->nregions, false, NULL);
}

static int vring_idx_ok(struct vhost_user_frontend *fe, unsigned idx)
{
	if (idx >= fe->max_vrings) {
		log_dev_err(&fe->log, "vring %u out of range", idx);
		return -EINVAL;
	}
	return 0;
}

int vhost_user_frontend_set_vring_num(struct vhost_user_frontend *fe, unsigned idx, unsigned num)
{
	return vring_idx_ok(fe, idx) ?: fe_set_state(fe, VHOST_USER_SET_VRING_NUM, idx, num);
}

int vhost_user_frontend_set_vring_base(struct vhost_user_frontend *fe, unsigned idx, unsigned base)
{
	return vring_idx_ok(fe, idx) ?: fe_set_state(fe, VHOST_USER_SET_VRING_BASE, idx, base);
}

int vhost_user_frontend_set_vring_addr(struct vhost_user_frontend *fe,
				       const struct vhost_user_vring_addr *addr)
{
	struct vhost_user_msg m = fe_msg(VHOST_USER_SET_VRING_ADDR, sizeof(*addr));

	if (vring_idx_ok(fe, addr->index))
		return -EINVAL;
	m.payload.addr = *addr;
	return fe_call(fe, &m, NULL, 0, false, NULL);
}

static int fe_vring_file(struct vhost_user_frontend *fe, uint32_t req, unsigned idx, int fd)
{
	if (vring_idx_ok(fe, idx))
		return -EINVAL;
	return fe_set_u64(fe, req, idx | (fd < 0 ? VHOST_USER_VRING_NOFD : 0), fd);
}

int vhost_user_frontend_set_vring_kick(struct vhost_user_frontend *fe, unsigned idx, int fd)
{
	return fe_vring_file(fe, VHOST_USER_SET_VRING_KICK, idx, fd);
}

int vhost_user_frontend_set_vring_call(struct vhost_user_frontend *fe, unsigned idx, int fd)
{
	return fe_vring_file(fe, VHOST_USER_SET_VRING_CALL, idx, fd);
}

int vhost_user_frontend_set_vring_enable(struct vhost_user_frontend *fe, unsigned idx, bool enable)
{
	if (!(fe->features & VHOST_USER_BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
		return -EOPNOTSUPP;
	return vring_idx_ok(fe, idx) ?: fe_set_state(fe, VHOST_USER_SET_VRING_ENABLE, idx, enable);
}

int vhost_user_frontend_get_vring_base(struct vhost_user_frontend *fe, unsigned idx, unsigned *base)
{
	struct vhost_user_msg m = fe_msg(VHOST_USER_GET_VRING_BASE, sizeof(m.payload.state)), r;
	int ret;

	if (vring_idx_ok(fe, idx))
		return -EINVAL;
	m.payload.state.index = idx;
	if ((ret = fe_call(fe, &m, NULL, 0, true, &r)))
		return ret;
	if (r.payload.state.index != idx) {
		vhost_user_frontend_fail(fe, "GET_VRING_BASE reply names another vring");
		return -EPROTO;
	}
	*base = r.payload.state.num;
	return 0;
}

int vhost_user_frontend_set_status(struct vhost_user_frontend *fe, uint8_t status)
{
	if (!(fe->protocol_features & VHOST_USER_BIT(VHOST_USER_PROTOCOL_F_STATUS)))
		return -EOPNOTSUPP;
	return fe_set_u64(fe, VHOST_USER_SET_STATUS, status, -1);
}

/*
 * The largest inflight area accepted for a geometry: room for a layout up
 * to 4 times the split one (the packed layout is about twice it), rounded
 * up to a 2 MiB huge page, in case the backend sizes its file that way.
 */
static uint64_t inflight_max_size(unsigned num_queues, unsigned queue_size)
{
	uint64_t huge = 2ULL << 20;

	return (4 * vhost_user_inflight_split_size(num_queues, queue_size) + huge - 1) &
	       ~(huge - 1);
}

/* A GET_INFLIGHT_FD reply we can map; 0, or -EPROTO with the reason in why. */
static int inflight_reply_check(const struct vhost_user_inflight *in, int fd, unsigned num_queues,
				unsigned queue_size, char *why, size_t whylen)
{
	uint64_t need = vhost_user_inflight_split_size(num_queues, queue_size);
	uint64_t max = inflight_max_size(num_queues, queue_size);
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;

	if (in->mmap_size < need || in->mmap_size > max) {
		snprintf(why, whylen,
			 "GET_INFLIGHT_FD: mmap size 0x%llx outside 0x%llx..0x%llx for %u "
			 "queues of %u",
			 (unsigned long long)in->mmap_size, (unsigned long long)need,
			 (unsigned long long)max, num_queues, queue_size);
		return -EPROTO;
	}
	if (page <= 0 || in->mmap_offset % (uint64_t)page) {
		snprintf(why, whylen, "GET_INFLIGHT_FD: mmap offset 0x%llx is not page aligned",
			 (unsigned long long)in->mmap_offset);
		return -EPROTO;
	}
	if (fstat(fd, &st)) {
		snprintf(why, whylen, "GET_INFLIGHT_FD: fstat of its fd: %s", strerror(errno));
		return -EPROTO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "GET_INFLIGHT_FD: its fd is not a regular file or memfd");
		return -EPROTO;
	}
	/* The validator refused offset + size past INT64_MAX: no overflow here. */
	if (in->mmap_offset + in->mmap_size > (uint64_t)st.st_size) {
		snprintf(why, whylen,
			 "GET_INFLIGHT_FD: area 0x%llx+0x%llx is past the end of its file (0x%llx "
			 "bytes)",
			 (unsigned long long)in->mmap_offset, (unsigned long long)in->mmap_size,
			 (unsigned long long)st.st_size);
		return -EPROTO;
	}
	return 0;
}

static int fe_get_inflight(struct vhost_user_frontend *fe, unsigned num_queues, unsigned queue_size)
{
	struct vhost_user_msg m = fe_msg(VHOST_USER_GET_INFLIGHT_FD,
					 sizeof(struct vhost_user_inflight)),
			      r;
	struct vhost_user_inflight_area a = {.fd = -1};
	int fds[VHOST_USER_MAX_FDS];
	unsigned nr_fds = 0;
	char why[192];
	int ret;

	m.payload.inflight.num_queues = (uint16_t)num_queues;
	m.payload.inflight.queue_size = (uint16_t)queue_size;
	if ((ret = fe_call_fds(fe, &m, NULL, 0, true, &r, fds, &nr_fds)))
		return ret;
	/* The validator insists on one fd; checked again as the mmap depends on it. */
	if (nr_fds != 1) {
		vhost_user_close_fds(fds, nr_fds);
		vhost_user_frontend_fail(fe, "GET_INFLIGHT_FD reply without exactly one fd");
		return -EPROTO;
	}
	if ((ret = inflight_reply_check(&r.payload.inflight, fds[0], num_queues, queue_size, why,
					sizeof(why)))) {
		close(fds[0]);
		vhost_user_frontend_fail(fe, why);
		return ret;
	}
	a.map = mmap(NULL, r.payload.inflight.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0],
		     (off_t)r.payload.inflight.mmap_offset);
	if (a.map == MAP_FAILED) {
		snprintf(why, sizeof(why), "GET_INFLIGHT_FD: mmap of its area: %s",
			 strerror(errno));
		close(fds[0]);
		vhost_user_frontend_fail(fe, why);
		return -EPROTO;
	}
	a.fd = fds[0];
	a.size = r.payload.inflight.mmap_size;
	a.offset = r.payload.inflight.mmap_offset;
	a.num_queues = (uint16_t)num_queues;
	a.queue_size = (uint16_t)queue_size;
	inflight_release(&fe->inflight);
	fe->inflight = a;
	log_dev_debug(&fe->log, "inflight area of 0x%llx bytes for %u queues of %u",
		      (unsigned long long)a.size, num_queues, queue_size);
	return 0;
}

int vhost_user_frontend_inflight_start(struct vhost_user_frontend *fe, unsigned num_queues,
				       unsigned queue_size)
{
	struct vhost_user_inflight_area *a = &fe->inflight;
	struct vhost_user_msg m;
	int ret;

	if (!(fe->protocol_features & VHOST_USER_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)))
		return 0;
	if (num_queues == 0 || num_queues > fe->max_vrings || queue_size == 0 ||
	    queue_size > VHOST_USER_MAX_QUEUE_SIZE || (queue_size & (queue_size - 1))) {
		log_dev_err(&fe->log, "inflight geometry %u queues of %u out of range", num_queues,
			    queue_size);
		return -EINVAL;
	}
	if ((!a->map || a->num_queues != num_queues || a->queue_size != queue_size) &&
	    (ret = fe_get_inflight(fe, num_queues, queue_size)))
		return ret;
	m = fe_msg(VHOST_USER_SET_INFLIGHT_FD, sizeof(struct vhost_user_inflight));
	m.payload.inflight = (struct vhost_user_inflight){
	    .mmap_size = a->size,
	    .mmap_offset = a->offset,
	    .num_queues = a->num_queues,
	    .queue_size = a->queue_size,
	};
	return fe_call(fe, &m, &a->fd, 1, false, NULL);
}

/*
 * Zero [off, off + len) of the area's file through the fd, not the mapping:
 * the backend owns the file and may have shrunk it, which would make a
 * store through the mapping SIGBUS. Punching a hole reads back as zeroes
 * (tmpfs, memfd, hugetlbfs); pwrite is for files that cannot.
 */
static int inflight_zero(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zero[4096];

	if (!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len))
		return 0;
	while (len) {
		size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);
		ssize_t w = pwrite(fd, zero, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

void vhost_user_frontend_inflight_reset(struct vhost_user_frontend *fe)
{
	struct vhost_user_inflight_area *a = &fe->inflight;
	int ret;

	if (!a->map || !(ret = inflight_zero(a->fd, a->offset, a->size)))
		return;
	/* Stale entries must not be resubmitted: without a zeroed area, ask anew. */
	log_dev_warn(&fe->log, "cannot zero the inflight area (%s); it will be asked for again",
		     strerror(-ret));
	inflight_release(a);
}

int vhost_user_frontend_poll(struct vhost_user_frontend *fe)
{
	int fds[VHOST_USER_MAX_FDS];
	struct vhost_user_msg r;
	unsigned nr_fds;
	char why[128];
	int ret;

	if (!fe->connected)
		return -ENOTCONN;
	ret = vhost_user_recv(&fe->conn, &r, fds, &nr_fds);
	if (ret == -EAGAIN)
		return 0;
	if (ret == -ECONNRESET) {
		log_dev_warn(&fe->log, "backend disconnected");
		vhost_user_frontend_fail(fe, NULL);
		return ret;
	}
	if (ret) {
		vhost_user_frontend_fail(fe, NULL); /* vhost_user_recv() logged why */
		return -EPROTO;
	}
	vhost_user_close_fds(fds, nr_fds);
	snprintf(why, sizeof(why), "unrequested %s reply", req_name(r.hdr.request));
	vhost_user_frontend_fail(fe, why);
	return -EPROTO;
}
