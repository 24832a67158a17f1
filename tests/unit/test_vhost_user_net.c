/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-net and what backs guest RAM. A vhost-user backend maps guest
 * memory by fd (SET_MEM_TABLE), so private anonymous RAM (sluice's default,
 * which has no fd) must be refused by the device with one error before it
 * contacts the backend; a memfd passes and the device goes on to talk to
 * the backend. The "backend" is a real unix socket that listens: whether a
 * connection arrived tells which way init went.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "dma.h"
#include "guest_mem.h"
#include "util.h"
#include "vhost_user_net.h"

struct fixture {
	char dir[64];
	char path[96];
	int listen_fd;
	struct guest_mem gm;
	struct dma_space dma;
	struct virtio_net_conf cfg;
	struct virtio_env env;
	struct vhost_user_net *net;
	int ret; /* vhost_user_net_init's, from the init thread */
};

static int fx_setup(struct fixture *f, unsigned mem_flags)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	memset(f, 0, sizeof(*f));
	f->listen_fd = -1;
	strcpy(f->dir, "/tmp/sluice-vun-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/vu.sock", f->dir);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", f->path);
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(f->listen_fd, 4) < 0)
		return -1;
	if (guest_mem_init(&f->gm, 16 * MiB, mem_flags) || dma_space_identity_init(&f->dma, &f->gm))
		return -1;
	snprintf(f->cfg.vhost_user, sizeof(f->cfg.vhost_user), "%s", f->path);
	f->cfg.num_queue_pairs = 1;
	f->env = (struct virtio_env){.dma = &f->dma, .vm_fd = -1};
	f->net = calloc(1, sizeof(*f->net));
	return f->net ? 0 : -1;
}

static void fx_teardown(struct fixture *f)
{
	vhost_user_net_destroy(f->net);
	free(f->net);
	dma_space_destroy(&f->dma);
	guest_mem_destroy(&f->gm);
	if (f->listen_fd >= 0)
		close(f->listen_fd);
	unlink(f->path);
	rmdir(f->dir);
}

/* A connection waiting on the listening socket within ms, accepted (fd) or -1. */
static int backend_accept(struct fixture *f, int ms)
{
	struct pollfd p = {.fd = f->listen_fd, .events = POLLIN};

	if (poll(&p, 1, ms) != 1)
		return -1;
	return accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
}

static void test_private_ram_refused(void **state)
{
	struct fixture f;

	(void)state;
	assert_int_equal(fx_setup(&f, 0), 0);
	assert_false(guest_mem_has_fd(&f.gm));
	assert_int_equal(vhost_user_net_init(f.net, &f.cfg, &f.env), -EINVAL);
	/* Refused before any contact: nothing connected to the backend. */
	assert_int_equal(backend_accept(&f, 0), -1);
	/* And nothing left listening to the DMA space. */
	assert_null(f.dma.listeners);
	fx_teardown(&f);
}

static void *init_thread(void *arg)
{
	struct fixture *f = arg;

	f->ret = vhost_user_net_init(f->net, &f->cfg, &f->env);
	return NULL;
}

static void test_memfd_ram_reaches_backend(void **state)
{
	struct fixture f;
	pthread_t t;
	int conn;

	(void)state;
	assert_int_equal(fx_setup(&f, GUEST_MEM_SHARED), 0);
	assert_true(guest_mem_has_fd(&f.gm));
	assert_int_equal(pthread_create(&t, NULL, init_thread, &f), 0);
	/* The device connects and starts its handshake; the backend hangs up. */
	conn = backend_accept(&f, 10000);
	assert_true(conn >= 0);
	close(conn);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(f.ret < 0);
	assert_int_not_equal(f.ret, -EINVAL);
	fx_teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_private_ram_refused),
	    cmocka_unit_test(test_memfd_ram_reaches_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
