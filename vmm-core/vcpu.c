/* SPDX-License-Identifier: MIT */
#include "vcpu.h"
#include "boot/boot.h"
#include "cpuid.h"
#include "log.h"
#include "msr.h"
#include "pgwalk.h"
#include "vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define APIC_LVT_LINT0	 0x350
#define APIC_LVT_LINT1	 0x360
#define APIC_MODE_NMI	 0x4
#define APIC_MODE_EXTINT 0x7

static void lapic_set_lvt_mode(struct kvm_lapic_state *l, unsigned reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], 4);
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&l->regs[reg], &v, 4);
}

/* LINT0 = ExtINT (the PIC), LINT1 = NMI: what firmware leaves for a PC OS. */
static int vcpu_setup_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state l;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &l) < 0)
		goto err;
	lapic_set_lvt_mode(&l, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lapic_set_lvt_mode(&l, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &l) < 0)
		goto err;
	return 0;
err:
	log_err("vCPU %u: LAPIC setup failed: %s", vcpu->index, strerror(errno));
	return -errno;
}

#define MSR_MTRR_DEF_TYPE   0x2ff
#define MTRR_DEF_TYPE_E	    (1u << 11)
#define MTRR_TYPE_WRITEBACK 6

/*
 * Firmware leaves MTRRs enabled with write-back as the default type. KVM's
 * reset value is "disabled", which a guest reads as all memory uncached;
 * KVM honours guest MTRRs once a device without snooping (VFIO) is
 * attached, so the default matters for passthrough performance.
 */
static int vcpu_setup_msrs(struct vcpu *vcpu)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + sizeof(m->entries[0]));
	int ret = 0;

	if (!m)
		return -ENOMEM;
	m->nmsrs = 1;
	m->entries[0].index = MSR_MTRR_DEF_TYPE;
	m->entries[0].data = MTRR_DEF_TYPE_E | MTRR_TYPE_WRITEBACK;
	if (ioctl(vcpu->fd, KVM_SET_MSRS, m) != 1) {
		log_err("vCPU %u: cannot set the MTRR default type", vcpu->index);
		ret = -EIO;
	}
	free(m);
	return ret;
}

/*
 * On a host that runs under QEMU's TCG, XCR0 starts with every XSAVE
 * component the vCPU's CPUID advertises instead of the architectural
 * x87-only value. TCG before QEMU 8.2 runs a guest's XSETBV without giving
 * KVM the SVM intercept (the virtual host of tests/e2e is such a host): KVM
 * then never learns the guest's XCR0, reloads its own on every VM entry and
 * sizes CPUID 0xD.0 EBX for it, and Linux, finding the sizes inconsistent,
 * disables XSAVE and with it AVX. Starting from the value an OS sets makes
 * the two agree. On hardware XSETBV always traps, so vCPUs keep the reset
 * value there. KVM checks XCR0 against the CPUID table, so this follows
 * KVM_SET_CPUID2.
 */
static int vcpu_setup_xcr0(struct vcpu *vcpu, const struct kvm_cpuid2 *cpuid)
{
	struct kvm_xcrs xcrs;

	memset(&xcrs, 0, sizeof(xcrs));
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = cpuid_guest_xcr0(cpuid);
	if (xcrs.xcrs[0].value == CPUID_XCR0_X87)
		return 0; /* the reset value: nothing to set */
	if (ioctl(vcpu->fd, KVM_SET_XCRS, &xcrs) < 0) {
		int err = errno;

		/* EINVAL: a policy file advertises components KVM cannot give. */
		log_err("vCPU %u: KVM_SET_XCRS XCR0=0x%llx failed: %s", vcpu->index,
			(unsigned long long)xcrs.xcrs[0].value, strerror(err));
		return -err;
	}
	return 0;
}

int vcpu_create(struct vcpu *vcpu, struct vm *vm, unsigned index)
{
	struct kvm_cpuid2 *cpuid = NULL;
	int ret;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (vcpu->fd < 0) {
		ret = -errno;
		log_err("KVM_CREATE_VCPU %u failed: %s", index, strerror(errno));
		return ret;
	}
	vcpu->run =
	    mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		vcpu->run = NULL;
		log_err("vCPU %u: cannot map kvm_run: %s", index, strerror(errno));
		goto err;
	}
	ret = cpuid_policy_for_vcpu(vm->cpuid, index, vm->nr_vcpus, &cpuid);
	if (ret)
		goto err;
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0) {
		ret = -errno;
		log_err("vCPU %u: KVM_SET_CPUID2 failed: %s", index, strerror(errno));
		goto err;
	}
	if (vm->xcr0_preset && (ret = vcpu_setup_xcr0(vcpu, cpuid)))
		goto err;
	ret = vcpu_setup_lapic(vcpu);
	if (ret)
		goto err;
	ret = vcpu_setup_msrs(vcpu);
	if (ret)
		goto err;
	free(cpuid);
	return 0;
