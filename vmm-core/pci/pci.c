/* SPDX-License-Identifier: MIT */
#include "pci.h"
#include "log.h"
#include "msix.h"
#include "util.h"

#include <errno.h>
#include <string.h>

#define PCI_CF8_ENABLE 0x80000000U
#define PCI_CF8_MASK   0x80fffffcU /* enable, bus, device, function, register */

#define PCI_COMMAND_WMASK                                                                          \
	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |           \
	 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

uint32_t pci_intx_gsi(unsigned slot, unsigned pin)
{
	return PCI_INTX_GSI_BASE + (slot + pin) % PCI_INTX_NR_GSIS;
}

static bool overlaps(uint32_t off, uint32_t len, uint32_t start, uint32_t n)
{
	return off < start + n && start < off + len;
}

int pci_device_init(struct pci_device *dev, const struct pci_device_ops *ops, const char *name,
		    uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision)
{
	int ret;

	memset(dev, 0, sizeof(*dev));
	if (class_code > 0xffffff) {
		log_err("pci: %s: class code 0x%x is more than 24 bits", name, class_code);
		return -EINVAL;
	}
	dev->ops = ops;
	dev->name = name;
	dev->slot = -1;
	ret = -pthread_mutex_init(&dev->lock, NULL);
	if (ret) {
		log_err("pci: %s: mutex init failed", name);
		return ret;
	}
	pci_config_init(&dev->cfg);
	pci_config_set16(&dev->cfg, PCI_VENDOR_ID, vendor);
	pci_config_set16(&dev->cfg, PCI_DEVICE_ID, device);
	pci_config_set8(&dev->cfg, PCI_REVISION_ID, revision);
	pci_config_set8(&dev->cfg, PCI_CLASS_PROG, (uint8_t)class_code);
	pci_config_set16(&dev->cfg, PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
	pci_config_set_wmask(&dev->cfg, PCI_COMMAND, PCI_COMMAND_WMASK, 2);
	pci_config_set_w1c(&dev->cfg, PCI_STATUS, PCI_STATUS_W1C_MASK, 2);
	pci_config_set_wmask(&dev->cfg, PCI_CACHE_LINE_SIZE, 0xff, 1);
	pci_config_set_wmask(&dev->cfg, PCI_INTERRUPT_LINE, 0xff, 1);
	return 0;
}

void pci_device_destroy(struct pci_device *dev)
{
	pthread_mutex_destroy(&dev->lock);
}

int pci_device_set_bar(struct pci_device *dev, unsigned n, enum pci_bar_type type, bool prefetch,
		       uint64_t size, const struct bus_dev_ops *ops, void *opaque)
{
	uint32_t off = PCI_BASE_ADDRESS_0 + 4 * n, flags;
	uint64_t mask = ~(size - 1);
	bool ok = size && !(size & (size - 1)) && n < PCI_NR_BARS && !dev->root;

	switch (type) {
	case PCI_BAR_IO:
		ok = ok && size >= 4 && size <= 256 && !prefetch;
		flags = PCI_BAR_SPACE_IO;
		break;
	case PCI_BAR_MEM32:
		ok = ok && size >= 16 && size <= 2 * GiB;
		flags = prefetch ? PCI_BAR_MEM_PREFETCH : 0;
		break;
	case PCI_BAR_MEM64:
		ok = ok && size >= 16 && n + 1 < PCI_NR_BARS &&
		     dev->bars[n + 1].type == PCI_BAR_NONE;
		flags = PCI_BAR_MEM_TYPE_64 | (prefetch ? PCI_BAR_MEM_PREFETCH : 0);
		break;
	default:
		ok = false;
		flags = 0;
	}
	if (!ok || dev->bars[n].type != PCI_BAR_NONE) {
		log_err("pci: %s: cannot set BAR %u (type %d, size 0x%llx)", dev->name, n, type,
			(unsigned long long)size);
		return -EINVAL;
	}
	dev->bars[n] = (struct pci_bar){
	    .type = type, .prefetch = prefetch, .size = size, .ops = ops, .opaque = opaque};
	pci_config_set32(&dev->cfg, off, flags);
	pci_config_set_wmask(&dev->cfg, off, (uint32_t)mask & (type == PCI_BAR_IO ? ~3U : ~15U), 4);
	if (type == PCI_BAR_MEM64) {
		dev->bars[n + 1].type = PCI_BAR_UPPER;
		pci_config_set_wmask(&dev->cfg, off + 4, (uint32_t)(mask >> 32), 4);
	}
	return 0;
}

int pci_add_capability(struct pci_device *dev, uint8_t id, uint32_t len)
{
	if (dev->root) {
		log_err("pci: %s: capabilities are fixed once the device is on the bus", dev->name);
		return -EBUSY;
	}
	return pci_config_add_capability(&dev->cfg, id, len);
}

/* Caller holds dev->lock. */
static void pci_device_update_intx(struct pci_device *dev)
{
	bool on = dev->intx_level &&
		  !(pci_config_get16(&dev->cfg, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
	uint8_t status = pci_config_get8(&dev->cfg, PCI_STATUS);

	/* The status bit shows the device's request, whether or not it is masked. */
	status = dev->intx_level ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT;
	pci_config_set8(&dev->cfg, PCI_STATUS, status);
	if (dev->root && dev->root->irq && pci_config_get8(&dev->cfg, PCI_INTERRUPT_PIN))
		dev->root->irq->set_level(dev->root->irq, dev->intx_gsi, on);
}

int pci_device_set_intx(struct pci_device *dev, int level)
{
	if (!pci_config_get8(&dev->cfg, PCI_INTERRUPT_PIN)) {
		log_err("pci: %s has no interrupt pin", dev->name);
		return -EINVAL;
	}
	pthread_mutex_lock(&dev->lock);
	dev->intx_level = level != 0;
	pci_device_update_intx(dev);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

/* The address BAR n decodes now, or false if it decodes nothing. */
static bool pci_bar_decoded(const struct pci_device *dev, unsigned n, uint64_t *addr)
{
	const struct pci_bar *b = &dev->bars[n];
	const struct pci_root *root = dev->root;
	uint16_t cmd = pci_config_get16(&dev->cfg, PCI_COMMAND);
	uint32_t lo = pci_config_get32(&dev->cfg, PCI_BASE_ADDRESS_0 + 4 * n);

	switch (b->type) {
	case PCI_BAR_IO:
		*addr = lo & ~3U;
		return (cmd & PCI_COMMAND_IO) &&
		       pci_window_contains(&root->alloc.win[PCI_WINDOW_IO], *addr, b->size);
	case PCI_BAR_MEM32:
	case PCI_BAR_MEM64:
		*addr = lo & ~15U;
		if (b->type == PCI_BAR_MEM64)
			*addr |=
			    (uint64_t)pci_config_get32(&dev->cfg, PCI_BASE_ADDRESS_0 + 4 * n + 4)
			    << 32;
		return (cmd & PCI_COMMAND_MEMORY) &&
		       (pci_window_contains(&root->alloc.win[PCI_WINDOW_MEM32], *addr, b->size) ||
			pci_window_contains(&root->alloc.win[PCI_WINDOW_MEM64], *addr, b->size));
	default:
		return false;
	}
}

/* Caller holds dev->lock: bring the BAR map in line with COMMAND and the BARs. */
static void pci_device_update_bars(struct pci_device *dev)
{
	struct pci_root *root = dev->root;

	if (!root)
		return;
	for (unsigned n = 0; n < PCI_NR_BARS; n++) {
		struct pci_bar *b = &dev->bars[n];
		uint64_t addr = 0, old = b->addr;
		bool want = pci_bar_decoded(dev, n, &addr);

		if (b->mapped && (!want || addr != b->addr)) {
			pthread_rwlock_wrlock(&root->map_lock);
			b->mapped = false;
			pthread_rwlock_unlock(&root->map_lock);
			log_debug("pci: %s BAR %u unmapped from 0x%llx", dev->name, n,
				  (unsigned long long)old);
			if (dev->ops && dev->ops->bar_unmapped)
				dev->ops->bar_unmapped(dev, n, old, b->size);
		}
		if (want && !b->mapped) {
			pthread_rwlock_wrlock(&root->map_lock);
			b->addr = addr;
			b->mapped = true;
			pthread_rwlock_unlock(&root->map_lock);
			log_debug("pci: %s BAR %u mapped at 0x%llx", dev->name, n,
				  (unsigned long long)addr);
			if (dev->ops && dev->ops->bar_mapped)
				dev->ops->bar_mapped(dev, n, addr, b->size);
		}
	}
}

int pci_device_config_read_default(struct pci_device *dev, uint32_t off, void *data, uint32_t len)
{
	return pci_config_read(&dev->cfg, off, data, len);
}

int pci_device_config_write_default(struct pci_device *dev, uint32_t off, const void *data,
				    uint32_t len)
{
	uint16_t old_cmd = pci_config_get16(&dev->cfg, PCI_COMMAND);
	int ret = pci_config_write(&dev->cfg, off, data, len);

	if (ret)
		return ret;
	if (overlaps(off, len, PCI_COMMAND, 2) ||
	    overlaps(off, len, PCI_BASE_ADDRESS_0, 4 * PCI_NR_BARS))
		pci_device_update_bars(dev);
	if (overlaps(off, len, PCI_COMMAND, 2) &&
	    ((old_cmd ^ pci_config_get16(&dev->cfg, PCI_COMMAND)) & PCI_COMMAND_INTX_DISABLE))
		pci_device_update_intx(dev);
	if (dev->msix && overlaps(off, len, dev->msix->cap + 2u, 2))
		msix_control_write(dev->msix, pci_config_get16(&dev->cfg, dev->msix->cap + 2u));
	return 0;
}

static bool pci_access_ok(uint32_t off, uint32_t len)
{
	return (len == 1 || len == 2 || len == 4) && (off & 3) + len <= 4 &&
	       off < PCI_CONFIG_EXT_SIZE;
}

static struct pci_device *pci_root_lookup(struct pci_root *root, unsigned bus, unsigned slot,
					  unsigned fn)
{
	struct pci_device *dev = NULL;

	if (bus != 0 || fn != 0 || slot >= PCI_NR_SLOTS)
		return NULL;
	pthread_mutex_lock(&root->lock);
	dev = root->slots[slot];
	pthread_mutex_unlock(&root->lock);
	return dev;
}

void pci_root_config_read(struct pci_root *root, unsigned bus, unsigned slot, unsigned fn,
			  uint32_t off, void *data, uint32_t len)
{
	struct pci_device *dev = pci_root_lookup(root, bus, slot, fn);
	int ret;

	if (len <= 4)
		memset(data, 0xff, len);
	if (!dev || !pci_access_ok(off, len)) {
		if (dev)
			log_debug("pci: %s: config read of %u bytes at 0x%x ignored", dev->name,
				  len, off);
		return;
	}
	pthread_mutex_lock(&dev->lock);
	if (dev->ops && dev->ops->config_read)
		ret = dev->ops->config_read(dev, off, data, len);
	else
		ret = pci_device_config_read_default(dev, off, data, len);
	pthread_mutex_unlock(&dev->lock);
	if (ret)
		memset(data, 0xff, len);
}

void pci_root_config_write(struct pci_root *root, unsigned bus, unsigned slot, unsigned fn,
			   uint32_t off, const void *data, uint32_t len)
{
	struct pci_device *dev = pci_root_lookup(root, bus, slot, fn);

	if (!dev || !pci_access_ok(off, len)) {
		if (dev)
			log_debug("pci: %s: config write of %u bytes at 0x%x ignored", dev->name,
				  len, off);
		return;
	}
	pthread_mutex_lock(&dev->lock);
	if (dev->ops && dev->ops->config_write)
		dev->ops->config_write(dev, off, data, len);
	else
		pci_device_config_write_default(dev, off, data, len);
	pthread_mutex_unlock(&dev->lock);
}

/* --- configuration mechanism #1 --- */

static void pci_cf8_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct pci_root *root = opaque;
	uint32_t v;

	if (offset != 0 || len != 4) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&root->lock);
	v = root->cf8;
	pthread_mutex_unlock(&root->lock);
	memcpy(data, &v, 4);
}

static void pci_cf8_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct pci_root *root = opaque;
	uint32_t v;

	/* Only dword accesses address config space; bytes at 0xCF8-0xCFB are other registers
	 * on a PC chipset (0xCF9 reset control) that we do not have. */
	if (offset != 0 || len != 4) {
		log_debug("pci: %u-byte write to 0x%llx ignored", len,
			  (unsigned long long)(PCI_CONFIG_ADDRESS + offset));
		return;
	}
	memcpy(&v, data, 4);
	pthread_mutex_lock(&root->lock);
	root->cf8 = v & PCI_CF8_MASK;
	pthread_mutex_unlock(&root->lock);
}

/* Decode CF8 for an access at byte offset within the CFC dword; false if disabled. */
static bool pci_cf8_decode(struct pci_root *root, uint64_t offset, uint32_t len, unsigned *bus,
			   unsigned *slot, unsigned *fn, uint32_t *reg)
{
	uint32_t cf8;

	pthread_mutex_lock(&root->lock);
	cf8 = root->cf8;
	pthread_mutex_unlock(&root->lock);
	if (!(cf8 & PCI_CF8_ENABLE) || offset >= 4 || len > 4 - offset)
		return false;
	*bus = (cf8 >> 16) & 0xff;
	*slot = (cf8 >> 11) & 0x1f;
	*fn = (cf8 >> 8) & 0x7;
	*reg = (cf8 & 0xfc) | (uint32_t)offset;
	return true;
}

static void pci_cfc_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct pci_root *root = opaque;
	unsigned bus, slot, fn;
	uint32_t reg;

	if (!pci_cf8_decode(root, offset, len, &bus, &slot, &fn, &reg)) {
		memset(data, 0xff, len);
		return;
	}
	pci_root_config_read(root, bus, slot, fn, reg, data, len);
}

