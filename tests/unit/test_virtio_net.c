/* SPDX-License-Identifier: MIT */
/*
 * virtio-net on a real TAP interface, driven as a guest driver would
 * through the virtio-pci transport (tests/unit/virtio_harness.h), with the
 * kernel as the peer. The test first enters a network namespace of its own
 * (unshare(CLONE_NEWNET), so it needs CAP_NET_ADMIN; without it the tests
 * that need a TAP are skipped): the TAP, its address 10.0.0.1/24, a static
 * neighbour entry for the guest (10.0.0.2) and the UDP sockets all live
 * there and vanish with the process; nothing touches the host's network.
 * IPv6 is disabled in the namespace so the kernel sends nothing unasked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "virtio_harness.h"
#include "virtio_net.h"

#define TAP_NAME  "sl0"
#define HOST_IP	  0x0a000001u /* 10.0.0.1 on the TAP */
#define GUEST_IP  0x0a000002u /* 10.0.0.2 behind the device */
#define QSIZE	  256
#define ETH_HLEN  14
#define IP_HLEN	  20
#define UDP_HLEN  8
#define HDR	  VIRTIO_NET_HDR_LEN
#define MAX_FRAME 70000

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* Set by main: the namespace could be entered, so TAP tests can run. */
static bool have_netns;

struct ctx {
	struct vh vh;
	struct virtio_net *net;
	uint8_t tap_mac[6];
	unsigned nr_queues;
	uint16_t next_desc[VH_MAX_QUEUES];
	uint16_t seen[VH_MAX_QUEUES];		/* used entries consumed */
	uint64_t buf_gpa[VH_MAX_QUEUES][QSIZE]; /* rx: buffer of each descriptor */
	uint32_t buf_len[VH_MAX_QUEUES][QSIZE];
};

/* --- namespace network set-up through ioctls --- */

static void write_sysctl(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, v, strlen(v)) < 0)
			print_message("cannot write %s\n", path);
		close(fd);
	}
}

static void sin_set(struct sockaddr *sa, uint32_t ip)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(ip)};

	memcpy(sa, &sin, sizeof(sin));
}

static void tap_configure(struct ctx *c)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	struct arpreq ar;

	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, TAP_NAME);
	sin_set(&ifr.ifr_addr, HOST_IP);
	assert_int_equal(ioctl(s, SIOCSIFADDR, &ifr), 0);
	sin_set(&ifr.ifr_netmask, 0xffffff00u);
	assert_int_equal(ioctl(s, SIOCSIFNETMASK, &ifr), 0);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	assert_int_equal(ioctl(s, SIOCGIFHWADDR, &ifr), 0);
	memcpy(c->tap_mac, ifr.ifr_hwaddr.sa_data, 6);

	/* The guest's neighbour entry, so the kernel sends to it without asking. */
	memset(&ar, 0, sizeof(ar));
	sin_set(&ar.arp_pa, GUEST_IP);
	ar.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(ar.arp_ha.sa_data, guest_mac, 6);
	ar.arp_flags = ATF_COM | ATF_PERM;
	strcpy(ar.arp_dev, TAP_NAME);
	assert_int_equal(ioctl(s, SIOCSARP, &ar), 0);
	close(s);
}

static int udp_socket(uint16_t port)
{
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(HOST_IP)};
	struct timeval tv = {.tv_sec = 3};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return s;
}

static void udp_send_to_guest(int s, uint16_t port, const void *data, size_t len)
{
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(GUEST_IP)};

	assert_int_equal(sendto(s, data, len, 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)len);
}

/* --- device and driver --- */

static int setup_pairs(void **state, unsigned pairs, bool mac_set)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct virtio_net_conf cfg = {.num_queue_pairs = pairs, .mac_set = mac_set};

	assert_non_null(c);
	c->net = calloc(1, sizeof(*c->net));
	assert_non_null(c->net);
	strcpy(cfg.tap, TAP_NAME);
	memcpy(cfg.mac, guest_mac, 6);
	vh_setup(&c->vh, 32ULL << 20);
	assert_int_equal(virtio_net_init(c->net, &cfg, &c->vh.env), 0);
	vh_attach(&c->vh, &c->net->vdev);
	c->nr_queues = 2 * pairs + 1;
	tap_configure(c);
	*state = c;
	return 0;
}

static int setup(void **state)
{
	if (!have_netns)
		skip();
	return setup_pairs(state, 1, true);
}

static int setup_mq(void **state)
{
	if (!have_netns)
		skip();
	return setup_pairs(state, 2, true);
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	virtio_net_destroy(c->net);
	vh_teardown(&c->vh);
	free(c->net);
	free(c);
	return 0;
}

#define BASE_FEATURES                                                                              \
	(VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_NET_F_MAC) |                   \
	 VIRTIO_FEATURE(VIRTIO_NET_F_STATUS) | VIRTIO_FEATURE(VIRTIO_NET_F_CSUM) |                 \
	 VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_FEATURE(VIRTIO_NET_F_CTRL_VQ) |          \
	 VIRTIO_FEATURE(VIRTIO_NET_F_CTRL_RX))
#define MRG VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF)
#define MQ  VIRTIO_FEATURE(VIRTIO_NET_F_MQ)

