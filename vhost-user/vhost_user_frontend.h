/* SPDX-License-Identifier: MIT */
/*
 * The frontend (VMM) side of one vhost-user connection: the requests a
 * device sends to set up and stop the backend's vrings, each answered reply
 * checked (vhost_user_recv validates it; here: it answers the request just
 * sent, and REPLY_ACK is waited for whenever it was negotiated).
 *
 * Requests are synchronous: the caller blocks (at most reply_timeout_ms)
 * until the reply is in. The device serialises all calls with its own lock;
 * the event loop only calls vhost_user_frontend_poll() when the socket is
 * readable, to learn that the backend went away or spoke out of turn.
 *
 * Failure handling: any send error, timeout, malformed or mismatched reply
 * fails the connection: it is logged once, shut down (the backend sees EOF,
 * the event loop sees EPOLLHUP), and every later request returns -ENOTCONN
 * until vhost_user_frontend_close(). The socket fd itself stays open until
 * then, so an event loop watching it is never left with a stale fd number.
 * Nothing negotiated on a failed exchange is kept: the results of
 * vhost_user_frontend_handshake() are stored only when all of it succeeded.
 *
 * Inflight I/O tracking (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD): the area
 * the backend records in-flight descriptors in belongs to the device, not
 * to a connection. It is asked for once (GET_INFLIGHT_FD), kept mapped
 * across backend restarts and closed only by vhost_user_frontend_destroy(),
 * so a restarted backend gets it back (SET_INFLIGHT_FD) and resubmits what
 * its predecessor had taken but not completed.
 */
#ifndef SLUICE_VHOST_USER_FRONTEND_H
#define SLUICE_VHOST_USER_FRONTEND_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "vhost_user_sock.h"

#define VHOST_USER_FRONTEND_REPLY_TIMEOUT_MS 5000

/* The inflight area as the backend gave it (GET_INFLIGHT_FD). */
struct vhost_user_inflight_area {
	int fd;		     /* -1: not asked for yet */
	void *map;	     /* MAP_SHARED of [offset, offset + size) of fd */
	uint64_t size;	     /* mmap_size */
	uint64_t offset;     /* mmap_offset */
	uint16_t num_queues; /* the geometry it was asked for */
	uint16_t queue_size;
};

struct vhost_user_frontend {
	char path[108];	    /* sockaddr_un.sun_path */
	struct log_dev log; /* "vhost-user PATH" */
	bool server;	    /* we listen, the backend connects */
	int listen_fd;	    /* server mode, else -1 */
	unsigned max_vrings;
	int reply_timeout_ms;

	struct vhost_user_conn conn; /* conn.fd: -1 when there is no socket */
	bool connected;		     /* socket up, no failure since */

	/* From the last successful handshake. */
	uint64_t features;	    /* the backend's GET_FEATURES */
	uint64_t protocol_features; /* negotiated: ours & the backend's */
	unsigned queue_num;	    /* GET_QUEUE_NUM (with MQ), else 0 */

	/* Kept across connections; freed by vhost_user_frontend_destroy(). */
	struct vhost_user_inflight_area inflight;
};

/*
 * Set up for the socket at path. Server mode listens at once (non-blocking
 * listen fd in fe->listen_fd); client mode connects in
 * vhost_user_frontend_connect(). max_vrings bounds reply validation.
 */
int vhost_user_frontend_init(struct vhost_user_frontend *fe, const char *path, bool server,
			     unsigned max_vrings);
/* Closes the socket, the listening socket and the inflight area. */
void vhost_user_frontend_destroy(struct vhost_user_frontend *fe);

/*
 * Client: connect to path; server: accept one pending connection. Returns 0
 * (connected, socket non-blocking), -EAGAIN (server: nobody waiting),
 * -ENOENT/-ECONNREFUSED (client: no backend yet; not logged), or another
 * negative errno. -EISCONN if a socket is already held.
 */
int vhost_user_frontend_connect(struct vhost_user_frontend *fe);
/* Take over an already connected socket (made non-blocking here). */
int vhost_user_frontend_attach(struct vhost_user_frontend *fe, int fd);

