/* SPDX-License-Identifier: MIT */
/*
 * Minimal virtio driver test guest (issue 4): finds virtio-blk and
 * virtio-rng (and virtio-net) by PCI enumeration, checks ECAM agrees with
 * 0xCF8/0xCFC, brings them up through the virtio 1.x init sequence with
 * the transport found via its vendor capabilities, and completes every
 * request through its MSI-X interrupt (bounded waits: a missing interrupt
 * fails, it does not hang). Each check prints "VDRV <name> ok" or
 * "VDRV <name> FAIL: why" on COM1; the exit value is the first failed
 * check (0: all passed).
 *
 * Command line (from the integration tests):
 *   vdrv.sectors=N   check virtio-blk (capacity N sectors) and virtio-rng
 *   vdrv.ro=1        the disk is read-only: the write must fail with IOERR
 *   vdrv.net=1       check virtio-net: ARP and ping through the host's TAP
 *   vdrv.mac=MAC     the MAC sluice was given (virtio-net config must match)
 *   vdrv.relink=1    after the ping, wait for the link to go down (the host
 *                    stops the vhost-user backend) and up again, and ping again
 *   vdrv.mq=1        negotiate MQ and CTRL_VQ, set up both queue pairs and the
 *                    control queue; after the ping on pair 0, VQ_PAIRS_SET 2
 *                    (must be acked OK), then ARP and ping through tx1/rx1
 *   vdrv.ctrl=1      negotiate CTRL_VQ without MQ: the control queue is queue 2
 *                    (rx1 with MQ); after the ping, RX_PROMISC on must be acked
 * At least one of vdrv.sectors= and vdrv.net=1 is needed.
 *
 * The net checks speak to the host side of the TAP, NET_PEER_IP, from
 * NET_MY_IP: "who-has" the peer, then an echo request to the MAC it
 * answered with, checksums computed here (no offloads are negotiated).
 *
 * The image holds, in each of sectors 0..READ_SECTORS-1, 32 copies of the
 * 16-byte line "vdrv-sector-NN:\n"; the guest writes 32 copies of
 * "vdrv-written-NN\n" to sector WRITE_SECTOR.
 *
 * State is one static struct: interrupt handlers have no argument to reach
 * it through, and the rings and buffers must sit in memory the device sees.
 */
#include "guest_lib.h"
#include "guest_mmio.h"
#include "vdrv_net.h"
#include "vdrv_pci.h"
#include "vdrv_virtio.h"

#define APIC_BASE	0xfee00000ULL
#define APIC_ID		0x020
#define APIC_TPR	0x080
#define APIC_EOI	0x0b0
#define APIC_SVR	0x0f0
#define APIC_SVR_ENABLE 0x100

#define VEC_BLK	     0x40
#define VEC_RNG	     0x41
#define VEC_NET_RX   0x42
#define VEC_NET_TX   0x43
#define VEC_NET_RX1  0x44
#define VEC_NET_TX1  0x45
#define VEC_NET_CTRL 0x46
#define VEC_SPURIOUS 0xff
#define MSIX_ENTRY_Q 0 /* each device's queue 0 uses its table entry 0 */
#define MSIX_NET_TX  1 /* virtio-net: rx0 on entry 0, tx0 on entry 1 */
#define MSIX_NET_RX1 2 /* with vdrv.mq=1: rx1, tx1 and the control queue */
#define MSIX_NET_TX1 3
#define MSIX_NET_CTL 4

#define IRQ_WAIT_CYCLES 4000000000ULL /* ~1-2 s of TSC: a lost interrupt fails */
#define QUIET_SPINS	2000	      /* a masked vector must stay quiet this long */

#define VIRTIO_BLK_F_RO	   5
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_T_IN	   0
#define VIRTIO_BLK_T_OUT   1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_S_OK	   0
#define VIRTIO_BLK_S_IOERR 1
#define SECTOR		   512
#define LINE		   16
#define READ_SECTORS	   4
#define WRITE_SECTOR	   6
#define RNG_BYTES	   64

#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_CTRL_RX		18
#define VIRTIO_NET_F_MQ			22
#define VIRTIO_NET_CFG_MAX_VQP		8 /* le16 max_virtqueue_pairs */
#define VIRTIO_NET_CTRL_RX		0
#define VIRTIO_NET_CTRL_RX_PROMISC	0
#define VIRTIO_NET_CTRL_MQ		4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_OK			0
#define NET_PAIRS			2 /* pairs the driver uses with vdrv.mq=1 */
#define NET_CTRLQ			(2 * NET_PAIRS)
#define VIRTIO_NET_CFG_STATUS		6  /* le16; bit 0: link up */
#define LINK_WAIT_ROUNDS		30 /* of IRQ_WAIT_CYCLES: the host restarts the backend */
#define LINK_POLL_CYCLES		(IRQ_WAIT_CYCLES / 1000) /* between config reads */
#define VIRTIO_NET_HDR_LEN		12 /* virtio_net_hdr_v1: num_buffers at 10 */
#define NET_RXQ(pair)			(2 * (pair))
#define NET_TXQ(pair)			(2 * (pair) + 1)
#define NET_RX_BUFS			VQ_SIZE
#define NET_RX_BUF_LEN			1536
#define NET_TX_BUF_LEN			(VIRTIO_NET_HDR_LEN + VNET_ECHO_HDRS + VNET_ECHO_PAYLOAD)
#define NET_MY_IP			0x0a000902 /* 10.0.9.2: vdrv_net.sh knows both */
#define NET_PEER_IP			0x0a000901 /* 10.0.9.1, the TAP's address */
#define NET_MAX_SKIPPED			16	   /* unrelated frames tolerated while waiting */
#define NET_ECHO_ID			0x5d72
#define NET_ECHO_SEQ			1