static void bring_up(struct ctx *c, uint64_t features, unsigned nr_queues)
{
	vh_bring_up(&c->vh, features, nr_queues, QSIZE);
	memset(c->next_desc, 0, sizeof(c->next_desc));
	memset(c->seen, 0, sizeof(c->seen));
}

static uint16_t take_desc(struct ctx *c, unsigned q)
{
	return (uint16_t)(c->next_desc[q]++ % QSIZE);
}

/* The driver offers n receive buffers of size bytes on rx queue q and kicks it. */
static void post_rx(struct ctx *c, unsigned q, unsigned n, uint32_t size)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t d = take_desc(c, q);

		c->buf_gpa[q][d] = vh_alloc(&c->vh, size);
		c->buf_len[q][d] = size;
		vh_put_desc(&c->vh, q, d, c->buf_gpa[q][d], size, VIRTQ_DESC_F_WRITE, 0);
		vh_offer(&c->vh, q, d);
	}
	vh_kick(&c->vh, q);
}

static bool wait_used(struct ctx *c, unsigned q, uint16_t idx, int ms)
{
	struct timespec ts = {0, 1000000};

	for (int i = 0; i < ms; i++) {
		if ((int16_t)(vh_used_idx(&c->vh, q) - idx) >= 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/*
 * The next received frame on rx queue q within ms: copies header + frame to
 * out (returns its total length, header included), *nbufs = buffers used.
 * 0 if nothing came.
 */
static size_t recv_frame(struct ctx *c, unsigned q, uint8_t *out, unsigned *nbufs, int ms)
{
	size_t total = 0;
	uint16_t num;

	if (!wait_used(c, q, (uint16_t)(c->seen[q] + 1), ms))
		return 0;
	for (unsigned i = 0;; i++) {
		uint32_t id, len;

		if (i && !wait_used(c, q, (uint16_t)(c->seen[q] + 1), 1000))
			fail_msg("merged buffer %u missing", i);
		id = vh_used_id(&c->vh, q, c->seen[q]);
		len = vh_used_len(&c->vh, q, c->seen[q]);
		c->seen[q]++;
		assert_true(id < QSIZE);
		assert_true(len <= c->buf_len[q][id]);
		assert_true(total + len <= MAX_FRAME);
		assert_int_equal(guest_mem_read(&c->vh.gm, c->buf_gpa[q][id], out + total, len), 0);
		total += len;
		if (i == 0) {
			assert_true(len >= HDR);
			memcpy(&num, out + VIRTIO_NET_HDR_NUM_BUFFERS, 2);
			assert_true(num >= 1);
			*nbufs = num;
		}
		if (i + 1 == *nbufs)
			return total;
	}
}

/* The driver sends hdr + frame on tx queue q (header and frame in two descriptors). */
static bool send_frame(struct ctx *c, unsigned q, const uint8_t hdr[HDR], const void *frame,
		       size_t len)
{
	uint16_t d0 = take_desc(c, q), d1 = take_desc(c, q);
	uint64_t h = vh_alloc(&c->vh, HDR), f = vh_alloc(&c->vh, len);

	assert_int_equal(guest_mem_write(&c->vh.gm, h, hdr, HDR), 0);
	assert_int_equal(guest_mem_write(&c->vh.gm, f, frame, len), 0);
	vh_put_desc(&c->vh, q, d0, h, HDR, VIRTQ_DESC_F_NEXT, d1);
	vh_put_desc(&c->vh, q, d1, f, (uint32_t)len, 0, 0);
	return vh_run(&c->vh, q, d0);
}

/* Control command; returns the ack byte, or -1 if the chain was not completed. */
static int ctrl_cmd(struct ctx *c, unsigned q, const void *cmd, size_t len)
{
	uint16_t d0 = take_desc(c, q), d1 = take_desc(c, q);
	uint64_t b = vh_alloc(&c->vh, len), a = vh_alloc(&c->vh, 1);
	uint8_t ack = 0xff;

	assert_int_equal(guest_mem_write(&c->vh.gm, b, cmd, len), 0);
	assert_int_equal(guest_mem_write(&c->vh.gm, a, &ack, 1), 0);
	vh_put_desc(&c->vh, q, d0, b, (uint32_t)len, VIRTQ_DESC_F_NEXT, d1);
	vh_put_desc(&c->vh, q, d1, a, 1, VIRTQ_DESC_F_WRITE, 0);
	if (!vh_run(&c->vh, q, d0))
		return -1;
	assert_int_equal(vh_used_len(&c->vh, q, (uint16_t)(vh_used_idx(&c->vh, q) - 1)), 1);
	assert_int_equal(guest_mem_read(&c->vh.gm, a, &ack, 1), 0);
	return ack;
}

/* --- frames --- */

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)get_be16(p) << 16 | get_be16(p + 2);
}

static size_t build_arp_request(uint8_t *f)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	put_be16(f + 12, 0x0806);
	put_be16(f + 14, 1);	  /* Ethernet */
	put_be16(f + 16, 0x0800); /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	put_be16(f + 20, 1); /* request */
	memcpy(f + 22, guest_mac, 6);
	put_be32(f + 28, GUEST_IP);
	memset(f + 32, 0, 6);
	put_be32(f + 38, HOST_IP);
	return 42;
}