static void pci_cfc_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct pci_root *root = opaque;
	unsigned bus, slot, fn;
	uint32_t reg;

	if (pci_cf8_decode(root, offset, len, &bus, &slot, &fn, &reg))
		pci_root_config_write(root, bus, slot, fn, reg, data, len);
}

static const struct bus_dev_ops pci_cf8_ops = {.read = pci_cf8_read, .write = pci_cf8_write};
static const struct bus_dev_ops pci_cfc_ops = {.read = pci_cfc_read, .write = pci_cfc_write};

/* --- ECAM: offset = bus << 20 | device << 15 | function << 12 | register --- */

static void pci_ecam_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct pci_root *root = opaque;

	if (len > 4) {
		memset(data, 0xff, len);
		return;
	}
	pci_root_config_read(root, (unsigned)(offset >> 20), (offset >> 15) & 0x1f,
			     (offset >> 12) & 0x7, offset & 0xfff, data, len);
}

static void pci_ecam_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct pci_root *root = opaque;

	pci_root_config_write(root, (unsigned)(offset >> 20), (offset >> 15) & 0x1f,
			      (offset >> 12) & 0x7, offset & 0xfff, data, len);
}

static const struct bus_dev_ops pci_ecam_ops = {.read = pci_ecam_read, .write = pci_ecam_write};