enum {
	CK_CMDLINE = 1,
	CK_PCI_ENUM,
	CK_ECAM,
	CK_BLK_PROBE,
	CK_RNG_PROBE,
	CK_LAPIC,
	CK_BLK_INIT,
	CK_RNG_INIT,
	CK_BLK_CAPACITY,
	CK_BLK_READ,
	CK_BLK_WRITE,
	CK_BLK_READBACK,
	CK_BLK_FLUSH,
	CK_MSIX_MASK,
	CK_RNG_READ,
	CK_MSIX_COUNT,
	CK_NET_PROBE,
	CK_NET_INIT,
	CK_NET_MAC,
	CK_NET_ARP,
	CK_NET_PING,
	CK_NET_LINK_DOWN,
	CK_NET_LINK_UP,
	CK_NET_PING2,
	CK_NET_MQ_PAIRS,
	CK_NET_MQ_ARP,
	CK_NET_MQ_PING,
	CK_NET_CTRL,
};

/* IRQ_NET_RX + 2 * pair and IRQ_NET_TX + 2 * pair: each queue its own vector. */
enum {
	IRQ_BLK,
	IRQ_RNG,
	IRQ_NET_RX,
	IRQ_NET_TX,
	IRQ_NET_RX1,
	IRQ_NET_TX1,
	IRQ_NET_CTRL,
	IRQ_SPURIOUS,
	NR_IRQ
};

/* Sector data is compared 8 bytes at a time (fewer guest instructions). */
typedef uint64_t __attribute__((may_alias)) u64_alias;

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct {
	struct vring blk_ring, rng_ring, net_rx_ring[NET_PAIRS], net_tx_ring[NET_PAIRS],
	    net_ctrl_ring;
	uint8_t net_rx[NET_PAIRS][NET_RX_BUFS][NET_RX_BUF_LEN] __attribute__((aligned(64)));
	uint8_t net_ctrl_cmd[4]; /* class, command, le16 virtqueue_pairs */
	volatile uint8_t net_ctrl_ack;
	uint8_t net_tx[NET_TX_BUF_LEN] __attribute__((aligned(64)));
	uint8_t buf[READ_SECTORS * SECTOR] __attribute__((aligned(64)));
	struct blk_hdr hdr;
	volatile uint8_t status;
	uint8_t rng_buf[RNG_BYTES];

	volatile unsigned irqs[NR_IRQ];
	unsigned requests[NR_IRQ]; /* completions expected on each vector */
	struct vdrv_dev blk, rng, net;
	struct vdrv_vq blk_q, rng_q, net_rxq[NET_PAIRS], net_txq[NET_PAIRS], net_ctrlq;
	unsigned blk_slot, rng_slot, net_slot;
	uint64_t sectors;
	bool ro, net_on, relink, mq, ctrl;
	uint8_t mac[VNET_ETH_ALEN], peer_mac[VNET_ETH_ALEN];
	unsigned net_frames, net_skipped; /* received; of them not the awaited kind */
	unsigned passed, failed, first_failed;
} g;

static bool check(unsigned id, const char *name, const char *err)
{
	if (!err) {
		con_printf("VDRV %s ok\n", name);
		g.passed++;
		return true;
	}
	con_printf("VDRV %s FAIL: %s\n", name, err);
	g.failed++;
	if (!g.first_failed)
		g.first_failed = id;
	return false;
}

void exc_handler(struct exc_frame *f)
{
	con_printf("VDRV FAIL: unexpected exception %u error 0x%lx at rip 0x%lx\n",
		   (unsigned)f->vector, f->error, f->rip);
	guest_exit(EXIT_BAD_EXCEPTION);
}

static void apic_write(unsigned reg, uint32_t v)
{
	mmio_write32(APIC_BASE + reg, v);
}

__attribute__((interrupt)) static void isr_blk(struct irq_frame *f)
{
	(void)f;
	g.irqs[IRQ_BLK]++;
	apic_write(APIC_EOI, 0);
}

__attribute__((interrupt)) static void isr_rng(struct irq_frame *f)
{
	(void)f;
	g.irqs[IRQ_RNG]++;
	apic_write(APIC_EOI, 0);
}

__attribute__((interrupt)) static void isr_net_rx(struct irq_frame *f)
{
	(void)f;
	g.irqs[IRQ_NET_RX]++;
	apic_write(APIC_EOI, 0);
}

__attribute__((interrupt)) static void isr_net_tx(struct irq_frame *f)
{
	(void)f;
	g.irqs[IRQ_NET_TX]++;
	apic_write(APIC_EOI, 0);
}

__attribute__((interrupt)) static void isr_net_rx1(struct irq_frame *f)
{
	(void)f;
	g.irqs[IRQ_NET_RX1]++;
	apic_write(APIC_EOI, 0);
}

__attribute__((interrupt)) static void isr_net_tx1(struct irq_frame *f)
{
	(void)f;
	g.irqs[IRQ_NET_TX1]++;
	apic_write(APIC_EOI, 0);
}

__attribute__((interrupt)) static void isr_net_ctrl(struct irq_frame *f)
{
	(void)f;
	g.irqs[IRQ_NET_CTRL]++;
	apic_write(APIC_EOI, 0);
}

/* Spurious-interrupt vector: no EOI (SDM 10.9). */
__attribute__((interrupt)) static void isr_spurious(struct irq_frame *f)
{
	(void)f;
	g.irqs[IRQ_SPURIOUS]++;
}