/*
 * Guest -> host UDP frame. partial: the UDP checksum field holds only the
 * pseudo-header sum, for the device (here: the kernel) to complete.
 */
static size_t build_udp(struct ctx *c, uint8_t *f, uint16_t dport, const void *data, size_t len,
			bool partial)
{
	uint8_t *ip = f + ETH_HLEN, *udp = ip + IP_HLEN;
	uint16_t ulen = (uint16_t)(UDP_HLEN + len);
	uint8_t pseudo[12];
	uint32_t s;

	memcpy(f, c->tap_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	put_be16(f + 12, 0x0800);
	memset(ip, 0, IP_HLEN);
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)(IP_HLEN + ulen));
	put_be16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	put_be32(ip + 12, GUEST_IP);
	put_be32(ip + 16, HOST_IP);
	put_be16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, IP_HLEN)));
	put_be16(udp, 40000);
	put_be16(udp + 2, dport);
	put_be16(udp + 4, ulen);
	put_be16(udp + 6, 0);
	memcpy(udp + UDP_HLEN, data, len);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_UDP;
	put_be16(pseudo + 10, ulen);
	s = csum_add(0, pseudo, sizeof(pseudo));
	if (partial) {
		put_be16(udp + 6, csum_fold(s));
	} else {
		uint16_t sum = (uint16_t)~csum_fold(csum_add(s, udp, ulen));

		put_be16(udp + 6, sum ? sum : 0xffff);
	}
	return ETH_HLEN + IP_HLEN + ulen;
}

static bool is_arp_reply_for_guest(const struct ctx *c, const uint8_t *f, size_t len)
{
	return len >= 42 && get_be16(f + 12) == 0x0806 && get_be16(f + 20) == 2 &&
	       !memcmp(f, guest_mac, 6) && !memcmp(f + 22, c->tap_mac, 6) &&
	       get_be32(f + 28) == HOST_IP && !memcmp(f + 32, guest_mac, 6) &&
	       get_be32(f + 38) == GUEST_IP;
}

static bool is_udp_to_guest(const uint8_t *f, size_t len, uint16_t dport)
{
	return len >= ETH_HLEN + IP_HLEN + UDP_HLEN && get_be16(f + 12) == 0x0800 &&
	       f[ETH_HLEN + 9] == IPPROTO_UDP && get_be32(f + ETH_HLEN + 16) == GUEST_IP &&
	       get_be16(f + ETH_HLEN + IP_HLEN + 2) == dport;
}

/* --- tests without a TAP: the parsers --- */

static void test_tx_check(void **state)
{
	uint64_t all = VIRTIO_FEATURE(VIRTIO_NET_F_CSUM) | VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO4) |
		       VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO6) |
		       VIRTIO_FEATURE(VIRTIO_NET_F_HOST_ECN);
	uint8_t h[HDR] = {0};
	const char *why = NULL;

	(void)state;
	assert_int_equal(virtio_net_tx_check(h, 60, 0, &why), VIRTIO_NET_TX_OK);
	assert_int_equal(virtio_net_tx_check(h, 11, all, &why), VIRTIO_NET_TX_BROKEN);
	assert_non_null(why);
	assert_int_equal(virtio_net_tx_check(h, 12, all, &why), VIRTIO_NET_TX_OK);
	assert_int_equal(virtio_net_tx_check(h, VIRTIO_NET_MAX_FRAME, all, &why), VIRTIO_NET_TX_OK);
	assert_int_equal(virtio_net_tx_check(h, VIRTIO_NET_MAX_FRAME + 1, all, &why),
			 VIRTIO_NET_TX_BROKEN);

	/* Checksum offload: only negotiated, only inside the frame. */
	h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h[6] = 34; /* csum_start */
	h[8] = 6;  /* csum_offset */
	assert_int_equal(virtio_net_tx_check(h, HDR + 42, all, &why), VIRTIO_NET_TX_OK);
	assert_int_equal(virtio_net_tx_check(h, HDR + 42, 0, &why), VIRTIO_NET_TX_DROP);
	assert_int_equal(virtio_net_tx_check(h, HDR + 41, all, &why), VIRTIO_NET_TX_DROP);
	h[7] = 0xff; /* csum_start 0xff22: far outside */
	assert_int_equal(virtio_net_tx_check(h, HDR + 1500, all, &why), VIRTIO_NET_TX_DROP);
	h[7] = 0;
	h[0] = VIRTIO_NET_HDR_F_DATA_VALID;
	assert_int_equal(virtio_net_tx_check(h, HDR + 60, all, &why), VIRTIO_NET_TX_DROP);

	/* Segmentation: type offered, NEEDS_CSUM, gso_size, hdr_len inside. */
	h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	h[2] = 54; /* hdr_len */
	h[4] = 0xa8;
	h[5] = 0x05; /* gso_size 1448 */
	assert_int_equal(virtio_net_tx_check(h, HDR + 3000, all, &why), VIRTIO_NET_TX_OK);
	assert_int_equal(
	    virtio_net_tx_check(h, HDR + 3000, all & ~VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO4), &why),
	    VIRTIO_NET_TX_DROP);
	h[1] = VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(virtio_net_tx_check(h, HDR + 3000, all, &why), VIRTIO_NET_TX_OK);
	assert_int_equal(
	    virtio_net_tx_check(h, HDR + 3000, all & ~VIRTIO_FEATURE(VIRTIO_NET_F_HOST_ECN), &why),
	    VIRTIO_NET_TX_DROP);
	h[1] = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(virtio_net_tx_check(h, HDR + 3000, all, &why), VIRTIO_NET_TX_DROP);
	h[1] = VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(virtio_net_tx_check(h, HDR + 3000, all, &why), VIRTIO_NET_TX_DROP);
	h[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	h[4] = h[5] = 0;
	assert_int_equal(virtio_net_tx_check(h, HDR + 3000, all, &why), VIRTIO_NET_TX_DROP);
	h[4] = 0xa8;
	h[5] = 0x05;
	h[0] = 0;
	assert_int_equal(virtio_net_tx_check(h, HDR + 3000, all, &why), VIRTIO_NET_TX_DROP);
	h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h[3] = 0x10; /* hdr_len 4150 > payload */
	assert_int_equal(virtio_net_tx_check(h, HDR + 3000, all, &why), VIRTIO_NET_TX_DROP);
}

