/* SPDX-License-Identifier: MIT */
/*
 * virtio-console (virtio 1.2 section 5.3): one port (no MULTIPORT), so just
 * receiveq0 and transmitq0; Linux calls it hvc0.
 *
 * Guest output: each transmitq chain's readable bytes are written to out_fd
 * (stdout or a file). Host input: the host console (vmm-core/host_console.c)
 * pushes bytes through the struct console_sink this device hands out; they
 * go into the receive buffers the driver posted. With none posted the sink
 * takes nothing, so the console stops reading stdin; the driver's next
 * receiveq kick makes the sink's wake fd readable and input resumes. No
 * byte is dropped and none is held here.
 *
 * Threads: kicks and the sink both run on the event loop; the sink goes
 * through virtio_pci_kick() so a malformed receive chain takes the
 * transport's NEEDS_RESET path like any kick.
 */
#ifndef SLUICE_VIRTIO_CONSOLE_H
#define SLUICE_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host_console.h"
#include "log.h"
#include "virtio_pci.h"

/* Feature bits (5.3.3). */
#define VIRTIO_CONSOLE_F_SIZE	     0
#define VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

/* Device config layout (5.3.4), byte offsets. */
#define VIRTIO_CONSOLE_CFG_COLS		0
#define VIRTIO_CONSOLE_CFG_ROWS		2
#define VIRTIO_CONSOLE_CFG_MAX_NR_PORTS 4
#define VIRTIO_CONSOLE_CFG_EMERG_WR	8
#define VIRTIO_CONSOLE_CFG_SIZE		12

#define VIRTIO_CONSOLE_RXQ	  0
#define VIRTIO_CONSOLE_TXQ	  1
#define VIRTIO_CONSOLE_QUEUE_SIZE 256
#define VIRTIO_CONSOLE_MAX_IOV	  64
#define VIRTIO_CONSOLE_PATH_MAX	  4096 /* PATH_MAX */

/* --console (parsed by the machine layer, vmm-core/machine/): where hvc0 is connected. */
enum virtio_console_mode { VIRTIO_CONSOLE_OFF, VIRTIO_CONSOLE_STDIO, VIRTIO_CONSOLE_FILE };

struct virtio_console_conf {
	enum virtio_console_mode mode;
	char path[VIRTIO_CONSOLE_PATH_MAX]; /* VIRTIO_CONSOLE_FILE */
};

struct virtio_console {
	struct virtio_pci_dev vdev;
	struct log_dev log; /* "virtio-console" */
	uint8_t config[VIRTIO_CONSOLE_CFG_SIZE];
	int out_fd;
	bool out_failed; /* a write to out_fd failed: output is discarded (logged once) */
	int wake_fd;	 /* eventfd: receive buffers arrived after the sink refused input */
	/* Under vdev->lock. */
	bool rx_refused;       /* the sink took less than offered since the last wake */
	const uint8_t *in_buf; /* the sink call in progress */
	size_t in_len, in_done;
	uint64_t bytes_out, bytes_in;
};

/*
 * The device, ready to be added to the PCI root (con->vdev.pci). On success
 * out_fd is the device's (closed on destroy unless it is 0, 1 or 2).
 */
int virtio_console_init(struct virtio_console *con, int out_fd, const struct virtio_env *env);
void virtio_console_destroy(struct virtio_console *con);

/* The sink that feeds host input to the guest (for vm_set_console_sink()). */
void virtio_console_sink(struct virtio_console *con, struct console_sink *sink);

#endif