/* --- BAR windows: dispatch to whichever BAR decodes the address --- */

static const struct pci_bar *pci_root_find_bar(struct pci_root *root, bool io, uint64_t addr,
					       uint32_t len)
{
	for (unsigned s = 0; s < PCI_NR_SLOTS; s++) {
		const struct pci_device *dev = root->slots[s];

		if (!dev)
			continue;
		for (unsigned n = 0; n < PCI_NR_BARS; n++) {
			const struct pci_bar *b = &dev->bars[n];

			if (b->mapped && (b->type == PCI_BAR_IO) == io && addr >= b->addr &&
			    len <= b->size && addr - b->addr <= b->size - len)
				return b;
		}
	}
	return NULL;
}

static void pci_window_access(struct pci_root_window *w, uint64_t offset, uint8_t *rdata,
			      const uint8_t *wdata, uint32_t len)
{
	struct pci_root *root = w->root;
	uint64_t addr = root->alloc.win[w->kind].base + offset;
	const struct pci_bar *b;

	pthread_rwlock_rdlock(&root->map_lock);
	b = pci_root_find_bar(root, w->kind == PCI_WINDOW_IO, addr, len);
	if (b && b->ops) {
		if (rdata)
			b->ops->read(b->opaque, addr - b->addr, rdata, len);
		else
			b->ops->write(b->opaque, addr - b->addr, wdata, len);
	} else if (rdata) {
		memset(rdata, 0xff, len);
	}
	pthread_rwlock_unlock(&root->map_lock);
}