static void test_ctrl_parse(void **state)
{
	uint64_t f = VIRTIO_FEATURE(VIRTIO_NET_F_CTRL_RX) | MQ;
	const char *why = NULL;
	unsigned pairs = 0;
	uint8_t promisc[] = {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1};
	uint8_t vq[] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 3, 0};
	/* Two MAC tables: one unicast entry, two multicast entries. */
	uint8_t mac[2 + 4 + 6 + 4 + 12] = {VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, 1};

	(void)state;
	mac[2 + 4 + 6] = 2;
	assert_int_equal(virtio_net_ctrl_parse(promisc, 3, f, 4, &pairs, &why), VIRTIO_NET_OK);
	assert_int_equal(virtio_net_ctrl_parse(promisc, 2, f, 4, &pairs, &why), VIRTIO_NET_ERR);
	assert_int_equal(virtio_net_ctrl_parse(promisc, 3, MQ, 4, &pairs, &why), VIRTIO_NET_ERR);
	promisc[1] = 5; /* NOBCAST: needs CTRL_RX_EXTRA */
	assert_int_equal(virtio_net_ctrl_parse(promisc, 3, f, 4, &pairs, &why), VIRTIO_NET_ERR);
	assert_int_equal(virtio_net_ctrl_parse(promisc, 1, f, 4, &pairs, &why), VIRTIO_NET_ERR);
	assert_int_equal(virtio_net_ctrl_parse(promisc, 0, f, 4, &pairs, &why), VIRTIO_NET_ERR);

	assert_int_equal(virtio_net_ctrl_parse(mac, sizeof(mac), f, 4, &pairs, &why),
			 VIRTIO_NET_OK);
	assert_int_equal(virtio_net_ctrl_parse(mac, sizeof(mac) - 1, f, 4, &pairs, &why),
			 VIRTIO_NET_ERR);
	mac[2 + 4 + 6] = 0xff; /* a count far beyond the data */
	assert_int_equal(virtio_net_ctrl_parse(mac, sizeof(mac), f, 4, &pairs, &why),
			 VIRTIO_NET_ERR);

	assert_int_equal(pairs, 0);
	assert_int_equal(virtio_net_ctrl_parse(vq, 4, f, 4, &pairs, &why), VIRTIO_NET_OK);
	assert_int_equal(pairs, 3);
	pairs = 0;
	assert_int_equal(virtio_net_ctrl_parse(vq, 4, f, 2, &pairs, &why), VIRTIO_NET_ERR);
	vq[2] = 0;
	assert_int_equal(virtio_net_ctrl_parse(vq, 4, f, 4, &pairs, &why), VIRTIO_NET_ERR);
	vq[2] = 1;
	assert_int_equal(virtio_net_ctrl_parse(vq, 3, f, 4, &pairs, &why), VIRTIO_NET_ERR);
	assert_int_equal(
	    virtio_net_ctrl_parse(vq, 4, VIRTIO_FEATURE(VIRTIO_NET_F_CTRL_RX), 4, &pairs, &why),
	    VIRTIO_NET_ERR);
	vq[1] = 1; /* RSS config: not offered */
	assert_int_equal(virtio_net_ctrl_parse(vq, 4, f, 4, &pairs, &why), VIRTIO_NET_ERR);
	assert_int_equal(pairs, 0);
	vq[0] = 9;
	assert_int_equal(virtio_net_ctrl_parse(vq, 4, f, 4, &pairs, &why), VIRTIO_NET_ERR);
	assert_non_null(why);
}

static void test_default_mac(void **state)
{
	uint8_t a[6], b[6], d[6];

	(void)state;
	virtio_net_default_mac("tap0", a);
	virtio_net_default_mac("tap0", b);
	virtio_net_default_mac("tap1", d);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, d, 6);
	assert_int_equal(a[0] & 3, 2); /* locally administered, unicast */
}

