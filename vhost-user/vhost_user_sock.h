/* SPDX-License-Identifier: MIT */
/*
 * vhost-user messages over a unix stream socket, with fds (SCM_RIGHTS).
 *
 * Receiving is incremental so it works on non-blocking sockets in an event
 * loop: a connection keeps a partly read message (and the fds that came with
 * it) between calls, and vhost_user_recv() returns -EAGAIN until a whole
 * message is in. A complete message is validated (vhost_user_msg.h) before it
 * is handed out; when it is bad, truncated, or the peer hangs up in the
 * middle, every fd that came with it is closed, one line is logged, and the
 * connection is to be closed by the caller. No timeouts: a peer that stops in
 * the middle of a message just leaves the connection pending.
 */
#ifndef SLUICE_VHOST_USER_SOCK_H
#define SLUICE_VHOST_USER_SOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "vhost_user_msg.h"

struct vhost_user_conn {
	int fd;
	enum vhost_user_kind rx_kind; /* what this end receives on fd */
	unsigned max_vrings;
	char name[64]; /* for log lines: the socket path, or "backend channel" */

	/* The message being received. */
	struct vhost_user_msg rx;
	size_t rx_bytes; /* wire bytes of rx read so far */
	int rx_fds[VHOST_USER_MAX_FDS];
	unsigned rx_nr_fds;
};

/* Take over a connected socket; rx_kind and max_vrings drive validation. */
void vhost_user_conn_init(struct vhost_user_conn *c, int fd, enum vhost_user_kind rx_kind,
			  unsigned max_vrings, const char *name);

/* Close the socket and any fds of a partly received message. */
void vhost_user_conn_close(struct vhost_user_conn *c);

/*
 * Receive one message. Returns 0 with a validated *msg whose fds (in fds[],
 * *nr_fds of them, in the order sent) now belong to the caller; -EAGAIN when
 * the socket has no more bytes yet (non-blocking socket); -ECONNRESET when the
 * peer closed between messages (not logged: the caller decides whether that
 * is an error); -EPROTO for a bad or truncated message, or a hang-up inside
 * one (logged, fds closed); another negative errno from recvmsg (logged).
 * After anything but 0 and -EAGAIN the connection is finished.
 */
int vhost_user_recv(struct vhost_user_conn *c, struct vhost_user_msg *msg,
		    int fds[VHOST_USER_MAX_FDS], unsigned *nr_fds);

/*
 * Send one message (header + msg->hdr.size payload bytes) with nr_fds fds
 * (at most VHOST_USER_MAX_FDS) in one sendmsg. Returns 0, or -EAGAIN if a
 * non-blocking socket could take none of it (nothing was sent: try again
 * later), or another negative errno (logged). A message is never left half
 * sent: once a first byte is out, the rest waits for the socket to drain.
 */
int vhost_user_send(int fd, const struct vhost_user_msg *msg, const int *fds, unsigned nr_fds);

/*
 * Unix socket endpoints. Every socket is SOCK_CLOEXEC, and non-blocking if
 * asked. vhost_user_listen replaces a stale socket file at path (never any
 * other kind of file); it tells stale from live by connecting to it, so a live
 * server sees one connection that closes at once, and gets -EADDRINUSE. vhost_user_connect returns
 * -ENOENT or -ECONNREFUSED without logging an error when no one listens yet, since a client polls
 * for its server (reconnect).
 */
int vhost_user_listen(const char *path, bool nonblock);
int vhost_user_accept(int listen_fd, bool nonblock);
int vhost_user_connect(const char *path, bool nonblock);

/* Close fds[0..n) and set them to -1. */
void vhost_user_close_fds(int *fds, unsigned n);

#endif
