/* SPDX-License-Identifier: MIT */
#include "vm.h"
#include "acpi.h"
#include "cpuid.h"
#include "debug_exit.h"
#include "log.h"
#include "serial.h"
#include "util.h"
#include "vcpu.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

/* Intel VMX needs three pages for its real-mode TSS and identity map,
 * placed in the top of the PCI hole, clear of the LAPIC/IOAPIC and flash. */
#define VM_TSS_ADDR	     0xfffbd000ULL
#define VM_IDENTITY_MAP_ADDR 0xfffbc000ULL

/*
 * PCI layout inside the 32-bit hole [3 GiB, 4 GiB), clear of the IOAPIC
 * (0xfec00000), LAPIC (0xfee00000) and the TSS/identity pages above: BARs
 * below 3.5 GiB, ECAM for bus 0 at 3.5 GiB; 64-bit BARs above RAM.
 */
#define VM_PCI_MEM32_BASE GUEST_MEM_HOLE_START
#define VM_PCI_MEM32_SIZE 0x20000000ULL
#define VM_PCI_ECAM_BASE  0xe0000000ULL
#define VM_PCI_MEM64_SIZE (64 * GiB)
#define VM_PCI_IO_BASE	  0xc000ULL
#define VM_PCI_IO_SIZE	  0x4000ULL

static const struct {
	long cap;
	const char *name;
} required_caps[] = {
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
    {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
    {KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
    {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
    {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
    {KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR"},
    {KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER"},
};

static void vm_request_stop(struct vm_power *p, enum vm_stop_reason reason, unsigned code)
{
	struct vm *vm = container_of(p, struct vm, power);
	uint64_t one = 1;

	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_reason != VM_STOP_NONE) {
		pthread_mutex_unlock(&vm->stop_lock);
		return;
	}
	vm->stop_reason = reason;
	vm->stop_code = code;
	atomic_store(&vm->stopping, true);
	pthread_mutex_unlock(&vm->stop_lock);
	/* Before vm_finalize there are no vCPUs to kick. */
	for (unsigned i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	if (write(vm->stop_efd, &one, sizeof(one)) < 0)
		log_warn("cannot wake the event loop: %s", strerror(errno));
}

static int vm_irq_set_level(struct irq_sink *sink, uint32_t gsi, int level)
{
	struct vm *vm = container_of(sink, struct vm, irq);
	struct kvm_irq_level l = {.irq = gsi, .level = (uint32_t)level};

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0) {
		int ret = -errno;
		log_err("KVM_IRQ_LINE gsi %u level %d: %s", gsi, level, strerror(errno));
		return ret;
	}
	return 0;
}

static int vm_open_kvm(struct vm *vm)
{
	int ver;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		int ret = -errno;
		if (errno == ENOENT)
			log_err(
			    "no /dev/kvm: this host does not offer KVM (load kvm_intel or kvm_amd, "
			    "or enable nested virtualization)");
		else if (errno == EACCES || errno == EPERM)
			log_err("no permission to open /dev/kvm (run as root or join the 'kvm' "
				"group)");
		else
			log_err("cannot open /dev/kvm: %s", strerror(errno));
		return ret;
	}
	ver = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		log_err("/dev/kvm speaks API version %d, sluice needs %d", ver, KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			log_err("this KVM lacks %s, which sluice needs", required_caps[i].name);
			return -ENOTSUP;
		}
	}
	{
		int max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
		if (max > 0 && vm->nr_vcpus > (unsigned)max) {
			log_err("--cpus %u is more than this KVM allows (%d)", vm->nr_vcpus, max);
			return -EINVAL;
		}
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		log_err("KVM_GET_VCPU_MMAP_SIZE failed");
		return -EIO;
	}
	return 0;
}

static int vm_ioctl(struct vm *vm, unsigned long req, unsigned long arg, const char *what)
{
	if (ioctl(vm->vm_fd, req, arg) < 0) {
		int ret = -errno;
		log_err("%s failed: %s", what, strerror(errno));
		return ret;
	}
	return 0;
}

static int vm_create_kvm_vm(struct vm *vm)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	uint64_t idmap = VM_IDENTITY_MAP_ADDR;
	int ret;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		log_err("KVM_CREATE_VM failed: %s", strerror(errno));
		return ret;
	}
	if ((ret = vm_ioctl(vm, KVM_SET_TSS_ADDR, VM_TSS_ADDR, "KVM_SET_TSS_ADDR")) ||
	    (ret = vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, (unsigned long)&idmap,
			    "KVM_SET_IDENTITY_MAP_ADDR")) ||
	    (ret = vm_ioctl(vm, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP")) ||
	    (ret = vm_ioctl(vm, KVM_CREATE_PIT2, (unsigned long)&pit, "KVM_CREATE_PIT2")))
		return ret;
	return 0;
}

/*
 * guest_mem_init flags for cfg: a memfd only where another process maps
 * guest RAM (the machine layer sets shared_memory for a device that needs it).
 */
static unsigned vm_mem_flags(const struct vm_config *cfg)
{
	unsigned flags = 0;

	if (cfg->hugepages)
		flags |= GUEST_MEM_HUGETLB;
	if (cfg->shared_memory)
		flags |= GUEST_MEM_SHARED;
	return flags;
}

static int vm_setup_memory(struct vm *vm)
{
	int ret = guest_mem_init(&vm->mem, vm->cfg.mem_size, vm_mem_flags(&vm->cfg));

	if (ret)
		return ret;
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct guest_mem_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region slot = {
		    .slot = i,
		    .guest_phys_addr = r->gpa,
		    .memory_size = r->size,
		    .userspace_addr = (uint64_t)(uintptr_t)r->hva,
		};
		if ((ret = vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, (unsigned long)&slot,
				    "KVM_SET_USER_MEMORY_REGION")))
			return ret;
	}
	return 0;
}

