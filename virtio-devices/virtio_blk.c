/* SPDX-License-Identifier: MIT */
#include "virtio_blk.h"
#include "log.h"
#include "pci.h"
#include "virtio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define VIRTIO_BLK_HDR_SIZE 16
#define VIRTIO_BLK_SEG_SIZE 16 /* discard / write-zeroes segment */

struct virtio_blk_req {
	struct virtio_blk_req *next;
	uint64_t generation;
	struct virtq_elem elem;
	uint32_t type;
	uint64_t sector;
	uint8_t *status;
	struct iovec *out; /* readable data after the header */
	struct iovec *in;  /* writable data before the status byte */
	unsigned nr_out, nr_in;
	uint64_t out_len, in_len;
	struct iovec iov[]; /* elem's buffers, then out[], then in[] */
};

static void put_le(uint8_t *p, uint64_t v, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned len)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Copy src[0, n) minus skip bytes at the front and drop bytes at the end into dst. */
static unsigned virtio_blk_trim(const struct iovec *src, unsigned n, uint64_t skip, uint64_t drop,
				struct iovec *dst, uint64_t *len)
{
	uint64_t total = 0, keep;
	unsigned out = 0;

	for (unsigned i = 0; i < n; i++)
		total += src[i].iov_len;
	keep = total - skip - drop; /* the caller checked total >= skip + drop */
	*len = keep;
	for (unsigned i = 0; i < n && keep; i++) {
		size_t l = src[i].iov_len;
		uint8_t *base = src[i].iov_base;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		base += skip;
		l -= skip;
		skip = 0;
		if (l > keep)
			l = keep;
		dst[out].iov_base = base;
		dst[out].iov_len = l;
		out++;
		keep -= l;
	}
	return out;
}

static bool virtio_blk_range_ok(const struct virtio_blk *blk, uint64_t sector, uint64_t nsec)
{
	return sector <= blk->capacity && nsec <= blk->capacity - sector;
}