static void pci_window_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	pci_window_access(opaque, offset, data, NULL, len);
}

static void pci_window_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	pci_window_access(opaque, offset, NULL, data, len);
}

static const struct bus_dev_ops pci_window_ops = {.read = pci_window_read,
						  .write = pci_window_write};

/* --- the root --- */

int pci_root_init(struct pci_root *root, const struct pci_root_config *cfg, struct irq_sink *irq)
{
	int ret;

	memset(root, 0, sizeof(*root));
	if (cfg->ecam_base % PCI_ECAM_SIZE || cfg->ecam_base + PCI_ECAM_SIZE > 0x100000000ULL) {
		log_err("pci: ECAM base 0x%llx is not a 1 MiB-aligned address below 4 GiB",
			(unsigned long long)cfg->ecam_base);
		return -EINVAL;
	}
	root->cfg = *cfg;
	root->irq = irq;
	ret = pci_bar_allocator_init(&root->alloc, cfg->io_base, cfg->io_size, cfg->mem32_base,
				     cfg->mem32_size, cfg->mem64_base, cfg->mem64_size);
	if (ret)
		return ret;
	for (unsigned i = 0; i < PCI_NR_WINDOWS; i++)
		root->win[i] = (struct pci_root_window){.root = root, .kind = i};
	if ((ret = -pthread_mutex_init(&root->lock, NULL)))
		goto err;
	if ((ret = -pthread_rwlock_init(&root->map_lock, NULL))) {
		pthread_mutex_destroy(&root->lock);
		goto err;
	}
	ret = pci_device_init(&root->host_bridge, NULL, "host-bridge", PCI_HOST_VENDOR_ID,
			      PCI_HOST_DEVICE_ID, PCI_CLASS_BRIDGE_HOST, 0);
	if (!ret)
		ret = pci_root_add_device(root, &root->host_bridge);
	if (ret < 0) {
		pci_root_destroy(root);
		return ret;
	}
	return 0;
err:
	log_err("pci: lock init failed");
	return ret;
}