/* Six hex octets separated by colons. */
static bool parse_mac(const char **p, uint8_t mac[VNET_ETH_ALEN])
{
	for (unsigned i = 0; i < VNET_ETH_ALEN; i++) {
		uint64_t v;

		if (i && *(*p)++ != ':')
			return false;
		if (!parse_hex(p, &v) || v > 0xff)
			return false;
		mac[i] = (uint8_t)v;
	}
	return true;
}

static const char *parse_cmdline(const uint8_t *bp)
{
	bool mac_set = false;
	const char *p;

	if (!guest_cmdline(bp, &p))
		return "command line above 4 GiB";
	if (!p)
		return "no command line";
	con_printf("cmdline: %s\n", p);
	while (*p) {
		uint64_t v;

		while (*p == ' ')
			p++;
		if (starts_with(p, "vdrv.sectors=")) {
			p += 13;
			if (!parse_dec(&p, &g.sectors))
				return "bad vdrv.sectors=";
		} else if (starts_with(p, "vdrv.ro=")) {
			p += 8;
			if (!parse_dec(&p, &v) || v > 1)
				return "bad vdrv.ro=";
			g.ro = v;
		} else if (starts_with(p, "vdrv.net=")) {
			p += 9;
			if (!parse_dec(&p, &v) || v > 1)
				return "bad vdrv.net=";
			g.net_on = v;
		} else if (starts_with(p, "vdrv.relink=")) {
			p += 12;
			if (!parse_dec(&p, &v) || v > 1)
				return "bad vdrv.relink=";
			g.relink = v;
		} else if (starts_with(p, "vdrv.mq=")) {
			p += 8;
			if (!parse_dec(&p, &v) || v > 1)
				return "bad vdrv.mq=";
			g.mq = v;
		} else if (starts_with(p, "vdrv.ctrl=")) {
			p += 10;
			if (!parse_dec(&p, &v) || v > 1)
				return "bad vdrv.ctrl=";
			g.ctrl = v;
		} else if (starts_with(p, "vdrv.mac=")) {
			p += 9;
			if (!parse_mac(&p, g.mac))
				return "bad vdrv.mac=";
			mac_set = true;
		}
		while (*p && *p != ' ')
			p++;
	}
	if (!g.sectors && !g.net_on)
		return "neither vdrv.sectors= nor vdrv.net=1";
	if ((g.mq || g.ctrl) && !g.net_on)
		return "vdrv.mq=1 or vdrv.ctrl=1 without vdrv.net=1";
	if (g.mq && g.ctrl)
		return "vdrv.mq=1 and vdrv.ctrl=1 together";
	return g.net_on && !mac_set ? "vdrv.net=1 without vdrv.mac=" : NULL;
}

/* Bus 0 through 0xCF8/0xCFC: the host bridge at slot 0, the devices by their IDs. */
static const char *pci_enumerate(void)
{
	unsigned found = 0;

	g.blk_slot = g.rng_slot = g.net_slot = ~0u;
	for (unsigned slot = 0; slot < 32; slot++) {
		uint32_t id = pci_cf8_read32(slot, PCI_VENDOR_ID);

		if ((id & 0xffff) == 0xffff)
			continue;
		found++;
		con_printf("  00:%x.0 %x:%x class %x\n", slot, id & 0xffff, id >> 16,
			   pci_cf8_read32(slot, 8) >> 8);
		if ((id & 0xffff) != VIRTIO_VENDOR)
			continue;
		if (id >> 16 == VIRTIO_DEV_BLK && g.blk_slot == ~0u)
			g.blk_slot = slot;
		else if (id >> 16 == VIRTIO_DEV_RNG && g.rng_slot == ~0u)
			g.rng_slot = slot;
		else if (id >> 16 == VIRTIO_DEV_NET && g.net_slot == ~0u)
			g.net_slot = slot;
	}
	con_printf("  %u functions on bus 0\n", found);
	if ((pci_cf8_read32(0, PCI_VENDOR_ID) & 0xffff) == 0xffff)
		return "no host bridge at 00:00.0";
	if (g.sectors && g.blk_slot == ~0u)
		return "no virtio-blk (1af4:1042)";
	if (g.sectors && g.rng_slot == ~0u)
		return "no virtio-rng (1af4:1044)";
	if (g.net_on && g.net_slot == ~0u)
		return "no virtio-net (1af4:1041)";
	return NULL;
}

static const char *ecam_agrees(void)
{
	/* The host bridge, an empty slot and the devices found (~0u: not there, skipped). */
	const unsigned slots[] = {0, 31, g.blk_slot, g.rng_slot, g.net_slot};
	unsigned dev = g.sectors ? g.blk_slot : g.net_slot;

	if (!guest_map_uc(PCI_ECAM_BASE, PCI_ECAM_SIZE))
		return "cannot map ECAM";
	for (unsigned i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		uint32_t a, b;

		if (slots[i] == ~0u)
			continue;
		a = pci_cf8_read32(slots[i], PCI_VENDOR_ID);
		b = pci_ecam_read32(slots[i], PCI_VENDOR_ID);
		if (a != b) {
			con_printf("  slot %u: CF8 0x%x, ECAM 0x%x\n", slots[i], a, b);
			return "ECAM and 0xCF8/0xCFC disagree on vendor/device IDs";
		}
	}
	/* A register past the ID, so ECAM offsets are not all folded onto 0. */
	if (pci_ecam_read32(dev, PCI_BAR0) != pci_cf8_read32(dev, PCI_BAR0))
		return "ECAM and 0xCF8/0xCFC disagree on BAR0";
	return NULL;
}