static void test_bad_config(void **state)
{
	struct virtio_net *net = calloc(1, sizeof(*net));
	struct virtio_net_conf cfg = {.tap = "x", .num_queue_pairs = 0};
	struct guest_mem gm;
	struct dma_space dma;
	struct virtio_env env = {.dma = &dma, .vm_fd = -1};

	(void)state;
	assert_non_null(net);
	assert_int_equal(guest_mem_init(&gm, 1 << 20, false), 0);
	assert_int_equal(dma_space_identity_init(&dma, &gm), 0);
	assert_int_equal(virtio_net_init(net, &cfg, &env), -EINVAL);
	cfg.num_queue_pairs = VIRTIO_NET_MAX_QUEUE_PAIRS + 1;
	assert_int_equal(virtio_net_init(net, &cfg, &env), -EINVAL);
	cfg.num_queue_pairs = 1;
	cfg.tap[0] = 0;
	assert_int_equal(virtio_net_init(net, &cfg, &env), -EINVAL);
	virtio_net_destroy(net); /* after a failed init: nothing to do, no crash */
	dma_space_destroy(&dma);
	guest_mem_destroy(&gm);
	free(net);
}

/* --- tests with the kernel on the other side of the TAP --- */

static void test_config_space(void **state)
{
	struct ctx *c = *state;
	uint64_t f = vh_device_features(&c->vh);
	uint64_t want =
	    BASE_FEATURES | MRG | VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO4) |
	    VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO6) | VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_ECN) |
	    VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO6) |
	    VIRTIO_FEATURE(VIRTIO_NET_F_HOST_ECN) | VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX);

	assert_int_equal(f & want, want);
	assert_false(f & MQ); /* one pair */
	assert_int_equal(vh_cfg_read(&c->vh, PCI_DEVICE_ID, 2), 0x1041);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(vh_devcfg_read(&c->vh, VIRTIO_NET_CFG_MAC + i, 1), guest_mac[i]);
	assert_int_equal(vh_devcfg_read(&c->vh, VIRTIO_NET_CFG_STATUS, 2), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(vh_devcfg_read(&c->vh, VIRTIO_NET_CFG_MAX_VQ_PAIRS, 2), 1);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_NUMQ, 2), 3);
}

static void test_config_mq(void **state)
{
	struct ctx *c = *state;

	assert_true(vh_device_features(&c->vh) & MQ);
	assert_int_equal(vh_devcfg_read(&c->vh, VIRTIO_NET_CFG_MAX_VQ_PAIRS, 2), 2);
	assert_int_equal(vh_bar_read(&c->vh, VIRTIO_PCI_COMMON_NUMQ, 2), 5);
}

static void test_default_mac_device(void **state)
{
	struct ctx *c;
	uint8_t want[6];

	if (!have_netns)
		skip();
	setup_pairs(state, 1, false);
	c = *state;
	virtio_net_default_mac(TAP_NAME, want);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(vh_devcfg_read(&c->vh, VIRTIO_NET_CFG_MAC + i, 1), want[i]);
	teardown(state);
}

/* An ARP request from the guest; the kernel's reply comes back on rx0. */
static void test_arp(void **state)
{
	struct ctx *c = *state;
	uint8_t hdr[HDR] = {0}, frame[64], *in = malloc(MAX_FRAME);
	unsigned nb;
	size_t n;
	bool found = false;

	assert_non_null(in);
	bring_up(c, BASE_FEATURES | MRG, 3);
	post_rx(c, 0, 16, 2048);
	assert_true(send_frame(c, 1, hdr, frame, build_arp_request(frame)));
	while (!found && (n = recv_frame(c, 0, in, &nb, 3000)))
		found = is_arp_reply_for_guest(c, in + HDR, n - HDR);
	assert_true(found);
	assert_int_equal(nb, 1);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	free(in);
}

/*
 * Guest -> host UDP with checksum offload: with NEEDS_CSUM and only the
 * pseudo-header sum in the UDP checksum field, the datagram arrives intact;
 * the same frame without NEEDS_CSUM has a bad checksum and the kernel drops
 * it. So the device handed the guest's vnet header to the TAP.
 */
static void test_udp_tx_csum_offload(void **state)
{
	struct ctx *c = *state;
	uint8_t hdr[HDR] = {0}, frame[1600], payload[1000], got[1100];
	int s = udp_socket(5555);
	struct timeval tv = {.tv_usec = 300000};
	size_t len;

	bring_up(c, BASE_FEATURES | MRG, 3);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);

	len = build_udp(c, frame, 5555, payload, sizeof(payload), true);
	/* Negative control first: no NEEDS_CSUM, so the partial checksum is wrong. */
	assert_true(send_frame(c, 1, hdr, frame, len));
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(recv(s, got, sizeof(got), 0), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);

	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr[VIRTIO_NET_HDR_CSUM_START] = ETH_HLEN + IP_HLEN;
	hdr[VIRTIO_NET_HDR_CSUM_OFFSET] = 6;
	assert_true(send_frame(c, 1, hdr, frame, len));
	tv.tv_sec = 3;
	tv.tv_usec = 0;
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(recv(s, got, sizeof(got), 0), sizeof(payload));
	assert_memory_equal(got, payload, sizeof(payload));

	/* A fully checksummed datagram without offload arrives too. */
	len = build_udp(c, frame, 5555, payload, 100, false);
	memset(hdr, 0, sizeof(hdr));
	assert_true(send_frame(c, 1, hdr, frame, len));
	assert_int_equal(recv(s, got, sizeof(got), 0), 100);
	assert_memory_equal(got, payload, 100);
	close(s);
}