static int vm_setup_cpu_policy(struct vm *vm)
{
	struct kvm_cpuid2 *supported = NULL;
	int ret;

	cpu_policy_config_init(&vm->cpu_cfg, vm->nr_vcpus);
	vm->cpu_cfg.tsc_deadline =
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	if (vm->cfg.cpu_policy_path &&
	    (ret = cpu_policy_load(&vm->cpu_cfg, vm->cfg.cpu_policy_path)))
		return ret;
	if ((ret = cpuid_get_supported(vm->kvm_fd, &supported)))
		return ret;
	ret = cpuid_policy_build(supported, &vm->cpu_cfg, &vm->cpuid);
	free(supported);
	if (ret)
		return ret;
	if ((ret = cpuid_policy_install(vm->cpuid, vm->vm_fd)))
		return ret;
	vm->xcr0_preset = cpuid_host_is_tcg();
	if (vm->xcr0_preset)
		log_debug("host runs under QEMU TCG: vCPUs start with every advertised XSAVE "
			  "component in XCR0 (TCG may not trap XSETBV)");
	if ((ret = msr_policy_init(&vm->msr, &vm->cpu_cfg, cpuid_policy_vendor(vm->cpuid))))
		return ret;
	vm->msr_ready = true;
	return msr_policy_install(&vm->msr, vm->vm_fd);
}