static const char *lapic_init(uint8_t *apic_id)
{
	if (!guest_map_uc(APIC_BASE, 0x1000))
		return "cannot map the LAPIC";
	idt_set_gate(VEC_BLK, (const void *)isr_blk);
	idt_set_gate(VEC_RNG, (const void *)isr_rng);
	idt_set_gate(VEC_NET_RX, (const void *)isr_net_rx);
	idt_set_gate(VEC_NET_TX, (const void *)isr_net_tx);
	idt_set_gate(VEC_NET_RX1, (const void *)isr_net_rx1);
	idt_set_gate(VEC_NET_TX1, (const void *)isr_net_tx1);
	idt_set_gate(VEC_NET_CTRL, (const void *)isr_net_ctrl);
	idt_set_gate(VEC_SPURIOUS, (const void *)isr_spurious);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | VEC_SPURIOUS);
	if (!(mmio_read32(APIC_BASE + APIC_SVR) & APIC_SVR_ENABLE))
		return "LAPIC did not enable";
	*apic_id = (uint8_t)(mmio_read32(APIC_BASE + APIC_ID) >> 24);
	__asm__ volatile("sti" ::: "memory");
	return NULL;
}

static const char *dev_init(struct vdrv_dev *d, struct vdrv_vq *q, struct vring *ring,
			    uint64_t want, uint8_t apic_id, uint8_t vector)
{
	const char *err;

	if ((err = vdrv_init(d, want)))
		return err;
	vdrv_msix_enable(d);
	vdrv_msix_program(d, MSIX_ENTRY_Q, apic_id, vector);
	vdrv_msix_mask(d, MSIX_ENTRY_Q, false);
	if ((err = vdrv_queue_setup(d, q, 0, ring, MSIX_ENTRY_Q)))
		return err;
	return vdrv_driver_ok(d);
}

static bool irq_wait(unsigned irq, unsigned before)
{
	uint64_t t0 = rdtsc();

	while (g.irqs[irq] == before)
		if (rdtsc() - t0 > IRQ_WAIT_CYCLES)
			return false;
		else
			cpu_relax();
	return true;
}

/* Take the one outstanding element: its head must be descriptor 0. */
static const char *take_used(struct vdrv_vq *q, uint32_t *len)
{
	uint32_t id;

	if (!vq_take_used(q, &id, len))
		return "interrupt arrived but the used ring is empty";
	if (id != 0)
		return "used element names the wrong head";
	return NULL;
}

/* Publish the chain and wait for its completion interrupt, then for the used element. */
static const char *request(struct vdrv_vq *q, unsigned irq, uint32_t *len)
{
	unsigned before = g.irqs[irq];

	g.requests[irq]++;
	vq_kick(q);
	if (!irq_wait(irq, before))
		return vq_has_used(q) ? "request completed but no MSI-X interrupt arrived"
				      : "no completion and no interrupt before the timeout";
	return take_used(q, len);
}

static void blk_chain(uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	g.hdr = (struct blk_hdr){.type = type, .sector = sector};
	g.status = 0xff;
	vq_set_desc(&g.blk_q, 0, &g.hdr, sizeof(g.hdr), false, false);
	if (len)
		vq_set_desc(&g.blk_q, 1, buf, len, type == VIRTIO_BLK_T_IN, false);
	vq_set_desc(&g.blk_q, len ? 2 : 1, (const void *)&g.status, 1, true, true);
}

/* One block request; *status is the device's status byte. */
static const char *blk_request(uint32_t type, uint64_t sector, void *buf, uint32_t len,
			       uint8_t *status)
{
	const char *err;
	uint32_t used_len;

	blk_chain(type, sector, buf, len);
	if ((err = request(&g.blk_q, IRQ_BLK, &used_len)))
		return err;
	*status = g.status;
	if (*status == VIRTIO_BLK_S_OK && used_len != (type == VIRTIO_BLK_T_IN ? len : 0) + 1)
		return "used length is not data + status byte";
	return NULL;
}

static void line_for(char line[LINE], const char *prefix, unsigned sector)
{
	unsigned i = 0;

	while (*prefix)
		line[i++] = *prefix++;
	line[i++] = (char)('0' + sector / 10 % 10);
	line[i++] = (char)('0' + sector % 10);
	while (i < LINE - 1)
		line[i++] = ':';
	line[LINE - 1] = '\n';
}

/* Does sector hold 32 copies of line? */
static bool sector_is(const uint8_t *s, const char line[LINE])
{
	const u64_alias *w = (const u64_alias *)s, *l = (const u64_alias *)line;

	for (unsigned i = 0; i < SECTOR / 8; i += 2)
		if (w[i] != l[0] || w[i + 1] != l[1])
			return false;
	return true;
}

static void sector_fill(uint8_t *s, const char line[LINE])
{
	u64_alias *w = (u64_alias *)s;
	const u64_alias *l = (const u64_alias *)line;

	for (unsigned i = 0; i < SECTOR / 8; i += 2) {
		w[i] = l[0];
		w[i + 1] = l[1];
	}
}

static void test_blk_capacity(void)
{
	uint64_t cap = vdrv_config_read64(&g.blk, 0);

	con_printf("  capacity %lu sectors, expected %lu; features 0x%lx\n", cap, g.sectors,
		   g.blk.features);
	check(CK_BLK_CAPACITY, "blk-config",
	      cap != g.sectors					     ? "wrong capacity"
	      : !(g.blk.features & 1ULL << VIRTIO_BLK_F_RO) != !g.ro ? "VIRTIO_BLK_F_RO is wrong"
								     : NULL);
}

