/* SPDX-License-Identifier: MIT */
#include "msix.h"
#include "log.h"
#include "pci.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MSIX_ADDR_MASK 0xfff00000U
#define MSIX_ADDR_BASE 0xfee00000U /* x86 interrupt messages */
#define MSIX_CAP_CTRL  2
#define MSIX_CAP_TABLE 4
#define MSIX_CAP_PBA   8

uint32_t msix_table_size(unsigned nr_vectors)
{
	return nr_vectors * MSIX_ENTRY_SIZE;
}

uint32_t msix_pba_size(unsigned nr_vectors)
{
	return (uint32_t)(ALIGN_UP(nr_vectors, 64U) / 8);
}

static bool msix_bar_ok(const struct pci_device *dev, unsigned bar, uint32_t off, uint32_t len)
{
	const struct pci_bar *b = bar < PCI_NR_BARS ? &dev->bars[bar] : NULL;

	return b && (b->type == PCI_BAR_MEM32 || b->type == PCI_BAR_MEM64) && off % 8 == 0 &&
	       len <= b->size && off <= b->size - len;
}

int msix_init(struct msix *m, struct pci_device *dev, unsigned nr_vectors, unsigned table_bar,
	      uint32_t table_off, unsigned pba_bar, uint32_t pba_off, struct gsi_router *router,
	      int vm_fd)
{
	uint32_t tsize = msix_table_size(nr_vectors), psize = msix_pba_size(nr_vectors);
	int cap, ret;

	memset(m, 0, sizeof(*m));
	if (nr_vectors < 1 || nr_vectors > MSIX_MAX_VECTORS ||
	    !msix_bar_ok(dev, table_bar, table_off, tsize) ||
	    !msix_bar_ok(dev, pba_bar, pba_off, psize) ||
	    (table_bar == pba_bar && table_off < pba_off + psize && pba_off < table_off + tsize)) {
		log_err(
		    "pci: %s: bad MSI-X layout (%u vectors, table BAR %u+0x%x, PBA BAR %u+0x%x)",
		    dev->name, nr_vectors, table_bar, table_off, pba_bar, pba_off);
		return -EINVAL;
	}
	m->vec = calloc(nr_vectors, sizeof(*m->vec));
	m->pba = calloc(psize / 8, sizeof(uint64_t));
	if (!m->vec || !m->pba) {
		log_err("pci: %s: out of memory for %u MSI-X vectors", dev->name, nr_vectors);
		ret = -ENOMEM;
		goto err;
	}
	for (unsigned v = 0; v < nr_vectors; v++) {
		m->vec[v].efd = -1;
		m->vec[v].gsi = -1;
		m->vec[v].ctrl = MSIX_VECTOR_MASKED;
	}
	m->nr = nr_vectors;
	for (unsigned v = 0; v < nr_vectors; v++) {
		m->vec[v].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->vec[v].efd < 0) {
			ret = -errno;
			log_err("pci: %s: eventfd for MSI-X vector %u: %s", dev->name, v,
				strerror(errno));
			goto err;
		}
	}
	cap = pci_add_capability(dev, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (cap < 0) {
		ret = cap;
		goto err;
	}
	if ((ret = -pthread_mutex_init(&m->lock, NULL))) {
		log_err("pci: %s: MSI-X mutex init failed", dev->name);
		goto err;
	}
	m->cap = (uint8_t)cap;
	m->dev = dev;
	m->router = router;
	m->vm_fd = vm_fd;
	m->table_bar = table_bar;
	m->table_off = table_off;
	m->pba_bar = pba_bar;
	m->pba_off = pba_off;
	pci_config_set16(&dev->cfg, cap + MSIX_CAP_CTRL, (uint16_t)(nr_vectors - 1));
	pci_config_set_wmask(&dev->cfg, cap + MSIX_CAP_CTRL, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL,
			     2);
	pci_config_set32(&dev->cfg, cap + MSIX_CAP_TABLE, table_off | table_bar);
	pci_config_set32(&dev->cfg, cap + MSIX_CAP_PBA, pba_off | pba_bar);
	dev->msix = m;
	return 0;
err:
	for (unsigned v = 0; m->vec && v < m->nr; v++)
		if (m->vec[v].efd >= 0)
			close(m->vec[v].efd);
	free(m->vec);
	free(m->pba);
	memset(m, 0, sizeof(*m));
	return ret;
}