static uint32_t tap_ethtool(uint32_t cmd)
{
	struct ethtool_value ev = {.cmd = cmd};
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, TAP_NAME);
	ifr.ifr_data = (char *)&ev;
	assert_int_equal(ioctl(s, SIOCETHTOOL, &ifr), 0);
	close(s);
	return ev.data;
}

/* At DRIVER_OK the TAP takes exactly the offloads the driver accepted for received frames. */
static void test_offloads_follow_features(void **state)
{
	struct ctx *c = *state;

	bring_up(c, BASE_FEATURES | VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO4), 3);
	assert_true(tap_ethtool(ETHTOOL_GTXCSUM));
	assert_true(tap_ethtool(ETHTOOL_GTSO));
	bring_up(c, VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_NET_F_MAC), 2);
	assert_false(tap_ethtool(ETHTOOL_GTXCSUM));
	assert_false(tap_ethtool(ETHTOOL_GTSO));
}

/* Host -> guest UDP over 256-byte mergeable buffers: one frame, several buffers. */
static void test_udp_rx_mergeable(void **state)
{
	struct ctx *c = *state;
	uint8_t payload[1000], *in = malloc(MAX_FRAME);
	int s = udp_socket(5556);
	unsigned nb = 0;
	size_t n, want = HDR + ETH_HLEN + IP_HLEN + UDP_HLEN + sizeof(payload);
	bool found = false;

	assert_non_null(in);
	bring_up(c, BASE_FEATURES | MRG, 3);
	post_rx(c, 0, 64, 256);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i ^ 0x5a);
	udp_send_to_guest(s, 6000, payload, sizeof(payload));
	while (!found && (n = recv_frame(c, 0, in, &nb, 3000)))
		found = is_udp_to_guest(in + HDR, n - HDR, 6000);
	assert_true(found);
	assert_int_equal(n, want);
	assert_int_equal(nb, (want + 255) / 256);
	assert_true(nb > 1);
	assert_memory_equal(in + HDR + ETH_HLEN + IP_HLEN + UDP_HLEN, payload, sizeof(payload));
	assert_memory_equal(in + HDR, guest_mac, 6);
	print_message("kernel -> guest: %zu bytes in %u buffers, vnet header flags 0x%x\n", n, nb,
		      in[VIRTIO_NET_HDR_FLAGS]);
	/* GUEST_CSUM negotiated: the kernel may leave the checksum to us, with correct offsets. */
	if (in[VIRTIO_NET_HDR_FLAGS] & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint16_t start, off;

		memcpy(&start, in + VIRTIO_NET_HDR_CSUM_START, 2);
		memcpy(&off, in + VIRTIO_NET_HDR_CSUM_OFFSET, 2);
		assert_int_equal(start, ETH_HLEN + IP_HLEN);
		assert_int_equal(off, 6);
	}
	close(s);
	free(in);
}