static bool test_blk_read(void)
{
	char line[LINE] __attribute__((aligned(8)));
	const char *err;
	uint8_t st;

	memset(g.buf, 0, sizeof(g.buf));
	err = blk_request(VIRTIO_BLK_T_IN, 0, g.buf, sizeof(g.buf), &st);
	if (!err && st != VIRTIO_BLK_S_OK)
		err = "read status not OK";
	for (unsigned s = 0; !err && s < READ_SECTORS; s++) {
		line_for(line, "vdrv-sector-", s);
		if (!sector_is(g.buf + s * SECTOR, line)) {
			con_printf("  sector %u starts %lx, expected %lx\n", s,
				   *(const u64_alias *)(g.buf + s * SECTOR),
				   *(const u64_alias *)line);
			err = "data differs from the image's pattern";
		}
	}
	return check(CK_BLK_READ, "blk-read", err);
}

static bool test_blk_write(void)
{
	char line[LINE] __attribute__((aligned(8)));
	const char *err;
	uint8_t st;

	line_for(line, "vdrv-written-", WRITE_SECTOR);
	sector_fill(g.buf, line);
	err = blk_request(VIRTIO_BLK_T_OUT, WRITE_SECTOR, g.buf, SECTOR, &st);
	if (err)
		return check(CK_BLK_WRITE, "blk-write", err);
	con_printf("  write of sector %u: status %u\n", WRITE_SECTOR, st);
	if (g.ro) {
		if (st == VIRTIO_BLK_S_IOERR)
			con_printf("VDRV blk-write-ro ioerr\n");
		return check(CK_BLK_WRITE, "blk-write-ro",
			     st == VIRTIO_BLK_S_IOERR ? NULL
						      : "write to a read-only disk did not IOERR");
	}
	if (!check(CK_BLK_WRITE, "blk-write", st == VIRTIO_BLK_S_OK ? NULL : "status not OK"))
		return false;

	memset(g.buf, 0, SECTOR);
	err = blk_request(VIRTIO_BLK_T_IN, WRITE_SECTOR, g.buf, SECTOR, &st);
	if (!err && (st != VIRTIO_BLK_S_OK || !sector_is(g.buf, line)))
		err = "the written sector does not read back";
	if (!check(CK_BLK_READBACK, "blk-readback", err))
		return false;

	err = NULL;
	if (!(g.blk.features & (1ULL << VIRTIO_BLK_F_FLUSH)))
		err = "device does not offer VIRTIO_BLK_F_FLUSH";
	else if (!(err = blk_request(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &st)) && st != VIRTIO_BLK_S_OK)
		err = "flush status not OK";
	return check(CK_BLK_FLUSH, "blk-flush", err);
}

/*
 * A masked vector latches its pending bit instead of interrupting; the
 * interrupt arrives when it is unmasked and the bit clears.
 */
static void test_msix_mask(void)
{
	unsigned before = g.irqs[IRQ_BLK], i;
	const char *err = NULL;
	uint64_t t0;
	uint32_t len;

	vdrv_msix_mask(&g.blk, MSIX_ENTRY_Q, true);
	blk_chain(VIRTIO_BLK_T_IN, 0, g.buf, SECTOR);
	g.requests[IRQ_BLK]++;
	vq_kick(&g.blk_q);
	for (t0 = rdtsc(); !vq_has_used(&g.blk_q) || !vdrv_msix_pending(&g.blk, MSIX_ENTRY_Q);)
		if (rdtsc() - t0 > IRQ_WAIT_CYCLES)
			break;
	for (i = 0; i < QUIET_SPINS; i++)
		cpu_relax();
	if (!vq_has_used(&g.blk_q))
		err = "request did not complete while its vector was masked";
	else if (g.irqs[IRQ_BLK] != before)
		err = "interrupt delivered through a masked vector";
	else if (!vdrv_msix_pending(&g.blk, MSIX_ENTRY_Q))
		err = "PBA bit not set for the masked vector";
	vdrv_msix_mask(&g.blk, MSIX_ENTRY_Q, false);
	if (!err && !irq_wait(IRQ_BLK, before))
		err = "no interrupt after unmasking a pending vector";
	if (!err && vdrv_msix_pending(&g.blk, MSIX_ENTRY_Q))
		err = "PBA bit still set after delivery";
	if (!err)
		err = take_used(&g.blk_q, &len);
	if (!err && g.status != VIRTIO_BLK_S_OK)
		err = "read status not OK";
	check(CK_MSIX_MASK, "msix-mask", err);
}

static void test_rng(void)
{
	unsigned got = 0, distinct = 0;
	const char *err = NULL;

	memset(g.rng_buf, 0, sizeof(g.rng_buf));
	/* A device may return fewer bytes than asked for: ask again for the rest. */
	for (unsigned n = 0; !err && got < RNG_BYTES && n < 8; n++) {
		uint32_t len;

		vq_set_desc(&g.rng_q, 0, g.rng_buf + got, RNG_BYTES - got, true, true);
		if (!(err = request(&g.rng_q, IRQ_RNG, &len)) && len > RNG_BYTES - got)
			err = "device claims more bytes than the buffer holds";
		got += err ? 0 : len;
	}
	if (!err && got < RNG_BYTES)
		err = "fewer than 64 bytes after 8 requests";
	for (unsigned i = 1; !err && i < RNG_BYTES; i++)
		distinct += g.rng_buf[i] != g.rng_buf[0];
	con_printf("  %u bytes: %x %x %x %x ...\n", got, g.rng_buf[0], g.rng_buf[1], g.rng_buf[2],
		   g.rng_buf[3]);
	if (!err && !distinct)
		err = "all bytes equal";
	check(CK_RNG_READ, "rng-read", err);
}

/* Every receive buffer of a pair at once, one descriptor each (mergeable rx buffers). */
static void net_post_rx(unsigned pair)
{
	for (unsigned i = 0; i < NET_RX_BUFS; i++) {
		vq_set_desc(&g.net_rxq[pair], i, g.net_rx[pair][i], NET_RX_BUF_LEN, true, true);
		vq_post(&g.net_rxq[pair], (uint16_t)i);
	}
	vq_notify(&g.net_rxq[pair]);
}