/*
 * SET_OWNER, GET_FEATURES and, if the backend offers
 * VHOST_USER_F_PROTOCOL_FEATURES, GET_PROTOCOL_FEATURES and
 * SET_PROTOCOL_FEATURES(want & offered), then GET_QUEUE_NUM if MQ was
 * negotiated. Fills fe->features/protocol_features/queue_num on success.
 */
int vhost_user_frontend_handshake(struct vhost_user_frontend *fe, uint64_t want_protocol);

int vhost_user_frontend_set_features(struct vhost_user_frontend *fe, uint64_t features);
/* mem is checked (vhost_user_mem_table_check) before it is sent; fds: one per region. */
int vhost_user_frontend_set_mem_table(struct vhost_user_frontend *fe,
				      const struct vhost_user_memory *mem, const int *fds);
int vhost_user_frontend_set_vring_num(struct vhost_user_frontend *fe, unsigned idx, unsigned num);
int vhost_user_frontend_set_vring_base(struct vhost_user_frontend *fe, unsigned idx, unsigned base);
int vhost_user_frontend_set_vring_addr(struct vhost_user_frontend *fe,
				       const struct vhost_user_vring_addr *addr);
/* fd < 0 sends VHOST_USER_VRING_NOFD. */
int vhost_user_frontend_set_vring_kick(struct vhost_user_frontend *fe, unsigned idx, int fd);
int vhost_user_frontend_set_vring_call(struct vhost_user_frontend *fe, unsigned idx, int fd);
/* Only with VHOST_USER_F_PROTOCOL_FEATURES negotiated (-EOPNOTSUPP otherwise). */
int vhost_user_frontend_set_vring_enable(struct vhost_user_frontend *fe, unsigned idx, bool enable);
/* Stops the vring; *base is where the backend would resume. */
int vhost_user_frontend_get_vring_base(struct vhost_user_frontend *fe, unsigned idx,
				       unsigned *base);
/* Only with VHOST_USER_PROTOCOL_F_STATUS (-EOPNOTSUPP otherwise). */
int vhost_user_frontend_set_status(struct vhost_user_frontend *fe, uint8_t status);

/*
 * Before the vrings are set up on a connection. Without
 * VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD negotiated: nothing, 0. With it:
 * the first call (or one with another geometry) sends GET_INFLIGHT_FD
 * {num_queues, queue_size}, checks the reply (one fd, a regular file or
 * memfd that holds mmap_offset + mmap_size, an mmap_size between the
 * split-ring layout for that geometry and a sane bound, a page-aligned
 * offset) and maps it; then every call sends SET_INFLIGHT_FD with that fd
 * and geometry (rte_vhost and libvhost-user start tracking only then).
 * num_queues/queue_size must not change with what the driver chooses: the
 * device's largest. A bad reply fails the connection (-EPROTO) and nothing
 * is kept; the area of an earlier call stays until it is replaced.
 */
int vhost_user_frontend_inflight_start(struct vhost_user_frontend *fe, unsigned num_queues,
				       unsigned queue_size);
/*
 * Device reset: tracking restarts from an all-zero area (no-op without
 * one). An area that cannot be zeroed is dropped (logged), so the next
 * vhost_user_frontend_inflight_start() asks for a new one.
 */
void vhost_user_frontend_inflight_reset(struct vhost_user_frontend *fe);

/*
 * The socket is readable with no request outstanding. Returns 0 if that was
 * nothing (a partial read), -ECONNRESET if the backend closed (logged as a
 * warning), -EPROTO if it sent a message unasked or a bad one; in all error
 * cases the connection is failed.
 */
int vhost_user_frontend_poll(struct vhost_user_frontend *fe);

/* Fail the connection (why is logged if non-NULL). No-op when not connected. */
void vhost_user_frontend_fail(struct vhost_user_frontend *fe, const char *why);
/* Close the socket (failing it first if needed). */
void vhost_user_frontend_close(struct vhost_user_frontend *fe);

#endif