/* Without mergeable buffers a frame goes into one buffer, num_buffers 1. */
static void test_udp_rx_single(void **state)
{
	struct ctx *c = *state;
	uint8_t payload[300], *in = malloc(MAX_FRAME);
	int s = udp_socket(5557);
	unsigned nb = 0;
	size_t n;
	bool found = false;

	assert_non_null(in);
	bring_up(c, BASE_FEATURES, 3);
	post_rx(c, 0, 8, 1526);
	memset(payload, 0xab, sizeof(payload));
	udp_send_to_guest(s, 6001, payload, sizeof(payload));
	while (!found && (n = recv_frame(c, 0, in, &nb, 3000)))
		found = is_udp_to_guest(in + HDR, n - HDR, 6001);
	assert_true(found);
	assert_int_equal(nb, 1);
	assert_memory_equal(in + HDR + ETH_HLEN + IP_HLEN + UDP_HLEN, payload, sizeof(payload));
	close(s);
	free(in);
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * No RX buffers: the device stops reading the TAP (no frames lost, no
 * spinning) until the driver adds buffers and kicks rx.
 */
static void test_rx_waits_for_buffers(void **state)
{
	struct ctx *c = *state;
	uint8_t payload[64], *in = malloc(MAX_FRAME);
	int s = udp_socket(5558);
	struct timespec pause = {0, 300000000};
	unsigned nb, got = 0;
	size_t n;
	double cpu;

	assert_non_null(in);
	bring_up(c, BASE_FEATURES | MRG, 3);
	for (uint8_t i = 0; i < 3; i++) {
		memset(payload, i, sizeof(payload));
		udp_send_to_guest(s, 6002, payload, sizeof(payload));
	}
	cpu = cpu_seconds();
	nanosleep(&pause, NULL);
	assert_true(cpu_seconds() - cpu < 0.1); /* the worker sleeps */
	assert_int_equal(vh_used_idx(&c->vh, 0), 0);

	post_rx(c, 0, 32, 2048);
	while (got < 3 && (n = recv_frame(c, 0, in, &nb, 3000))) {
		if (!is_udp_to_guest(in + HDR, n - HDR, 6002))
			continue;
		assert_int_equal(in[HDR + ETH_HLEN + IP_HLEN + UDP_HLEN], got); /* in order */
		got++;
	}
	assert_int_equal(got, 3);
	close(s);
	free(in);
}

/* Two queue pairs: VQ_PAIRS_SET, traffic on the second pair, bad counts refused. */
static void test_multiqueue(void **state)
{
	struct ctx *c = *state;
	const unsigned ctrl = 4;
	uint8_t set2[] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2, 0};
	uint8_t set3[] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 3, 0};
	uint8_t set0[] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 0, 0};
	uint8_t hdr[HDR] = {0}, frame[64], payload[200], *in = malloc(MAX_FRAME);
	int s = udp_socket(5559);
	unsigned nb, found = 0, per_q[2] = {0, 0};

	assert_non_null(in);
	bring_up(c, BASE_FEATURES | MRG | MQ | VIRTIO_FEATURE(VIRTIO_RING_F_EVENT_IDX), 5);
	assert_int_equal(ctrl_cmd(c, ctrl, set3, sizeof(set3)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(c, ctrl, set0, sizeof(set0)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(c, ctrl, set2, 3), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(c, ctrl, set2, sizeof(set2)), VIRTIO_NET_OK);
	assert_int_equal(c->net->cur_pairs, 2);
	post_rx(c, 0, 64, 2048);
	post_rx(c, 2, 64, 2048);

	/* The second pair transmits; the reply comes back on either rx queue. */
	assert_true(send_frame(c, 3, hdr, frame, build_arp_request(frame)));
	for (int tries = 0; tries < 300 && !found; tries++) {
		for (unsigned p = 0; p < 2 && !found; p++) {
			size_t n = recv_frame(c, 2 * p, in, &nb, 10);

			if (n && is_arp_reply_for_guest(c, in + HDR, n - HDR))
				found = 1 + p;
		}
	}
	assert_true(found);

	/* Many flows: the kernel spreads them over both TAP queues. */
	for (unsigned i = 0; i < 32; i++) {
		int t = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons((uint16_t)(7000 + i)),
					.sin_addr.s_addr = htonl(GUEST_IP)};

		assert_true(t >= 0);
		memset(payload, (int)i, sizeof(payload));
		assert_int_equal(
		    sendto(t, payload, sizeof(payload), 0, (struct sockaddr *)&a, sizeof(a)),
		    sizeof(payload));
		close(t);
	}
	for (int tries = 0; tries < 300 && per_q[0] + per_q[1] < 32; tries++) {
		for (unsigned p = 0; p < 2; p++) {
			size_t n = recv_frame(c, 2 * p, in, &nb, 5);

			if (n && get_be16(in + HDR + 12) == 0x0800 &&
			    get_be16(in + HDR + ETH_HLEN + IP_HLEN + 2) >= 7000)
				per_q[p]++;
		}
	}
	assert_int_equal(per_q[0] + per_q[1], 32);
	print_message("flows per rx queue: %u %u\n", per_q[0], per_q[1]);
	assert_true(per_q[1] > 0);

	/* Back to one pair: the second pair's TX still goes out (TAP queue 0). */
	set2[2] = 1;
	assert_int_equal(ctrl_cmd(c, ctrl, set2, sizeof(set2)), VIRTIO_NET_OK);
	assert_int_equal(c->net->cur_pairs, 1);
	{
		uint8_t udp[200], got[64];
		size_t len = build_udp(c, udp, 5559, payload, 20, false);

		assert_true(send_frame(c, 3, hdr, udp, len));
		assert_int_equal(recv(s, got, sizeof(got), 0), 20);
		assert_memory_equal(got, payload, 20);
	}
	close(s);
	free(in);
}