static int vm_open_serial_output(struct vm *vm)
{
	switch (vm->cfg.serial) {
	case SERIAL_STDIO:
		vm->serial_out_fd = STDOUT_FILENO;
		return 0;
	case SERIAL_NONE:
		vm->serial_out_fd = -1;
		return 0;
	case SERIAL_FILE:
		vm->serial_out_fd =
		    open(vm->cfg.serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (vm->serial_out_fd < 0) {
			int ret = -errno;
			log_err("cannot open serial output file %s: %s", vm->cfg.serial_path,
				strerror(errno));
			return ret;
		}
		return 0;
	}
	return -EINVAL;
}

static int vm_setup_devices(struct vm *vm)
{
	int ret;

	if ((ret = vm_open_serial_output(vm)))
		return ret;
	if ((ret = serial_init(&vm->com1, &vm->irq, SERIAL_COM1_GSI, vm->serial_out_fd)))
		return ret;
	vm->com1_ready = true;
	if ((ret = serial_attach(&vm->com1, &vm->pio, SERIAL_COM1_BASE)))
		return ret;
	if ((ret = i8042_init(&vm->i8042, &vm->power)) ||
	    (ret = i8042_attach(&vm->i8042, &vm->pio)))
		return ret;
	if ((ret = rtc_init(&vm->rtc)) || (ret = rtc_attach(&vm->rtc, &vm->pio)))
		return ret;
	if ((ret = debug_exit_init(&vm->debug_exit, &vm->power)) ||
	    (ret = debug_exit_attach(&vm->debug_exit, &vm->pio, DEBUG_EXIT_PORT)))
		return ret;
	if ((ret = acpi_pm_init(&vm->acpi_pm, &vm->power)) ||
	    (ret = acpi_pm_attach(&vm->acpi_pm, &vm->pio)))
		return ret;
	return 0;
}

static int vm_setup_pci(struct vm *vm)
{
	struct acpi_config *acpi = &vm->acpi;
	const struct guest_mem_region *last = &vm->mem.regions[vm->mem.nr_regions - 1];
	uint64_t ram_end = last->gpa + last->size;
	struct pci_root_config pc = {
	    .ecam_base = VM_PCI_ECAM_BASE,
	    .io_base = VM_PCI_IO_BASE,
	    .io_size = VM_PCI_IO_SIZE,
	    .mem32_base = VM_PCI_MEM32_BASE,
	    .mem32_size = VM_PCI_MEM32_SIZE,
	    .mem64_base =
		ALIGN_UP(ram_end > GUEST_MEM_HIGH_START ? ram_end : GUEST_MEM_HIGH_START, GiB),
	    .mem64_size = VM_PCI_MEM64_SIZE,
	};
	int ret;

	if ((ret = pci_root_init(&vm->pci, &pc, &vm->irq)))
		return ret;
	vm->pci_ready = true;
	if ((ret = pci_root_attach(&vm->pci, &vm->pio, &vm->mmio)))
		return ret;
	acpi->pci_ecam_base = pc.ecam_base;
	acpi->pci_io_base = pc.io_base;
	acpi->pci_io_size = pc.io_size;
	acpi->pci_mem32_base = pc.mem32_base;
	acpi->pci_mem32_size = pc.mem32_size;
	acpi->pci_mem64_base = pc.mem64_base;
	acpi->pci_mem64_size = pc.mem64_size;
	return 0;
}

/*
 * Phase 1: read the kernel and initrd and check the kernel's format, so a
 * bad kernel is refused before any device is built (a vhost-user NIC waits
 * for its backend). vm_load_kernel places them in phase 3.
 */
static int vm_read_kernel(struct vm *vm)
{
	const char *why;
	struct stat st;
	int ret;

	if (stat(vm->cfg.kernel_path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size > vm->mem.size) {
		log_err("kernel %s (%lld bytes) does not fit in %llu MiB of guest RAM",
			vm->cfg.kernel_path, (long long)st.st_size,
			(unsigned long long)(vm->mem.size / MiB));
		return -E2BIG;
	}
	if ((ret = read_file(vm->cfg.kernel_path, vm->mem.size, &vm->kernel, &vm->kernel_size)))
		return ret;
	if (vm->cfg.initrd_path &&
	    (ret = read_file(vm->cfg.initrd_path, vm->mem.size, &vm->initrd, &vm->initrd_size)))
		return ret;
	if (boot_detect(vm->kernel, vm->kernel_size, &why) == BOOT_FMT_UNKNOWN) {
		/* The line boot_load would print. */
		log_err("cannot boot kernel image: %s", why);
		return -ENOEXEC;
	}
	return 0;
}

static void vm_free_kernel(struct vm *vm)
{
	free(vm->kernel);
	free(vm->initrd);
	vm->kernel = vm->initrd = NULL;
	vm->kernel_size = vm->initrd_size = 0;
}

static int vm_load_kernel(struct vm *vm, uint64_t rsdp)
{
	struct boot_input in = {
	    .kernel = vm->kernel,
	    .kernel_size = vm->kernel_size,
	    .initrd = vm->initrd,
	    .initrd_size = vm->initrd_size,
	    .cmdline = vm->cfg.cmdline,
	    .acpi_rsdp = rsdp,
	};
	int ret = boot_load(&vm->mem, &in, &vm->entry);

	if (ret == 0)
		log_debug("loaded %s as %s", vm->cfg.kernel_path,
			  boot_format_name(vm->entry.format));
	vm_free_kernel(vm);
	return ret;
}

static void vm_on_stop(void *opaque, int fd, uint32_t events)
{
	struct vm *vm = opaque;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("stop eventfd: %s", strerror(errno));
	evloop_stop(&vm->loop);
}

static void vm_on_signal(void *opaque, int fd, uint32_t events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	log_info("%s received, stopping the VM", strsignal((int)si.ssi_signo));
	vm->power.request_stop(&vm->power, VM_STOP_POWEROFF, 0);
}

static void vm_noop_signal(int sig)
{
	(void)sig;
}

/* SIGUSR1 kicks vCPUs out of KVM_RUN; SIGINT/SIGTERM/SIGHUP become events. */
static int vm_setup_signals(struct vm *vm)
{
	struct sigaction sa = {.sa_handler = vm_noop_signal};
	sigset_t set;
	int ret;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		return -errno;
	/* A closed serial output pipe must give EPIPE to the UART, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* Blocked before any vCPU thread exists, so only the signalfd sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	vm->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->signal_fd < 0) {
		ret = -errno;
		log_err("signalfd: %s", strerror(errno));
		return ret;
	}
	return evloop_add(&vm->loop, vm->signal_fd, EPOLLIN, vm_on_signal, vm);
}

static size_t vm_com1_receive(void *opaque, const uint8_t *buf, size_t len)
{
	return serial_receive(opaque, buf, len);
}

void vm_set_console_sink(struct vm *vm, const struct console_sink *sink)
{
	vm->console_sink = *sink;
	vm->console_stdin = true;
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->kvm_fd = vm->vm_fd = vm->stop_efd = vm->signal_fd = -1;
	vm->serial_out_fd = -1;
	vm->mem.fd = -1;
	vm->nr_vcpus = cfg->nr_cpus;
	vm->acpi.nr_cpus = cfg->nr_cpus;
	vm->power.request_stop = vm_request_stop;
	vm->irq.set_level = vm_irq_set_level;
	pthread_mutex_init(&vm->stop_lock, NULL);
	vm->loop.epfd = -1;

	if ((ret = bus_init(&vm->pio, "pio")) || (ret = bus_init(&vm->mmio, "mmio")))
		goto err;
	if ((ret = evloop_init(&vm->loop)))
		goto err;
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0) {
		ret = -errno;
		log_err("eventfd: %s", strerror(errno));
		goto err;
	}
	if ((ret = evloop_add(&vm->loop, vm->stop_efd, EPOLLIN, vm_on_stop, vm)))
		goto err;
	if ((ret = vm_open_kvm(vm)) || (ret = vm_create_kvm_vm(vm)))
		goto err;
	if ((ret = vm_setup_cpu_policy(vm)))
		goto err;
	if ((ret = vm_setup_memory(vm)))
		goto err;
	if ((ret = dma_space_identity_init(&vm->dma, &vm->mem)))
		goto err;
	if ((ret = gsi_router_init(&vm->gsi, vm->vm_fd)))
		goto err;
	if ((ret = vm_setup_devices(vm)))
		goto err;
	if ((ret = vm_setup_pci(vm)))
		goto err;
	if ((ret = vm_read_kernel(vm)))
		goto err;
	/*
	 * Signals now, not in vm_finalize: threads inherit the signal mask, and
	 * devices start worker threads in phase 2, which must not take SIGTERM.
	 */
	if ((ret = vm_setup_signals(vm)))
		goto err;
	/* COM1 takes stdin unless a device added in phase 2 claims it. */
	vm->console_sink = (struct console_sink){.receive = vm_com1_receive,
						 .opaque = &vm->com1,
						 .wake_fd = serial_rx_wake_fd(&vm->com1)};
	vm->console_stdin = cfg->serial == SERIAL_STDIO;
	return 0;
err:
	vm_destroy(vm);
	return ret;
}

int vm_finalize(struct vm *vm)
{
	uint64_t rsdp = 0;
	int ret;

	if (vm->finalized || !vm->kernel) {
		log_err("vm_finalize: the VM is not freshly created");
		return -EINVAL;
	}
	if ((ret = acpi_build(&vm->mem, &vm->acpi, &rsdp)))
		return ret;
	if ((ret = vm_load_kernel(vm, rsdp)))
		return ret;
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		log_err("out of memory for %u vCPUs", vm->nr_vcpus);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if ((ret = vcpu_create(&vm->vcpus[i], vm, i)))
			return ret;
	}
	if ((ret = vcpu_setup_boot(&vm->vcpus[0])))
		return ret;
	vm->finalized = true;
	return 0;
}

static int vm_exit_status(const struct vm *vm)
{
	switch (vm->stop_reason) {
	case VM_STOP_RESET:
	case VM_STOP_POWEROFF:
		return 0;
	case VM_STOP_DEBUG_EXIT:
		return (int)(((vm->stop_code << 1) | 1) & 0xff);
	case VM_STOP_CRASH:
		return VM_STATUS_GUEST_CRASH;
	case VM_STOP_NONE:
	case VM_STOP_ERROR:
		break;
	}
	return VM_STATUS_VMM_ERROR;
}

int vm_run(struct vm *vm)
{
	static const char *const why[] = {"none",	"reset", "power-off",
					  "debug-exit", "crash", "VMM error"};
	int ret;

	if (!vm->finalized) {
		log_err("vm_run: the VM was not finalized");
		return VM_STATUS_VMM_ERROR;
	}
	/* Here, not in vm_create: devices built after it may take stdin (vm_set_console_sink). */
	ret = console_init(&vm->console, &vm->console_sink, &vm->loop, &vm->power,
			   vm->console_stdin ? STDIN_FILENO : -1);
	for (unsigned i = 0; i < vm->nr_vcpus && ret == 0; i++)
		ret = vcpu_start(&vm->vcpus[i]);
	if (ret)
		vm->power.request_stop(&vm->power, VM_STOP_ERROR, 0);
	else if (evloop_run(&vm->loop))
		vm->power.request_stop(&vm->power, VM_STOP_ERROR, 0);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		vcpu_join(&vm->vcpus[i]);
		vcpu_report_stats(&vm->vcpus[i]);
	}
	if (vm->msr_ready)
		msr_policy_report(&vm->msr);
	log_debug("VM stopped: %s (code 0x%x)", why[vm->stop_reason], vm->stop_code);
	return vm_exit_status(vm);
}