err:
	free(cpuid);
	vcpu_destroy(vcpu);
	return ret;
}

int vcpu_setup_boot(struct vcpu *vcpu)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		goto err;
	memset(&regs, 0, sizeof(regs));
	boot_entry_to_regs(&vcpu->vm->entry, &regs, &sregs);
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		goto err;
	/* x87 and SSE in their power-on state, as firmware leaves them. */
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		goto err;
	return 0;
err:
	log_err("vCPU %u: cannot set boot registers: %s", vcpu->index, strerror(errno));
	return -errno;
}

static void vcpu_stop_vm(struct vcpu *vcpu, enum vm_stop_reason reason)
{
	vcpu->vm->power.request_stop(&vcpu->vm->power, reason, 0);
}

static int vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct bus *bus = &vcpu->vm->pio;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint64_t span = (uint64_t)run->io.size * run->io.count;

	vcpu->stats.pio++;
	if (run->io.port < VCPU_STATS_PORTS)
		vcpu->stats.port[run->io.port]++;
	if (run->io.size == 0 || run->io.size > 4 ||
	    run->io.data_offset > (uint64_t)vcpu->vm->run_size ||
	    span > (uint64_t)vcpu->vm->run_size - run->io.data_offset) {
		log_err("vCPU %u: malformed PIO exit (size %u count %u)", vcpu->index, run->io.size,
			run->io.count);
		return -EIO;
	}
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		bool ok;
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			ok = bus_write(bus, run->io.port, data, run->io.size);
		} else {
			ok = bus_read(bus, run->io.port, data, run->io.size);
			if (!ok)
				memset(data, 0xff, run->io.size);
		}
		if (!ok) {
			vcpu->stats.unhandled_pio++;
			log_debug("vCPU %u: unclaimed PIO %s port 0x%x size %u", vcpu->index,
				  run->io.direction == KVM_EXIT_IO_OUT ? "write" : "read",
				  run->io.port, run->io.size);
		}
	}
	return 0;
}

static void vcpu_handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len =
	    run->mmio.len > sizeof(run->mmio.data) ? sizeof(run->mmio.data) : run->mmio.len;
	bool ok;

	vcpu->stats.mmio++;
	if (run->mmio.is_write) {
		ok = bus_write(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	} else {
		ok = bus_read(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
		if (!ok)
			memset(run->mmio.data, 0xff, len);
	}
	if (!ok) {
		vcpu->stats.unhandled_mmio++;
		log_debug("vCPU %u: unclaimed MMIO %s 0x%llx len %u", vcpu->index,
			  run->mmio.is_write ? "write" : "read",
			  (unsigned long long)run->mmio.phys_addr, len);
	}
}

static void vcpu_handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vcpu_stop_vm(vcpu, VM_STOP_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vcpu_stop_vm(vcpu, VM_STOP_RESET);
		break;
	default:
		log_err("vCPU %u: guest reported a crash (system event %u)", vcpu->index,
			vcpu->run->system_event.type);
		vcpu_dump(vcpu);
		vcpu_stop_vm(vcpu, VM_STOP_CRASH);
		break;
	}
}

