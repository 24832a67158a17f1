/* SPDX-License-Identifier: MIT */
#include "virtio_console.h"
#include "log.h"
#include "pci.h"
#include "virtio.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* vdev->lock held: copy the pending sink bytes into posted receive buffers. */
static void virtio_console_rx(struct virtio_console *con)
{
	struct virtio_pci_dev *vdev = &con->vdev;
	struct virtq *vq = virtio_pci_vq(vdev, VIRTIO_CONSOLE_RXQ);
	struct iovec iov[VIRTIO_CONSOLE_MAX_IOV];
	struct virtq_elem elem = {.iov = iov, .max_iov = VIRTIO_CONSOLE_MAX_IOV};
	bool pushed = false;

	if (!con->in_buf) {
		/* A real kick: the driver posted buffers. Input held back can flow again. */
		if (con->rx_refused && eventfd_write(con->wake_fd, 1) == 0)
			con->rx_refused = false;
		return;
	}
	while (con->in_done < con->in_len) {
		uint32_t written = 0;

		if (virtq_pop(vq, &elem) <= 0)
			break; /* no buffers (backpressure), or a guest error -> NEEDS_RESET */
		if (elem.nr_out) {
			vq->error = "virtio-console: device-readable buffer on the receive queue";
			break;
		}
		for (unsigned i = 0; i < elem.nr_in && con->in_done < con->in_len; i++) {
			size_t n = con->in_len - con->in_done;

			if (n > iov[i].iov_len)
				n = iov[i].iov_len;
			memcpy(iov[i].iov_base, con->in_buf + con->in_done, n);
			con->in_done += n;
			written += (uint32_t)n;
		}
		if (virtq_push(vq, &elem, written))
			break;
		con->bytes_in += written;
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_used(vdev, VIRTIO_CONSOLE_RXQ);
}

static void virtio_console_output(struct virtio_console *con, const uint8_t *p, size_t len)
{
	while (len && !con->out_failed) {
		ssize_t n = write(con->out_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Like a UART with nothing attached: the guest keeps running. */
			log_dev_warn(&con->log, "output lost from now on: %s",
				     n < 0 ? strerror(errno) : "short write");
			con->out_failed = true;
			return;
		}
		p += n;
		len -= (size_t)n;
		con->bytes_out += (uint64_t)n;
	}
}

/* vdev->lock held: write each transmit chain out. */
static void virtio_console_tx(struct virtio_console *con)
{
	struct virtio_pci_dev *vdev = &con->vdev;
	struct virtq *vq = virtio_pci_vq(vdev, VIRTIO_CONSOLE_TXQ);
	struct iovec iov[VIRTIO_CONSOLE_MAX_IOV];
	struct virtq_elem elem = {.iov = iov, .max_iov = VIRTIO_CONSOLE_MAX_IOV};
	bool pushed = false;

	/* A queue's worth of chains per kick at most; the driver kicks again for the rest. */
	for (unsigned n = 0; n < vq->size; n++) {
		if (virtq_pop(vq, &elem) <= 0)
			break;
		if (elem.nr_in) {
			vq->error = "virtio-console: device-writable buffer on the transmit queue";
			break;
		}
		for (unsigned i = 0; i < elem.nr_out; i++)
			virtio_console_output(con, iov[i].iov_base, iov[i].iov_len);
		if (virtq_push(vq, &elem, 0))
			break;
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_used(vdev, VIRTIO_CONSOLE_TXQ);
}

static void virtio_console_queue_notify(struct virtio_pci_dev *vdev, unsigned q)
{
	if (q == VIRTIO_CONSOLE_RXQ)
		virtio_console_rx(vdev->opaque);
	else
		virtio_console_tx(vdev->opaque);
}

/* Input held back before DRIVER_OK may find buffers posted before it (and their kicks ignored). */
static int virtio_console_activate(struct virtio_pci_dev *vdev)
{
	struct virtio_console *con = vdev->opaque;

	if (con->rx_refused && eventfd_write(con->wake_fd, 1) == 0)
		con->rx_refused = false;
	return 0;
}

static size_t virtio_console_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct virtio_console *con = opaque;
	size_t done;

	pthread_mutex_lock(&con->vdev.lock);
	con->in_buf = buf;
	con->in_len = len;
	con->in_done = 0;
	pthread_mutex_unlock(&con->vdev.lock);
	/* Only runs the queue if the driver is ready; otherwise nothing is taken. */
	virtio_pci_kick(&con->vdev, VIRTIO_CONSOLE_RXQ);
	pthread_mutex_lock(&con->vdev.lock);
	done = con->in_done;
	con->in_buf = NULL;
	con->in_len = con->in_done = 0;
	if (done < len)
		con->rx_refused = true;
	pthread_mutex_unlock(&con->vdev.lock);
	return done;
}

void virtio_console_sink(struct virtio_console *con, struct console_sink *sink)
{
	sink->receive = virtio_console_receive;
	sink->opaque = con;
	sink->wake_fd = con->wake_fd;
}

static const struct virtio_device_ops virtio_console_ops = {
    .name = "virtio-console",
    .device_id = VIRTIO_ID_CONSOLE,
    .class_code = PCI_CLASS_COMM_OTHER,
    .queue_notify = virtio_console_queue_notify,
    .activate = virtio_console_activate,
};

int virtio_console_init(struct virtio_console *con, int out_fd, const struct virtio_env *env)
{
	struct virtio_pci_params params = {
	    .nr_queues = 2,
	    .queue_max_size = VIRTIO_CONSOLE_QUEUE_SIZE,
	    .config_size = VIRTIO_CONSOLE_CFG_SIZE,
	};
	struct winsize ws;
	int ret;

	memset(con, 0, sizeof(*con));
	log_dev_init(&con->log, "virtio-console");
	con->out_fd = out_fd;
	/* The size is only worth telling when the output is a terminal. */
	if (isatty(out_fd) && ioctl(out_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		params.features |= VIRTIO_FEATURE(VIRTIO_CONSOLE_F_SIZE);
		memcpy(con->config + VIRTIO_CONSOLE_CFG_COLS, &ws.ws_col, 2);
		memcpy(con->config + VIRTIO_CONSOLE_CFG_ROWS, &ws.ws_row, 2);
	}
	con->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (con->wake_fd < 0) {
		ret = -errno;
		log_dev_err(&con->log, "eventfd: %s", strerror(errno));
		return ret;
	}
	ret = virtio_pci_init(&con->vdev, &virtio_console_ops, &params, con, env);
	if (ret) {
		close(con->wake_fd);
		con->wake_fd = -1;
		return ret;
	}
	con->vdev.config = con->config;
	return 0;
}

void virtio_console_destroy(struct virtio_console *con)
{
	log_dev_debug(&con->log, "%llu bytes out, %llu bytes in",
		      (unsigned long long)con->bytes_out, (unsigned long long)con->bytes_in);
	virtio_pci_destroy(&con->vdev);
	if (con->wake_fd >= 0)
		close(con->wake_fd);
	con->wake_fd = -1;
	if (con->out_fd > STDERR_FILENO)
		close(con->out_fd);
	con->out_fd = -1;
}