static const char *net_init(uint8_t apic_id)
{
	const uint64_t want =
	    1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_MRG_RXBUF |
	    (g.relink ? 1ULL << VIRTIO_NET_F_STATUS : 0) |
	    (g.mq ? 1ULL << VIRTIO_NET_F_MQ | 1ULL << VIRTIO_NET_F_CTRL_VQ : 0) |
	    (g.ctrl ? 1ULL << VIRTIO_NET_F_CTRL_VQ | 1ULL << VIRTIO_NET_F_CTRL_RX : 0);
	const unsigned pairs = g.mq ? NET_PAIRS : 1;
	const char *err;

	if ((err = vdrv_init(&g.net, want)))
		return err;
	if ((g.net.features & want) != want)
		return "device does not offer VIRTIO_NET_F_MAC and VIRTIO_NET_F_MRG_RXBUF (and "
		       "STATUS, MQ, CTRL_VQ, CTRL_RX)";
	if ((g.mq || g.ctrl) && g.net.msix_nr <= MSIX_NET_CTL)
		return "too few MSI-X entries for the queues and the control queue";
	if (g.mq) {
		unsigned max = vdrv_config_read32(&g.net, VIRTIO_NET_CFG_MAX_VQP) & 0xffff;

		con_printf("  max_virtqueue_pairs %u, MSI-X entries %u\n", max, g.net.msix_nr);
		if (max < NET_PAIRS)
			return "max_virtqueue_pairs is below 2";
	}
	vdrv_msix_enable(&g.net);
	vdrv_msix_program(&g.net, MSIX_ENTRY_Q, apic_id, VEC_NET_RX);
	vdrv_msix_program(&g.net, MSIX_NET_TX, apic_id, VEC_NET_TX);
	vdrv_msix_mask(&g.net, MSIX_ENTRY_Q, false);
	vdrv_msix_mask(&g.net, MSIX_NET_TX, false);
	if (g.mq || g.ctrl) {
		vdrv_msix_program(&g.net, MSIX_NET_RX1, apic_id, VEC_NET_RX1);
		vdrv_msix_program(&g.net, MSIX_NET_TX1, apic_id, VEC_NET_TX1);
		vdrv_msix_program(&g.net, MSIX_NET_CTL, apic_id, VEC_NET_CTRL);
		for (unsigned e = MSIX_NET_RX1; e <= MSIX_NET_CTL; e++)
			vdrv_msix_mask(&g.net, e, false);
	}
	for (unsigned p = 0; p < pairs; p++)
		if ((err = vdrv_queue_setup(&g.net, &g.net_rxq[p], NET_RXQ(p), &g.net_rx_ring[p],
					    p ? MSIX_NET_RX1 : MSIX_ENTRY_Q)) ||
		    (err = vdrv_queue_setup(&g.net, &g.net_txq[p], NET_TXQ(p), &g.net_tx_ring[p],
					    p ? MSIX_NET_TX1 : MSIX_NET_TX)))
			return err;
	/* Without MQ the control queue follows pair 0: queue 2, which is rx1 with MQ. */
	if ((g.mq || g.ctrl) && (err = vdrv_queue_setup(&g.net, &g.net_ctrlq, g.mq ? NET_CTRLQ : 2,
							&g.net_ctrl_ring, MSIX_NET_CTL)))
		return err;
	if ((err = vdrv_driver_ok(&g.net)))
		return err;
	for (unsigned p = 0; p < pairs; p++)
		net_post_rx(p);
	return NULL;
}

static void print_mac(const char *label, const uint8_t mac[VNET_ETH_ALEN])
{
	con_printf("%s", label);
	for (unsigned i = 0; i < VNET_ETH_ALEN; i++)
		con_printf("%s%x%x", i ? ":" : "", mac[i] >> 4, mac[i] & 15u);
	con_printf("\n");
}

static void test_net_mac(void)
{
	uint64_t cfg = vdrv_config_read64(&g.net, 0);
	uint8_t mac[VNET_ETH_ALEN];

	for (unsigned i = 0; i < VNET_ETH_ALEN; i++)
		mac[i] = (uint8_t)(cfg >> 8 * i);
	print_mac("  config MAC ", mac);
	check(CK_NET_MAC, "net-mac",
	      bytes_equal(mac, g.mac, VNET_ETH_ALEN) ? NULL : "differs from vdrv.mac=");
}

/* One frame, already at g.net_tx + header, behind a header of zeros (no offloads). */
static const char *net_send(unsigned pair, unsigned frame_len)
{
	uint32_t len;

	memset(g.net_tx, 0, VIRTIO_NET_HDR_LEN);
	vq_set_desc(&g.net_txq[pair], 0, g.net_tx, VIRTIO_NET_HDR_LEN + frame_len, false, true);
	return request(&g.net_txq[pair], IRQ_NET_TX + 2 * pair, &len);
}

enum net_wait { NET_WAIT_ARP, NET_WAIT_ECHO };

/*
 * A received buffer: its virtio_net_hdr, then the frame if it is the kind
 * awaited (*ours). A bad header is always ours: it fails the check.
 */
