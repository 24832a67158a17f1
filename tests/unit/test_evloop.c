/* SPDX-License-Identifier: MIT */
/* The event loop (vmm-core/evloop.c) on real eventfds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evloop.h"

/*
 * More than the old fixed table of 64 held: four virtio-blk disks of 16
 * queues register 4 * 17 handlers besides the VM's own.
 */
#define NR_MANY 200

struct many {
	struct evloop loop;
	int fds[NR_MANY];
	unsigned fired[NR_MANY];
	unsigned total;
	unsigned stop_after;
};

struct slot {
	struct many *m;
	unsigned i;
};

static void on_many(void *opaque, int fd, uint32_t events)
{
	struct slot *s = opaque;
	uint64_t v;

	assert_true(events & EPOLLIN);
	assert_int_equal(fd, s->m->fds[s->i]);
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	s->m->fired[s->i]++;
	if (++s->m->total == s->m->stop_after)
		evloop_stop(&s->m->loop);
}

static void on_stop(void *opaque, int fd, uint32_t events)
{
	uint64_t v;

	(void)events;
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	evloop_stop(opaque);
}

static int new_efd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* 200 handlers: each registered, each fires once, each can be deleted. */
static void test_many_handlers(void **state)
{
	struct many *m = calloc(1, sizeof(*m));
	struct slot slots[NR_MANY];
	int stop_fd;

	(void)state;
	assert_non_null(m);
	assert_int_equal(evloop_init(&m->loop), 0);
	for (unsigned i = 0; i < NR_MANY; i++) {
		m->fds[i] = new_efd();
		slots[i] = (struct slot){m, i};
		if (evloop_add(&m->loop, m->fds[i], EPOLLIN, on_many, &slots[i]))
			fail_msg("handler %u could not be added", i);
	}
	assert_int_equal(evloop_nr_handlers(&m->loop), NR_MANY);

	/* All ready at once: served over several epoll batches. */
	for (unsigned i = 0; i < NR_MANY; i++)
		assert_int_equal(eventfd_write(m->fds[i], 1), 0);
	m->stop_after = NR_MANY;
	assert_int_equal(evloop_run(&m->loop), 0);
	for (unsigned i = 0; i < NR_MANY; i++)
		if (m->fired[i] != 1)
			fail_msg("handler %u fired %u times", i, m->fired[i]);

	/* One at a time, in reverse: the right handler each time. */
	m->loop.stop = false;
	m->total = 0;
	for (unsigned i = NR_MANY; i-- > 0;) {
		m->stop_after = m->total + 1;
		assert_int_equal(eventfd_write(m->fds[i], 1), 0);
		assert_int_equal(evloop_run(&m->loop), 0);
		m->loop.stop = false;
		assert_int_equal(m->fired[i], 2);
	}

	/* Deleted handlers never fire again. */
	for (unsigned i = 0; i < NR_MANY; i++) {
		assert_int_equal(evloop_del(&m->loop, m->fds[i]), 0);
		assert_int_equal(evloop_del(&m->loop, m->fds[i]), -ENOENT);
		assert_int_equal(evloop_mod(&m->loop, m->fds[i], EPOLLIN), -ENOENT);
	}
	assert_int_equal(evloop_nr_handlers(&m->loop), 0);
	for (unsigned i = 0; i < NR_MANY; i++)
		assert_int_equal(eventfd_write(m->fds[i], 1), 0);
	stop_fd = new_efd();
	assert_int_equal(evloop_add(&m->loop, stop_fd, EPOLLIN, on_stop, &m->loop), 0);
	assert_int_equal(eventfd_write(stop_fd, 1), 0);
	m->stop_after = 0;
	assert_int_equal(evloop_run(&m->loop), 0);
	for (unsigned i = 0; i < NR_MANY; i++)
		assert_int_equal(m->fired[i], 2);

	evloop_destroy(&m->loop);
	for (unsigned i = 0; i < NR_MANY; i++)
		close(m->fds[i]);
	close(stop_fd);
	free(m);
}

/*
 * Two handlers ready in the same batch; whichever runs first deletes the
 * other and registers a new handler for a third fd that is not ready. The
 * deleted one must not run, and its event, still in the batch, must not
 * reach the new handler (a loop that reused the deleted handler's memory
 * for the new one would call it with nothing to read).
 */