/* Returns false when the thread should leave its loop. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	vcpu->stats.exits++;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (vcpu_handle_io(vcpu)) {
			vcpu_stop_vm(vcpu, VM_STOP_ERROR);
			return false;
		}
		return true;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(vcpu);
		return true;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		vcpu->stats.msr++;
		msr_policy_handle_exit(&vcpu->vm->msr, run, vcpu->index);
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_handle_system_event(vcpu);
		return false;
	case KVM_EXIT_SHUTDOWN:
		log_err("vCPU %u: triple fault (KVM_EXIT_SHUTDOWN)", vcpu->index);
		vcpu_dump(vcpu);
		vcpu_stop_vm(vcpu, VM_STOP_CRASH);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		log_err("vCPU %u: KVM internal error, suberror %u", vcpu->index,
			run->internal.suberror);
		vcpu_dump(vcpu);
		vcpu_stop_vm(vcpu, VM_STOP_CRASH);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		log_err("vCPU %u: VM entry failed, hardware reason 0x%llx", vcpu->index,
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vcpu_dump(vcpu);
		vcpu_stop_vm(vcpu, VM_STOP_CRASH);
		return false;
	default:
		log_err("vCPU %u: unexpected KVM exit reason %u", vcpu->index, run->exit_reason);
		vcpu_dump(vcpu);
		vcpu_stop_vm(vcpu, VM_STOP_ERROR);
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->index);
	pthread_setname_np(pthread_self(), name);
	while (!atomic_load(&vcpu->vm->stopping)) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu->run->immediate_exit = 0;
				continue;
			}
			log_err("vCPU %u: KVM_RUN failed: %s", vcpu->index, strerror(errno));
			vcpu_stop_vm(vcpu, VM_STOP_ERROR);
			break;
		}
		if (!vcpu_handle_exit(vcpu))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);

	if (ret) {
		log_err("vCPU %u: cannot start thread: %s", vcpu->index, strerror(ret));
		return -ret;
	}
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	/* immediate_exit covers the window before the thread enters KVM_RUN;
	 * the signal interrupts a KVM_RUN already in progress. */
	vcpu->run->immediate_exit = 1;
	pthread_kill(vcpu->thread, SIGUSR1);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (vcpu->started)
		pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

void vcpu_report_stats(const struct vcpu *vcpu)
{
	const struct vcpu_stats *st = &vcpu->stats;
	char top[256] = "";
	size_t len = 0;
	uint64_t floor = UINT64_MAX;

	if (!log_debug_enabled())
		return;
	/* The eight busiest ports, busiest first. */
	for (int k = 0; k < 8; k++) {
		uint64_t best = 0;
		unsigned port = 0;
		for (unsigned p = 0; p < VCPU_STATS_PORTS; p++) {
			if (st->port[p] > best && st->port[p] < floor) {
				best = st->port[p];
				port = p;
			}
		}
		if (!best)
			break;
		len += (size_t)snprintf(top + len, sizeof(top) - len, " 0x%x:%llu", port,
					(unsigned long long)best);
		floor = best;
		if (len >= sizeof(top))
			break;
	}
	log_debug("vCPU %u: %llu exits: %llu pio (%llu unclaimed), %llu mmio (%llu unclaimed), "
		  "%llu msr; busiest ports%s",
		  vcpu->index, (unsigned long long)st->exits, (unsigned long long)st->pio,
		  (unsigned long long)st->unhandled_pio, (unsigned long long)st->mmio,
		  (unsigned long long)st->unhandled_mmio, (unsigned long long)st->msr, top);
}

static void dump_seg(const char *n, const struct kvm_segment *s)
{
	fprintf(stderr, "  %-3s sel %04x base %016llx limit %08x type %x dpl %u db %u l %u p %u\n",
		n, s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl, s->db, s->l,
		s->present);
}

void vcpu_dump(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct pgwalk_cpu cpu;
	uint8_t code[16];

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		log_err("vCPU %u: cannot read registers: %s", vcpu->index, strerror(errno));
		return;
	}
	fprintf(stderr,
		"vCPU %u registers:\n"
		"  RIP %016llx RSP %016llx RFLAGS %016llx\n"
		"  RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n"
		"  RSI %016llx RDI %016llx RBP %016llx\n"
		"  R8  %016llx R9  %016llx R10 %016llx R11 %016llx\n"
		"  R12 %016llx R13 %016llx R14 %016llx R15 %016llx\n"
		"  CR0 %016llx CR2 %016llx CR3 %016llx CR4 %016llx EFER %016llx\n",
		vcpu->index, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
		r.rbp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, s.cr0, s.cr2, s.cr3,
		s.cr4, s.efer);
	dump_seg("CS", &s.cs);
	dump_seg("SS", &s.ss);
	dump_seg("DS", &s.ds);
	fprintf(stderr, "  GDT %016llx/%04x IDT %016llx/%04x\n", s.gdt.base, s.gdt.limit,
		s.idt.base, s.idt.limit);
	/* The code at RIP, read through the guest's own page tables. */
	cpu = (struct pgwalk_cpu){.cr0 = s.cr0, .cr3 = s.cr3, .cr4 = s.cr4, .efer = s.efer};
	if (pgwalk_read(&vcpu->vm->mem, &cpu, s.cs.base + r.rip, code, sizeof(code)) == 0) {
		fprintf(stderr, "  code at RIP:");
		for (unsigned i = 0; i < sizeof(code); i++)
			fprintf(stderr, " %02x", code[i]);
		fprintf(stderr, "\n");
	} else {
		fprintf(stderr, "  code at RIP: not mapped to guest RAM\n");
	}
}