static const char *net_frame_check(enum net_wait what, const struct vnet_echo *echo,
				   const uint8_t *buf, uint32_t len, bool *ours)
{
	const uint8_t *f = buf + VIRTIO_NET_HDR_LEN;

	*ours = true;
	if (len < VIRTIO_NET_HDR_LEN || len > NET_RX_BUF_LEN)
		return "used length outside the receive buffer";
	/* Every frame up to the MTU fits one buffer: one buffer, no offloads to report. */
	if ((buf[10] | buf[11] << 8) != 1)
		return "num_buffers is not 1 for a frame that fits one buffer";
	if (buf[0] || buf[1])
		return "header flags or GSO type set without negotiated offloads";
	len -= VIRTIO_NET_HDR_LEN;
	if (what == NET_WAIT_ARP)
		return vnet_arp_reply_check(f, len, g.mac, NET_MY_IP, NET_PEER_IP, g.peer_mac,
					    ours);
	return vnet_echo_reply_check(f, len, g.mac, g.peer_mac, NET_MY_IP, NET_PEER_IP, echo, ours);
}

/*
 * Wait for the awaited frame, taking used buffers only after an RX
 * interrupt (seen: the count before the request went out) and posting each
 * back once checked; other traffic is skipped, up to NET_MAX_SKIPPED frames.
 */
static const char *net_receive(unsigned pair, enum net_wait what, const struct vnet_echo *echo,
			       unsigned seen)
{
	struct vdrv_vq *rxq = &g.net_rxq[pair];
	const unsigned irq = IRQ_NET_RX + 2 * pair;
	uint64_t t0 = rdtsc();

	for (;;) {
		const char *err;
		uint32_t id, len;
		bool ours;

		if (g.irqs[irq] == seen) {
			if (rdtsc() - t0 > IRQ_WAIT_CYCLES)
				return vq_has_used(rxq)
					   ? "frame received but no MSI-X interrupt arrived"
					   : "no reply before the timeout";
			cpu_relax();
			continue;
		}
		seen = g.irqs[irq];
		while (vq_take_used(rxq, &id, &len)) {
			if (id >= NET_RX_BUFS)
				return "used element names a descriptor never posted";
			g.net_frames++;
			err = net_frame_check(what, echo, g.net_rx[pair][id], len, &ours);
			vq_post(rxq, (uint16_t)id);
			vq_notify(rxq);
			if (ours)
				return err;
			con_printf("  rx: skipped a %u-byte frame: %s\n", len, err);
			if (++g.net_skipped > NET_MAX_SKIPPED)
				return "too many unrelated frames";
		}
	}
}

static bool test_net_arp(unsigned id, const char *name, unsigned pair)
{
	unsigned seen = g.irqs[IRQ_NET_RX + 2 * pair];
	const char *err;

	err = net_send(
	    pair, vnet_arp_request(g.net_tx + VIRTIO_NET_HDR_LEN, g.mac, NET_MY_IP, NET_PEER_IP));
	if (!err)
		err = net_receive(pair, NET_WAIT_ARP, NULL, seen);
	if (!err)
		print_mac("  10.0.9.1 is at ", g.peer_mac);
	return check(id, name, err);
}

static bool test_net_ping(unsigned id, const char *name, unsigned pair, uint16_t seq)
{
	struct vnet_echo e = {.id = NET_ECHO_ID, .seq = seq};
	unsigned seen = g.irqs[IRQ_NET_RX + 2 * pair];
	const char *err;

	for (unsigned i = 0; i < VNET_ECHO_PAYLOAD; i++)
		e.payload[i] = (uint8_t)('a' + i % 26);
	err = net_send(pair, vnet_echo_request(g.net_tx + VIRTIO_NET_HDR_LEN, g.mac, g.peer_mac,
					       NET_MY_IP, NET_PEER_IP, &e));
	if (!err)
		err = net_receive(pair, NET_WAIT_ECHO, &e, seen);
	return check(id, name, err);
}

/* One command (class, command, data_len bytes at g.net_ctrl_cmd + 2): acked OK? */
static const char *net_ctrl(uint8_t class, uint8_t cmd, unsigned data_len)
{
	const char *err;
	uint32_t len;

	g.net_ctrl_cmd[0] = class;
	g.net_ctrl_cmd[1] = cmd;
	g.net_ctrl_ack = 0xff;
	vq_set_desc(&g.net_ctrlq, 0, g.net_ctrl_cmd, 2, false, false);
	vq_set_desc(&g.net_ctrlq, 1, g.net_ctrl_cmd + 2, data_len, false, false);
	vq_set_desc(&g.net_ctrlq, 2, (const void *)&g.net_ctrl_ack, 1, true, true);
	if ((err = request(&g.net_ctrlq, IRQ_NET_CTRL, &len)))
		return err;
	if (len != 1)
		return "used length of the control command is not the ack byte";
	return g.net_ctrl_ack == VIRTIO_NET_OK ? NULL : "command not acked VIRTIO_NET_OK";
}

static const char *net_set_pairs(unsigned pairs)
{
	g.net_ctrl_cmd[2] = (uint8_t)pairs;
	g.net_ctrl_cmd[3] = (uint8_t)(pairs >> 8);
	return net_ctrl(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2);
}

/*
 * Two queue pairs: enable pair 1, then the ARP and the ping go out on tx1
 * and their replies must come back on rx1, none on rx0.
 */
static void test_net_mq(void)
{
	unsigned rx0 = g.irqs[IRQ_NET_RX];

	if (!check(CK_NET_MQ_PAIRS, "net-mq-pairs", net_set_pairs(NET_PAIRS)) ||
	    !test_net_arp(CK_NET_MQ_ARP, "net-mq-arp", 1) ||
	    !test_net_ping(CK_NET_MQ_PING, "net-mq-ping", 1, NET_ECHO_SEQ + 2))
		return;
	con_printf("  queue pair 1: tx1 %u interrupts, rx1 %u; rx0 %u meanwhile\n",
		   g.irqs[IRQ_NET_TX1], g.irqs[IRQ_NET_RX1], g.irqs[IRQ_NET_RX] - rx0);
	if (g.irqs[IRQ_NET_RX] != rx0)
		check(CK_NET_MQ_PING, "net-mq-rx0-quiet",
		      "a frame arrived on rx0 while pair 1 was used");
}