void pci_root_destroy(struct pci_root *root)
{
	pci_device_destroy(&root->host_bridge);
	pthread_rwlock_destroy(&root->map_lock);
	pthread_mutex_destroy(&root->lock);
}

int pci_root_attach(struct pci_root *root, struct bus *pio, struct bus *mmio)
{
	static const char *const name[PCI_NR_WINDOWS] = {"pci-io", "pci-mem32", "pci-mem64"};
	int ret;

	/* bus_register logs its own failures. */
	if ((ret = bus_register(pio, PCI_CONFIG_ADDRESS, 4, &pci_cf8_ops, root, "pci-cf8")) ||
	    (ret = bus_register(pio, PCI_CONFIG_DATA, 4, &pci_cfc_ops, root, "pci-cfc")) ||
	    (ret = bus_register(mmio, root->cfg.ecam_base, PCI_ECAM_SIZE, &pci_ecam_ops, root,
				"pci-ecam")))
		return ret;
	for (unsigned i = 0; i < PCI_NR_WINDOWS; i++) {
		const struct pci_window *w = &root->alloc.win[i];

		if (w->size &&
		    (ret = bus_register(i == PCI_WINDOW_IO ? pio : mmio, w->base, w->size,
					&pci_window_ops, &root->win[i], name[i])))
			return ret;
	}
	root->pio = pio;
	root->mmio = mmio;
	return 0;
}

