/* SPDX-License-Identifier: MIT */
#include "virtio_rng.h"
#include "log.h"
#include "pci.h"
#include "virtio.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

/* Fill up to max bytes of the writable buffers; returns the bytes written. */
static uint32_t virtio_rng_fill(struct virtio_rng *rng, const struct virtq_elem *elem, uint32_t max)
{
	uint32_t done = 0;

	for (unsigned i = elem->nr_out; i < elem->nr_out + elem->nr_in && done < max; i++) {
		const struct iovec *iov = &elem->iov[i];
		size_t want = iov->iov_len < max - done ? iov->iov_len : max - done;
		/* Never block the event loop: short reads just give the driver fewer bytes. */
		ssize_t got = getrandom(iov->iov_base, want, GRND_NONBLOCK);

		if (got <= 0) {
			if (got < 0 && errno != EAGAIN && errno != EINTR)
				log_dev_warn(&rng->log, "getrandom: %s", strerror(errno));
			break;
		}
		done += (uint32_t)got;
		if ((size_t)got < want)
			break;
	}
	return done;
}

static void virtio_rng_queue_notify(struct virtio_pci_dev *vdev, unsigned q)
{
	struct virtio_rng *rng = vdev->opaque;
	struct virtq *vq = virtio_pci_vq(vdev, q);
	struct iovec iov[VIRTIO_RNG_MAX_IOV];
	struct virtq_elem elem = {.iov = iov, .max_iov = VIRTIO_RNG_MAX_IOV};
	bool pushed = false;

	/* A queue's worth of chains per kick at most; the rest wait for the next kick. */
	for (unsigned n = 0; n < vq->size; n++) {
		uint32_t written;

		if (virtq_pop(vq, &elem) <= 0)
			break; /* empty, or a guest error the transport turns into NEEDS_RESET */
		written = virtio_rng_fill(rng, &elem, VIRTIO_RNG_MAX_PER_CHAIN);
		if (virtq_push(vq, &elem, written))
			break;
		rng->bytes_served += written;
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_used(vdev, q);
}

static const struct virtio_device_ops virtio_rng_ops = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .class_code = PCI_CLASS_OTHERS,
    .queue_notify = virtio_rng_queue_notify,
};

int virtio_rng_init(struct virtio_rng *rng, const struct virtio_env *env)
{
	static const struct virtio_pci_params params = {
	    .nr_queues = 1,
	    .queue_max_size = VIRTIO_RNG_QUEUE_SIZE,
	};

	memset(rng, 0, sizeof(*rng));
	log_dev_init(&rng->log, "virtio-rng");
	return virtio_pci_init(&rng->vdev, &virtio_rng_ops, &params, rng, env);
}

void virtio_rng_destroy(struct virtio_rng *rng)
{
	virtio_pci_destroy(&rng->vdev);
}