/* Whole transfer of iov at off, retrying short transfers; 0 or -errno. */
static int virtio_blk_rw(int fd, const struct iovec *src, unsigned n, uint64_t off, bool write)
{
	struct iovec iov[VIRTIO_BLK_MAX_IOV];
	unsigned first = 0;

	memcpy(iov, src, n * sizeof(*iov));
	while (first < n) {
		ssize_t r = write ? pwritev(fd, iov + first, (int)(n - first), (off_t)off)
				  : preadv(fd, iov + first, (int)(n - first), (off_t)off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO; /* the image shrank under us */
		off += (uint64_t)r;
		while (first < n && (size_t)r >= iov[first].iov_len) {
			r -= (ssize_t)iov[first].iov_len;
			first++;
		}
		if (first < n) {
			iov[first].iov_base = (uint8_t *)iov[first].iov_base + r;
			iov[first].iov_len -= (size_t)r;
		}
	}
	return 0;
}

static int virtio_blk_write_zeroes_slow(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[65536];

	while (len) {
		size_t l = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		ssize_t r = pwrite(fd, zeros, l, (off_t)off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static uint8_t virtio_blk_do_segments(struct virtio_blk *blk, struct virtio_blk_req *r)
{
	uint8_t segs[VIRTIO_BLK_MAX_DISCARD_SEG * VIRTIO_BLK_SEG_SIZE];
	bool discard = r->type == VIRTIO_BLK_T_DISCARD;
	unsigned nseg;

	if (blk->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (!r->out_len || r->out_len % VIRTIO_BLK_SEG_SIZE || r->out_len > sizeof(segs))
		return VIRTIO_BLK_S_IOERR;
	nseg = (unsigned)(r->out_len / VIRTIO_BLK_SEG_SIZE);
	virtq_iov_to_buf(r->out, r->nr_out, segs, (size_t)r->out_len);
	/* Check every segment before touching the image. */
	for (unsigned i = 0; i < nseg; i++) {
		const uint8_t *s = segs + i * VIRTIO_BLK_SEG_SIZE;
		uint64_t sector = get_le(s, 8);
		uint32_t nsec = (uint32_t)get_le(s + 8, 4), flags = (uint32_t)get_le(s + 12, 4);

		if (flags & ~(discard ? 0U : VIRTIO_BLK_WZ_F_UNMAP))
			return VIRTIO_BLK_S_UNSUPP;
		if (nsec > VIRTIO_BLK_MAX_DISCARD_SECT || !virtio_blk_range_ok(blk, sector, nsec))
			return VIRTIO_BLK_S_IOERR;
	}
	for (unsigned i = 0; i < nseg; i++) {
		const uint8_t *s = segs + i * VIRTIO_BLK_SEG_SIZE;
		uint64_t off = get_le(s, 8) * VIRTIO_BLK_SECTOR;
		uint64_t len = get_le(s + 8, 4) * VIRTIO_BLK_SECTOR;
		uint32_t flags = (uint32_t)get_le(s + 12, 4);
		int mode = discard || (flags & VIRTIO_BLK_WZ_F_UNMAP)
			       ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
			       : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;

		if (!len)
			continue;
		if (fallocate(blk->fd, mode, (off_t)off, (off_t)len) == 0)
			continue;
		if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL) {
			log_dev_warn(&blk->log, "fallocate: %s", strerror(errno));
			return VIRTIO_BLK_S_IOERR;
		}
		if (discard)
			continue; /* discard is a hint */
		if (virtio_blk_write_zeroes_slow(blk->fd, off, len)) {
			log_dev_warn(&blk->log, "write zeroes: %s", strerror(errno));
			return VIRTIO_BLK_S_IOERR;
		}
	}
	return VIRTIO_BLK_S_OK;
}

/* Worker thread, no lock held: serve r; returns its status, *written = bytes for the used ring. */
static uint8_t virtio_blk_do(struct virtio_blk *blk, struct virtio_blk_req *r, uint32_t *written)
{
	int ret;

	*written = 1; /* the status byte */
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool write = r->type == VIRTIO_BLK_T_OUT;
		uint64_t len = write ? r->out_len : r->in_len;

		if (write && blk->readonly)
			return VIRTIO_BLK_S_IOERR;
		if (len % VIRTIO_BLK_SECTOR ||
		    !virtio_blk_range_ok(blk, r->sector, len / VIRTIO_BLK_SECTOR))
			return VIRTIO_BLK_S_IOERR;
		ret = virtio_blk_rw(blk->fd, write ? r->out : r->in, write ? r->nr_out : r->nr_in,
				    r->sector * VIRTIO_BLK_SECTOR, write);
		if (ret) {
			log_dev_warn(&blk->log, "%s at sector %llu: %s", write ? "write" : "read",
				     (unsigned long long)r->sector, strerror(-ret));
			return VIRTIO_BLK_S_IOERR;
		}
		if (!write)
			*written += (uint32_t)len;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_FLUSH:
		if (fdatasync(blk->fd) < 0) {
			log_dev_warn(&blk->log, "fdatasync: %s", strerror(errno));
			return VIRTIO_BLK_S_IOERR;
		}
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		*written += (uint32_t)virtq_iov_from_buf(r->in, r->nr_in, blk->id, sizeof(blk->id));
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return virtio_blk_do_segments(blk, r);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void virtio_blk_free_list(struct virtio_blk_req *r)
{
	while (r) {
		struct virtio_blk_req *next = r->next;

		free(r);
		r = next;
	}
}

static void *virtio_blk_worker(void *arg)
{
	struct virtio_blk_queue *q = arg;
	struct virtio_blk *blk = q->blk;
	struct virtio_pci_dev *vdev = &blk->vdev;

	for (;;) {
		struct virtio_blk_req *r;
		uint32_t written;

		pthread_mutex_lock(&q->lock);
		while (!q->head && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->stop) {
			pthread_mutex_unlock(&q->lock);
			return NULL;
		}
		r = q->head;
		q->head = r->next;
		if (!q->head)
			q->tail = NULL;
		q->busy++;
		pthread_mutex_unlock(&q->lock);

		*r->status = virtio_blk_do(blk, r, &written);

		/* Done with guest buffers: a reset waiting in vdev->lock may go on. */
		pthread_mutex_lock(&q->lock);
		q->busy--;
		pthread_cond_broadcast(&q->cond);
		pthread_mutex_unlock(&q->lock);

		pthread_mutex_lock(&vdev->lock);
		if (r->generation == blk->generation) {
			struct virtq *vq = virtio_pci_vq(vdev, q->index);

			if (virtq_push(vq, &r->elem, written) == 0)
				virtio_pci_queue_used(vdev, q->index);
			else if (!vq->error)
				log_dev_warn(&blk->log, "queue %u: push refused", q->index);
		}
		pthread_mutex_unlock(&vdev->lock);
		free(r);
	}
}

/* vdev->lock held: turn a popped chain into a request, or NULL (vq->error set). */
static struct virtio_blk_req *virtio_blk_parse(struct virtio_blk *blk, struct virtq *vq,
					       const struct virtq_elem *elem)
{
	unsigned n = elem->nr_out + elem->nr_in;
	struct virtio_blk_req *r;
	uint8_t hdr[VIRTIO_BLK_HDR_SIZE];
	const struct iovec *last;

	if (elem->total_out < VIRTIO_BLK_HDR_SIZE) {
		vq->error = "virtio-blk: request header shorter than 16 bytes";
		return NULL;
	}
	if (elem->total_in < 1) {
		vq->error = "virtio-blk: request without a status byte";
		return NULL;
	}
	r = calloc(1, sizeof(*r) + 3 * n * sizeof(struct iovec));
	if (!r) {
		log_dev_err(&blk->log, "out of memory for a request");
		vq->error = "virtio-blk: out of memory";
		return NULL;
	}
	memcpy(r->iov, elem->iov, n * sizeof(struct iovec));
	r->elem = *elem;
	r->elem.iov = r->iov;
	r->generation = blk->generation;
	r->out = r->iov + n;
	r->in = r->iov + 2 * n;
	virtq_iov_to_buf(r->iov, elem->nr_out, hdr, sizeof(hdr));
	r->type = (uint32_t)get_le(hdr, 4);
	r->sector = get_le(hdr + 8, 8);
	r->nr_out =
	    virtio_blk_trim(r->iov, elem->nr_out, VIRTIO_BLK_HDR_SIZE, 0, r->out, &r->out_len);
	r->nr_in = virtio_blk_trim(r->iov + elem->nr_out, elem->nr_in, 0, 1, r->in, &r->in_len);
	last = &r->iov[n - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	return r;
}

static void virtio_blk_queue_notify(struct virtio_pci_dev *vdev, unsigned qi)
{
	struct virtio_blk *blk = vdev->opaque;
	struct virtio_blk_queue *q = &blk->queues[qi];
	struct virtq *vq = virtio_pci_vq(vdev, qi);
	struct virtq_elem elem = {.iov = q->scratch, .max_iov = VIRTIO_BLK_MAX_IOV};
	struct virtio_blk_req *first = NULL, *last = NULL;

	for (;;) {
		struct virtio_blk_req *r;

		if (virtq_pop(vq, &elem) <= 0)
			break; /* empty, or a guest error the transport turns into NEEDS_RESET */
		r = virtio_blk_parse(blk, vq, &elem);
		if (!r)
			break;
		if (last)
			last->next = r;
		else
			first = r;
		last = r;
	}
	if (!first)
		return;
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = first;
	else
		q->head = first;
	q->tail = last;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* vdev->lock held: drop queued requests, wait for those in service, forget their completions. */
static void virtio_blk_reset(struct virtio_pci_dev *vdev)
{
	struct virtio_blk *blk = vdev->opaque;

	for (unsigned i = 0; i < blk->nr_queues; i++) {
		struct virtio_blk_queue *q = &blk->queues[i];
		struct virtio_blk_req *pending;

		pthread_mutex_lock(&q->lock);
		pending = q->head;
		q->head = q->tail = NULL;
		while (q->busy)
			pthread_cond_wait(&q->cond, &q->lock);
		pthread_mutex_unlock(&q->lock);
		virtio_blk_free_list(pending);
	}
	blk->generation++;
}

static const struct virtio_device_ops virtio_blk_ops = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .class_code = PCI_CLASS_STORAGE_SCSI,
    .queue_notify = virtio_blk_queue_notify,
    .reset = virtio_blk_reset,
};

static int virtio_blk_open(struct virtio_blk *blk, const char *path)
{
	struct stat st;
	uint64_t bytes;
	const char *base = strrchr(path, '/');

	blk->fd = open(path, (blk->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (blk->fd < 0) {
		int err = errno;

		log_dev_err(&blk->log, "cannot open disk image %s%s: %s", path,
			    blk->readonly ? " (read-only)" : "", strerror(err));
		return -err;
	}
	/*
	 * Two writers on one image corrupt it (two guests' filesystems, or a guest
	 * and a host tool): writers take the image exclusively, readers shared.
	 */
	if (flock(blk->fd, (blk->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		int err = errno;

		if (err == EWOULDBLOCK)
			log_dev_err(&blk->log, "disk image %s is in use (locked by another %s)",
				    path, blk->readonly ? "writer" : "user");
		else
			log_dev_err(&blk->log, "cannot lock disk image %s: %s", path,
				    strerror(err));
		return err == EWOULDBLOCK ? -EBUSY : -err;
	}
	if (fstat(blk->fd, &st) < 0) {
		int err = errno;

		log_dev_err(&blk->log, "stat %s: %s", path, strerror(err));
		return -err;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(blk->fd, BLKGETSIZE64, &bytes) < 0) {
			int err = errno;

			log_dev_err(&blk->log, "%s: BLKGETSIZE64: %s", path, strerror(err));
			return -err;
		}
	} else if (S_ISREG(st.st_mode)) {
		bytes = (uint64_t)st.st_size;
	} else {
		log_dev_err(&blk->log, "%s is neither a regular file nor a block device", path);
		return -EINVAL;
	}
	blk->capacity = bytes / VIRTIO_BLK_SECTOR;
	/* The serial (GET_ID): the image's file name, cut to 20 bytes, NUL padded. */
	base = base ? base + 1 : path;
	memcpy(blk->id, base, strnlen(base, sizeof(blk->id)));
	return 0;
}

static void virtio_blk_build_config(struct virtio_blk *blk)
{
	uint8_t *c = blk->config;

	memset(c, 0, sizeof(blk->config));
	put_le(c + VIRTIO_BLK_CFG_CAPACITY, blk->capacity, 8);
	put_le(c + VIRTIO_BLK_CFG_SEG_MAX, VIRTIO_BLK_SEG_MAX, 4);
	put_le(c + VIRTIO_BLK_CFG_BLK_SIZE, VIRTIO_BLK_SECTOR, 4);
	put_le(c + VIRTIO_BLK_CFG_NUM_QUEUES, blk->nr_queues, 2);
	put_le(c + VIRTIO_BLK_CFG_MAX_DISCARD_SECT, VIRTIO_BLK_MAX_DISCARD_SECT, 4);
	put_le(c + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, VIRTIO_BLK_MAX_DISCARD_SEG, 4);
	put_le(c + VIRTIO_BLK_CFG_DISCARD_ALIGN, 8, 4); /* 4 KiB: hole-punch granularity */
	put_le(c + VIRTIO_BLK_CFG_MAX_WZ_SECT, VIRTIO_BLK_MAX_DISCARD_SECT, 4);
	put_le(c + VIRTIO_BLK_CFG_MAX_WZ_SEG, VIRTIO_BLK_MAX_DISCARD_SEG, 4);
	c[VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 1;
}

static void virtio_blk_stop_workers(struct virtio_blk *blk)
{
	for (unsigned i = 0; i < blk->nr_queues; i++) {
		struct virtio_blk_queue *q = &blk->queues[i];

		if (!q->thread_started)
			continue;
		pthread_mutex_lock(&q->lock);
		q->stop = true;
		pthread_cond_broadcast(&q->cond);
		pthread_mutex_unlock(&q->lock);
		pthread_join(q->thread, NULL);
		q->thread_started = false;
	}
}

static void virtio_blk_free_queues(struct virtio_blk *blk, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		virtio_blk_free_list(blk->queues[i].head);
		pthread_cond_destroy(&blk->queues[i].cond);
		pthread_mutex_destroy(&blk->queues[i].lock);
	}
}

int virtio_blk_init(struct virtio_blk *blk, const char *path, bool readonly, unsigned num_queues,
		    const struct virtio_env *env)
{
	struct virtio_pci_params params = {
	    .features = VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX) |
			VIRTIO_FEATURE(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_FEATURE(VIRTIO_BLK_F_FLUSH) |
			VIRTIO_FEATURE(VIRTIO_BLK_F_MQ),
	    .nr_queues = num_queues,
	    .queue_max_size = VIRTIO_BLK_QUEUE_SIZE,
	    .config_size = VIRTIO_BLK_CFG_SIZE,
	};
	unsigned i;
	int ret;

	memset(blk, 0, sizeof(*blk));
	log_dev_init(&blk->log, "virtio-blk");
	blk->fd = -1;
	if (!num_queues || num_queues > VIRTIO_BLK_MAX_QUEUES) {
		log_dev_err(&blk->log, "%s: num_queues %u out of 1..%d", path, num_queues,
			    VIRTIO_BLK_MAX_QUEUES);
		return -EINVAL;
	}
	blk->readonly = readonly;
	blk->nr_queues = num_queues;
	if ((ret = virtio_blk_open(blk, path)))
		goto err_fd;
	virtio_blk_build_config(blk);
	if (readonly)
		params.features |= VIRTIO_FEATURE(VIRTIO_BLK_F_RO);
	else
		params.features |= VIRTIO_FEATURE(VIRTIO_BLK_F_DISCARD) |
				   VIRTIO_FEATURE(VIRTIO_BLK_F_WRITE_ZEROES);
	for (i = 0; i < num_queues; i++) {
		struct virtio_blk_queue *q = &blk->queues[i];

		q->blk = blk;
		q->index = i;
		if ((ret = -pthread_mutex_init(&q->lock, NULL)))
			break;
		if ((ret = -pthread_cond_init(&q->cond, NULL))) {
			pthread_mutex_destroy(&q->lock);
			break;
		}
	}
	if (ret) {
		log_dev_err(&blk->log, "%s: cannot create queue locks", path);
		virtio_blk_free_queues(blk, i);
		goto err_fd;
	}
	/* Queue locks exist before the transport, whose init resets the device. */
	if ((ret = virtio_pci_init(&blk->vdev, &virtio_blk_ops, &params, blk, env)))
		goto err_queues;
	blk->vdev.config = blk->config;
	for (i = 0; i < num_queues; i++) {
		if ((ret = -pthread_create(&blk->queues[i].thread, NULL, virtio_blk_worker,
					   &blk->queues[i]))) {
			log_dev_err(&blk->log, "%s: cannot start worker thread: %s", path,
				    strerror(-ret));
			goto err_threads;
		}
		blk->queues[i].thread_started = true;
	}
	return 0;
err_threads:
	virtio_blk_stop_workers(blk);
	virtio_pci_destroy(&blk->vdev);
err_queues:
	virtio_blk_free_queues(blk, num_queues);
err_fd:
	if (blk->fd >= 0)
		close(blk->fd);
	blk->fd = -1;
	return ret;
}

void virtio_blk_destroy(struct virtio_blk *blk)
{
	if (blk->fd < 0)
		return;
	/* Kicks come from the event loop, which no longer runs: only the workers are left. */
	virtio_blk_stop_workers(blk);
	virtio_pci_destroy(&blk->vdev);
	virtio_blk_free_queues(blk, blk->nr_queues);
	close(blk->fd);
	blk->fd = -1;
}