static bool net_link_up(void)
{
	return vdrv_config_read32(&g.net, VIRTIO_NET_CFG_STATUS - 2) >> 16 & 1;
}

/* The host stops and restarts the backend meanwhile; a config read now and then. */
static const char *net_wait_link(bool up)
{
	for (unsigned r = 0; r < LINK_WAIT_ROUNDS; r++) {
		for (uint64_t t0 = rdtsc(); rdtsc() - t0 < IRQ_WAIT_CYCLES;) {
			if (net_link_up() == up)
				return NULL;
			for (uint64_t t1 = rdtsc(); rdtsc() - t1 < LINK_POLL_CYCLES;)
				cpu_relax();
		}
	}
	return up ? "the link did not come back up" : "the link did not go down";
}

/* Backend restart: link down, link up, and the data path works again. */
static void test_net_relink(void)
{
	if (!check(CK_NET_LINK_DOWN, "net-link-down", net_wait_link(false)) ||
	    !check(CK_NET_LINK_UP, "net-link-up", net_wait_link(true)))
		return;
	test_net_ping(CK_NET_PING2, "net-ping-again", 0, NET_ECHO_SEQ + 1);
}

static void test_irq_counts(void)
{
	const char *err = NULL;

	con_printf("  interrupts: blk %u of %u, rng %u of %u, net tx %u of %u, net rx %u for %u "
		   "frames (%u skipped), spurious %u\n",
		   g.irqs[IRQ_BLK], g.requests[IRQ_BLK], g.irqs[IRQ_RNG], g.requests[IRQ_RNG],
		   g.irqs[IRQ_NET_TX], g.requests[IRQ_NET_TX], g.irqs[IRQ_NET_RX], g.net_frames,
		   g.net_skipped, g.irqs[IRQ_SPURIOUS]);
	if (g.sectors &&
	    (g.irqs[IRQ_BLK] != g.requests[IRQ_BLK] || g.irqs[IRQ_RNG] != g.requests[IRQ_RNG] ||
	     !g.irqs[IRQ_BLK] || !g.irqs[IRQ_RNG]))
		err = "one interrupt per completion on its own vector expected";
	else if (g.net_on && (g.irqs[IRQ_NET_TX] != g.requests[IRQ_NET_TX] || !g.irqs[IRQ_NET_TX] ||
			      !g.irqs[IRQ_NET_RX]))
		err = "one interrupt per transmit and some on the receive vector expected";
	else if ((g.mq || g.ctrl) && (g.irqs[IRQ_NET_TX1] != g.requests[IRQ_NET_TX1] ||
				      g.irqs[IRQ_NET_CTRL] != g.requests[IRQ_NET_CTRL]))
		err = "one interrupt per tx1 transmit and per control command expected";
	else if (g.irqs[IRQ_SPURIOUS])
		err = "spurious interrupts";
	check(CK_MSIX_COUNT, "msix-count", err);
}

unsigned lm_main(const uint8_t *boot_params)
{
	bool blk_ok = false, rng_ok = false, net_ok = false;
	uint8_t apic_id = 0;

	idt_init();
	con_printf("vdrv: virtio driver guest up\n");
	if (!check(CK_CMDLINE, "cmdline", parse_cmdline(boot_params)) ||
	    !check(CK_PCI_ENUM, "pci-enum", pci_enumerate()))
		goto out;
	check(CK_ECAM, "ecam", ecam_agrees());
	if (g.sectors) {
		blk_ok = check(CK_BLK_PROBE, "blk-probe", vdrv_probe(&g.blk, g.blk_slot));
		rng_ok = check(CK_RNG_PROBE, "rng-probe", vdrv_probe(&g.rng, g.rng_slot));
	}
	if (g.net_on)
		net_ok = check(CK_NET_PROBE, "net-probe", vdrv_probe(&g.net, g.net_slot));
	if (!check(CK_LAPIC, "lapic", lapic_init(&apic_id)))
		goto out;
	blk_ok = blk_ok && check(CK_BLK_INIT, "blk-init",
				 dev_init(&g.blk, &g.blk_q, &g.blk_ring,
					  1ULL << VIRTIO_BLK_F_RO | 1ULL << VIRTIO_BLK_F_FLUSH,
					  apic_id, VEC_BLK));
	rng_ok = rng_ok && check(CK_RNG_INIT, "rng-init",
				 dev_init(&g.rng, &g.rng_q, &g.rng_ring, 0, apic_id, VEC_RNG));
	net_ok = net_ok && check(CK_NET_INIT, "net-init", net_init(apic_id));
	if (blk_ok) {
		test_blk_capacity();
		if (test_blk_read()) {
			test_blk_write();
			test_msix_mask();
		}
	}
	if (rng_ok)
		test_rng();
	if (net_ok) {
		test_net_mac();
		if (test_net_arp(CK_NET_ARP, "net-arp", 0) &&
		    test_net_ping(CK_NET_PING, "net-ping", 0, NET_ECHO_SEQ)) {
			if (g.relink)
				test_net_relink();
			if (g.mq)
				test_net_mq();
			if (g.ctrl) {
				g.net_ctrl_cmd[2] = 1; /* promiscuous on */
				check(CK_NET_CTRL, "net-ctrl-promisc",
				      net_ctrl(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1));
			}
		}
	}
	test_irq_counts();
out:
	con_printf("VDRV done passed=%u failed=%u\n", g.passed, g.failed);
	return g.first_failed;
}