/* Control commands the device refuses, and a control chain it cannot answer. */
static void test_ctrl_hostile(void **state)
{
	struct ctx *c = *state;
	uint8_t bad_class[] = {42, 0, 1};
	uint8_t nobcast[] = {VIRTIO_NET_CTRL_RX, 5, 1};
	uint8_t promisc_long[] = {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1, 1};
	uint8_t allmulti[] = {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, 1};
	uint8_t mq[] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1, 0};
	uint8_t mac_tables[2 + 4 + 4] = {VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET};
	uint16_t d;
	uint64_t b;

	bring_up(c, BASE_FEATURES | MRG, 3);
	assert_int_equal(ctrl_cmd(c, 2, bad_class, sizeof(bad_class)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(c, 2, nobcast, sizeof(nobcast)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(c, 2, promisc_long, sizeof(promisc_long)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(c, 2, mq, sizeof(mq)), VIRTIO_NET_ERR); /* MQ not offered */
	assert_int_equal(ctrl_cmd(c, 2, allmulti, sizeof(allmulti)), VIRTIO_NET_OK);
	assert_int_equal(ctrl_cmd(c, 2, promisc_long, 3), VIRTIO_NET_OK);
	assert_int_equal(ctrl_cmd(c, 2, mac_tables, sizeof(mac_tables)), VIRTIO_NET_OK);
	assert_int_equal(ctrl_cmd(c, 2, mac_tables, sizeof(mac_tables) - 1), VIRTIO_NET_ERR);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);

	/* A command with no ack byte to write: the queue is broken. */
	d = take_desc(c, 2);
	b = vh_alloc(&c->vh, 3);
	assert_int_equal(guest_mem_write(&c->vh.gm, b, allmulti, 3), 0);
	vh_put_desc(&c->vh, 2, d, b, 3, 0, 0);
	assert_false(vh_run(&c->vh, 2, d));
	assert_true(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);

	/* A reset brings it back. */
	bring_up(c, BASE_FEATURES | MRG, 3);
	assert_int_equal(ctrl_cmd(c, 2, allmulti, sizeof(allmulti)), VIRTIO_NET_OK);
}

static bool wait_needs_reset(struct ctx *c)
{
	struct timespec ts = {0, 1000000};

	for (int i = 0; i < 3000; i++) {
		if (vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* TX chains that are not frames: NEEDS_RESET; a header that breaks the rules: dropped. */
static void test_tx_hostile(void **state)
{
	struct ctx *c = *state;
	uint8_t hdr[HDR] = {0}, frame[64];
	uint16_t d, d2;
	uint64_t b;

	/* Shorter than the header. */
	bring_up(c, BASE_FEATURES, 3);
	d = take_desc(c, 1);
	b = vh_alloc(&c->vh, 8);
	vh_put_desc(&c->vh, 1, d, b, 8, 0, 0);
	vh_offer(&c->vh, 1, d);
	vh_kick(&c->vh, 1);
	assert_true(wait_needs_reset(c));

	/* Longer than 65562 bytes. */
	bring_up(c, BASE_FEATURES, 3);
	d = take_desc(c, 1);
	d2 = take_desc(c, 1);
	b = vh_alloc(&c->vh, 70000);
	vh_put_desc(&c->vh, 1, d, b, 40000, VIRTQ_DESC_F_NEXT, d2);
	vh_put_desc(&c->vh, 1, d2, b + 40000, 30000, 0, 0);
	vh_offer(&c->vh, 1, d);
	vh_kick(&c->vh, 1);
	assert_true(wait_needs_reset(c));

	/* A device-writable buffer in a TX chain. */
	bring_up(c, BASE_FEATURES, 3);
	d = take_desc(c, 1);
	d2 = take_desc(c, 1);
	b = vh_alloc(&c->vh, 128);
	vh_put_desc(&c->vh, 1, d, b, 64, VIRTQ_DESC_F_NEXT, d2);
	vh_put_desc(&c->vh, 1, d2, b + 64, 64, VIRTQ_DESC_F_WRITE, 0);
	vh_offer(&c->vh, 1, d);
	vh_kick(&c->vh, 1);
	assert_true(wait_needs_reset(c));

	/* A GSO type never offered: the frame is dropped, the chain completed, the device fine. */
	bring_up(c, BASE_FEATURES, 3);
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr[1] = VIRTIO_NET_HDR_GSO_UDP;
	hdr[4] = 100;
	assert_true(send_frame(c, 1, hdr, frame, build_arp_request(frame)));
	assert_int_equal(vh_used_len(&c->vh, 1, 0), 0);
	assert_false(vh_status(&c->vh) & VIRTIO_STATUS_NEEDS_RESET);
	memset(hdr, 0, sizeof(hdr));
	assert_true(send_frame(c, 1, hdr, frame, build_arp_request(frame)));
}

/* RX chains the device cannot write a frame into: NEEDS_RESET once a frame comes. */
static void test_rx_hostile(void **state)
{
	struct ctx *c = *state;
	uint8_t payload[32] = {0};
	int s = udp_socket(5560);
	uint64_t b;

	/* Read-only. */
	bring_up(c, BASE_FEATURES | MRG, 3);
	b = vh_alloc(&c->vh, 2048);
	vh_put_desc(&c->vh, 0, 0, b, 2048, 0, 0);
	vh_offer(&c->vh, 0, 0);
	vh_kick(&c->vh, 0);
	udp_send_to_guest(s, 6003, payload, sizeof(payload));
	assert_true(wait_needs_reset(c));

	/* Shorter than the header. */
	bring_up(c, BASE_FEATURES | MRG, 3);
	vh_put_desc(&c->vh, 0, 0, b, 8, VIRTQ_DESC_F_WRITE, 0);
	vh_offer(&c->vh, 0, 0);
	vh_kick(&c->vh, 0);
	udp_send_to_guest(s, 6003, payload, sizeof(payload));
	assert_true(wait_needs_reset(c));

	/* After a reset the device receives again. */
	bring_up(c, BASE_FEATURES | MRG, 3);
	post_rx(c, 0, 16, 2048);
	udp_send_to_guest(s, 6003, payload, sizeof(payload));
	assert_true(wait_used(c, 0, 1, 3000));
	close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tx_check),
	    cmocka_unit_test(test_ctrl_parse),
	    cmocka_unit_test(test_default_mac),
	    cmocka_unit_test(test_bad_config),
	    cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_mq, setup_mq, teardown),
	    cmocka_unit_test(test_default_mac_device),
	    cmocka_unit_test_setup_teardown(test_arp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp_tx_csum_offload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_offloads_follow_features, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp_rx_mergeable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp_rx_single, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_waits_for_buffers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_multiqueue, setup_mq, teardown),
	    cmocka_unit_test_setup_teardown(test_ctrl_hostile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_hostile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_hostile, setup, teardown),
	};

	/* A namespace of our own: the TAP and its traffic never reach the host's network. */
	if (unshare(CLONE_NEWNET) == 0) {
		have_netns = true;
		write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
		write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	} else {
		print_message("no network namespace (%s): TAP tests skipped\n", strerror(errno));
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