void vm_destroy(struct vm *vm)
{
	console_destroy(&vm->console);
	if (vm->vcpus) {
		for (unsigned i = 0; i < vm->nr_vcpus; i++) {
			vcpu_join(&vm->vcpus[i]);
			if (vm->vcpus[i].fd >= 0)
				vcpu_destroy(&vm->vcpus[i]);
		}
		free(vm->vcpus);
		vm->vcpus = NULL;
	}
	if (vm->com1_ready) {
		serial_destroy(&vm->com1);
		i8042_destroy(&vm->i8042);
		rtc_destroy(&vm->rtc);
		acpi_pm_destroy(&vm->acpi_pm);
	}
	vm->com1_ready = false;
	if (vm->pci_ready)
		pci_root_destroy(&vm->pci);
	vm->pci_ready = false;
	if (vm->serial_out_fd > STDERR_FILENO)
		close(vm->serial_out_fd);
	if (vm->gsi.table)
		gsi_router_destroy(&vm->gsi);
	if (vm->msr_ready)
		msr_policy_destroy(&vm->msr);
	vm->msr_ready = false;
	free(vm->cpuid);
	vm->cpuid = NULL;
	vm_free_kernel(vm);
	cpu_policy_config_free(&vm->cpu_cfg);
	dma_space_destroy(&vm->dma);
	guest_mem_destroy(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->signal_fd >= 0)
		close(vm->signal_fd);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	evloop_destroy(&vm->loop);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	pthread_mutex_destroy(&vm->stop_lock);
	vm->vm_fd = vm->kvm_fd = -1;
}