int pci_root_add_device(struct pci_root *root, struct pci_device *dev)
{
	int slot = -1, ret;

	pthread_mutex_lock(&root->lock);
	for (unsigned s = 0; s < PCI_NR_SLOTS && slot < 0; s++)
		if (!root->slots[s])
			slot = (int)s;
	pthread_mutex_unlock(&root->lock);
	if (slot < 0) {
		log_err("pci: no free slot for %s", dev->name);
		return -ENOSPC;
	}
	for (unsigned n = 0; n < PCI_NR_BARS; n++) {
		const struct pci_bar *b = &dev->bars[n];
		uint32_t off = PCI_BASE_ADDRESS_0 + 4 * n;
		enum pci_window_kind kind;
		uint64_t addr;

		if (b->type != PCI_BAR_IO && b->type != PCI_BAR_MEM32 && b->type != PCI_BAR_MEM64)
			continue;
		kind = b->type == PCI_BAR_IO			? PCI_WINDOW_IO
		       : b->type == PCI_BAR_MEM32		? PCI_WINDOW_MEM32
		       : root->alloc.win[PCI_WINDOW_MEM64].size ? PCI_WINDOW_MEM64
								: PCI_WINDOW_MEM32;
		if ((ret = pci_bar_alloc(&root->alloc, kind, b->size, &addr)))
			return ret; /* logged by the allocator */
		pci_config_set32(&dev->cfg, off,
				 (uint32_t)addr | (pci_config_get32(&dev->cfg, off) & 0xf));
		if (b->type == PCI_BAR_MEM64)
			pci_config_set32(&dev->cfg, off + 4, (uint32_t)(addr >> 32));
	}
	if (pci_config_get8(&dev->cfg, PCI_INTERRUPT_PIN) > 4) {
		log_err("pci: %s has interrupt pin %u, not INTA#..INTD#", dev->name,
			pci_config_get8(&dev->cfg, PCI_INTERRUPT_PIN));
		return -EINVAL;
	}
	if (pci_config_get8(&dev->cfg, PCI_INTERRUPT_PIN)) {
		unsigned pin = pci_config_get8(&dev->cfg, PCI_INTERRUPT_PIN) - 1;

		dev->intx_gsi = pci_intx_gsi((unsigned)slot, pin);
		pci_config_set8(&dev->cfg, PCI_INTERRUPT_LINE, (uint8_t)dev->intx_gsi);
	}
	/* BAR dispatch walks the slots under the map lock, config accesses under the root lock. */
	pthread_mutex_lock(&root->lock);
	pthread_rwlock_wrlock(&root->map_lock);
	dev->root = root;
	dev->slot = slot;
	root->slots[slot] = dev;
	pthread_rwlock_unlock(&root->map_lock);
	pthread_mutex_unlock(&root->lock);
	log_debug("pci: %s at 00:%02x.0", dev->name, slot);
	return slot;
}