struct race {
	struct evloop *loop;
	int a, b, c, stop;
	unsigned ran_a, ran_b, ran_c, spurious_c;
};

static void on_c(void *opaque, int fd, uint32_t events)
{
	struct race *r = opaque;
	uint64_t v;

	(void)events;
	r->ran_c++;
	if (read(fd, &v, sizeof(v)) < 0 && errno == EAGAIN)
		r->spurious_c++;
}

static void on_ab(void *opaque, int fd, uint32_t events)
{
	struct race *r = opaque;
	uint64_t v;

	(void)events;
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	if (fd == r->a)
		r->ran_a++;
	else
		r->ran_b++;
	assert_int_equal(evloop_del(r->loop, fd == r->a ? r->b : r->a), 0);
	assert_int_equal(evloop_add(r->loop, r->c, EPOLLIN, on_c, r), 0);
	/* Seen in the next batch: ends the run. */
	assert_int_equal(eventfd_write(r->stop, 1), 0);
}

static void test_delete_during_batch(void **state)
{
	struct evloop loop;
	struct race r = {.loop = &loop};

	(void)state;
	assert_int_equal(evloop_init(&loop), 0);
	r.a = new_efd();
	r.b = new_efd();
	r.c = new_efd();
	r.stop = new_efd();
	assert_int_equal(evloop_add(&loop, r.stop, EPOLLIN, on_stop, &loop), 0);
	assert_int_equal(evloop_add(&loop, r.a, EPOLLIN, on_ab, &r), 0);
	assert_int_equal(evloop_add(&loop, r.b, EPOLLIN, on_ab, &r), 0);
	assert_int_equal(eventfd_write(r.a, 1), 0);
	assert_int_equal(eventfd_write(r.b, 1), 0);
	assert_int_equal(evloop_run(&loop), 0);
	assert_int_equal(r.ran_a + r.ran_b, 1);
	assert_int_equal(r.spurious_c, 0);
	assert_int_equal(r.ran_c, 0);
	assert_int_equal(evloop_nr_handlers(&loop), 3); /* stop, the survivor, c */
	evloop_destroy(&loop);
	close(r.a);
	close(r.b);
	close(r.c);
	close(r.stop);
}

/* A handler that removes itself is not called again; its fd can be added anew. */
static void on_self(void *opaque, int fd, uint32_t events)
{
	struct evloop *loop = opaque;
	uint64_t v;

	(void)events;
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(evloop_del(loop, fd), 0);
	assert_int_equal(evloop_add(loop, fd, EPOLLIN, on_stop, loop), 0);
	assert_int_equal(eventfd_write(fd, 1), 0);
}

static void test_self_delete_and_errors(void **state)
{
	struct evloop loop;
	int fd = new_efd(), file;
	char path[] = "/tmp/sluice-evloop-XXXXXX";

	(void)state;
	assert_int_equal(evloop_init(&loop), 0);
	assert_int_equal(evloop_add(&loop, fd, EPOLLIN, on_self, &loop), 0);
	assert_int_equal(evloop_add(&loop, fd, EPOLLIN, on_self, &loop), -EEXIST);
	assert_int_equal(evloop_add(&loop, -1, EPOLLIN, on_self, &loop), -EINVAL);
	assert_int_equal(evloop_mod(&loop, fd, EPOLLIN | EPOLLOUT), 0);
	assert_int_equal(evloop_mod(&loop, fd, EPOLLIN), 0);
	assert_int_equal(eventfd_write(fd, 1), 0);
	assert_int_equal(evloop_run(&loop), 0); /* on_self, then on_stop */
	assert_int_equal(evloop_nr_handlers(&loop), 1);

	/* A regular file cannot be watched: -EPERM, nothing registered. */
	file = mkstemp(path);
	assert_true(file >= 0);
	unlink(path);
	assert_int_equal(evloop_add(&loop, file, EPOLLIN, on_stop, &loop), -EPERM);
	assert_int_equal(evloop_nr_handlers(&loop), 1);
	close(file);

	/* Destroy frees what is still registered (checked under ASan/LSan). */
	evloop_destroy(&loop);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_many_handlers),
	    cmocka_unit_test(test_delete_during_batch),
	    cmocka_unit_test(test_self_delete_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