void msix_destroy(struct msix *m)
{
	if (!m->vec)
		return;
	for (unsigned v = 0; v < m->nr; v++) {
		struct msix_vector *e = &m->vec[v];

		if (e->bound)
			irqfd_deassign(m->vm_fd, e->efd, (uint32_t)e->gsi);
		if (e->gsi >= 0)
			gsi_router_remove(m->router, (uint32_t)e->gsi);
		close(e->efd);
	}
	if (m->dev && m->dev->msix == m)
		m->dev->msix = NULL;
	free(m->vec);
	free(m->pba);
	pthread_mutex_destroy(&m->lock);
	memset(m, 0, sizeof(*m));
}

static bool msix_vector_live(const struct msix *m, const struct msix_vector *e)
{
	return m->enabled && !m->masked_all && !(e->ctrl & MSIX_VECTOR_MASKED) && e->addr_hi == 0 &&
	       (e->addr_lo & MSIX_ADDR_MASK) == MSIX_ADDR_BASE;
}

static void msix_signal(struct msix *m, unsigned v)
{
	uint64_t one = 1;

	if (write(m->vec[v].efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("pci: %s: MSI-X vector %u eventfd: %s", m->dev->name, v, strerror(errno));
}

/* m->lock held: route and bind a live vector, unbind a dead one. */
static int msix_sync_vector(struct msix *m, unsigned v)
{
	struct msix_vector *e = &m->vec[v];
	uint64_t bit = 1ULL << (v % 64);
	uint64_t addr = e->addr_lo;
	int ret;

	if (!msix_vector_live(m, e)) {
		if (e->bound) {
			irqfd_deassign(m->vm_fd, e->efd, (uint32_t)e->gsi);
			e->bound = false;
		}
		return 0;
	}
	if (m->router) {
		if (e->gsi < 0) {
			uint32_t gsi;

			if ((ret = gsi_router_add_msi(m->router, addr, e->data, &gsi)))
				return ret;
			e->gsi = gsi;
		} else if (e->route_addr != e->addr_lo || e->route_data != e->data) {
			ret = gsi_router_update_msi(m->router, (uint32_t)e->gsi, addr, e->data);
			if (ret)
				return ret;
		}
		e->route_addr = e->addr_lo;
		e->route_data = e->data;
		if (!e->bound) {
			if ((ret = irqfd_assign(m->vm_fd, e->efd, (uint32_t)e->gsi, -1)))
				return ret;
			e->bound = true;
		}
	}
	if (m->pba[v / 64] & bit) {
		m->pba[v / 64] &= ~bit;
		msix_signal(m, v);
	}
	return 0;
}

static void msix_sync_all(struct msix *m)
{
	for (unsigned v = 0; v < m->nr; v++)
		msix_sync_vector(m, v);
}

void msix_control_write(struct msix *m, uint16_t ctrl)
{
	pthread_mutex_lock(&m->lock);
	m->enabled = ctrl & MSIX_CTRL_ENABLE;
	m->masked_all = ctrl & MSIX_CTRL_MASKALL;
	msix_sync_all(m);
	pthread_mutex_unlock(&m->lock);
}

bool msix_enabled(struct msix *m)
{
	bool en;

	pthread_mutex_lock(&m->lock);
	en = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return en;
}

int msix_vector_eventfd(struct msix *m, unsigned v)
{
	if (v >= m->nr) {
		log_err("pci: MSI-X vector %u out of range (%u vectors)", v, m->nr);
		return -EINVAL;
	}
	return m->vec[v].efd;
}

int msix_notify(struct msix *m, unsigned v)
{
	if (v >= m->nr) {
		log_err("pci: MSI-X vector %u out of range (%u vectors)", v, m->nr);
		return -EINVAL;
	}
	pthread_mutex_lock(&m->lock);
	if (msix_vector_live(m, &m->vec[v]))
		msix_signal(m, v);
	else
		m->pba[v / 64] |= 1ULL << (v % 64);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/*
 * Where an access lands relative to [start, start+size): -1 outside, 0 a
 * malformed access that touches it, 1 a well-formed one (4 or 8 bytes,
 * naturally aligned, inside).
 */
static int msix_region_hit(uint64_t off, uint32_t len, uint32_t start, uint32_t size)
{
	if (off >= (uint64_t)start + size || off + len <= start)
		return -1;
	if ((len != 4 && len != 8) || off % len || off < start ||
	    off + len > (uint64_t)start + size)
		return 0;
	return 1;
}

static uint32_t *msix_field(struct msix_vector *e, unsigned field)
{
	switch (field) {
	case 0:
		return &e->addr_lo;
	case 1:
		return &e->addr_hi;
	case 2:
		return &e->data;
	default:
		return &e->ctrl;
	}
}

bool msix_bar_read(struct msix *m, unsigned bar, uint64_t off, uint8_t *data, uint32_t len)
{
	int hit;

	if (bar == m->table_bar &&
	    (hit = msix_region_hit(off, len, m->table_off, msix_table_size(m->nr))) >= 0) {
		if (!hit) {
			log_debug("pci: %s: MSI-X table read of %u bytes at 0x%llx ignored",
				  m->dev->name, len, (unsigned long long)off);
			memset(data, 0xff, len);
			return true;
		}
		pthread_mutex_lock(&m->lock);
		for (uint32_t i = 0; i < len; i += 4) {
			uint64_t rel = off + i - m->table_off;
			uint32_t v = *msix_field(&m->vec[rel / MSIX_ENTRY_SIZE], (rel % 16) / 4);

			memcpy(data + i, &v, 4);
		}
		pthread_mutex_unlock(&m->lock);
		return true;
	}
	if (bar == m->pba_bar &&
	    (hit = msix_region_hit(off, len, m->pba_off, msix_pba_size(m->nr))) >= 0) {
		uint64_t rel = off - m->pba_off, word;

		if (!hit) {
			log_debug("pci: %s: MSI-X PBA read of %u bytes at 0x%llx ignored",
				  m->dev->name, len, (unsigned long long)off);
			memset(data, 0xff, len);
			return true;
		}
		pthread_mutex_lock(&m->lock);
		word = m->pba[rel / 8] >> (8 * (rel % 8));
		pthread_mutex_unlock(&m->lock);
		memcpy(data, &word, len);
		return true;
	}
	return false;
}

bool msix_bar_write(struct msix *m, unsigned bar, uint64_t off, const uint8_t *data, uint32_t len)
{
	int hit;

	if (bar == m->table_bar &&
	    (hit = msix_region_hit(off, len, m->table_off, msix_table_size(m->nr))) >= 0) {
		uint64_t rel = off - m->table_off;
		unsigned v = (unsigned)(rel / MSIX_ENTRY_SIZE);

		if (!hit) {
			log_debug("pci: %s: MSI-X table write of %u bytes at 0x%llx ignored",
				  m->dev->name, len, (unsigned long long)off);
			return true;
		}
		pthread_mutex_lock(&m->lock);
		for (uint32_t i = 0; i < len; i += 4) {
			unsigned field = (unsigned)((rel + i) % 16) / 4;
			uint32_t val;

			memcpy(&val, data + i, 4);
			if (field == 0)
				val &= ~3U; /* dword-aligned message address */
			else if (field == 3)
				val &= MSIX_VECTOR_MASKED;
			*msix_field(&m->vec[v], field) = val;
		}
		if (msix_sync_vector(m, v))
			log_warn("pci: %s: MSI-X vector %u could not be routed", m->dev->name, v);
		pthread_mutex_unlock(&m->lock);
		return true;
	}
	if (bar == m->pba_bar && msix_region_hit(off, len, m->pba_off, msix_pba_size(m->nr)) >= 0) {
		log_debug("pci: %s: write to the read-only MSI-X PBA ignored", m->dev->name);
		return true;
	}
	return false;
}
