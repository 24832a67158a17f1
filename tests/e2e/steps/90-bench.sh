# SPDX-License-Identifier: MIT
# budget: 900
# Boot time of the same L2 kernel (bzImage) + initramfs under sluice and
# under QEMU (-enable-kvm), measured from outside the L2 (its clock jumps):
# launch -> "L2 INIT" on the serial console -> VMM exit. RUNS runs of each,
# interleaved, both VMMs on the virtual host's defaults (THP settings as the
# Debian kernel boots: enabled=always, shmem_enabled=never; the step checks
# it leaves them as it found them), for:
#   default: each VMM's default RAM (sluice: private anonymous memory, QEMU:
#            anonymous memory, both MADV_HUGEPAGE)
#   vmlinux: the same kernel uncompressed (/l2/vmlinux, ELF with a PVH note,
#            entered in 32-bit mode by both VMMs): the guest skips its own
#            decompression, which dominates a bzImage boot here
#   mem:     a memory-bound L2 workload (l2=mem in l2-init, the vmlinux
#            kernel, 512 MiB, l2.cpio + stress-ng): stress-ng's vm stressor
#            maps 128 MiB and writes it 4 times (the first pass page-faults
#            it in), timed between its console lines; "cold" on memory the
#            L2 has not touched yet, then "warm" once more in the same boot
#   hugetlb: both VMMs on 2 MiB hugetlbfs pages (opt-in: e2e_bench_hugetlb=1)
#   shared:  sluice with --memory shared=on (a memfd, no THP on this host's
#            shmem_enabled=never: what sluice's default was before), boot and
#            memory rows, against sluice's default (opt-in: e2e_bench_shared=1)
# First, once: sluice's default guest RAM is private anonymous memory with
# transparent huge pages here (/proc/PID/smaps of a running sluice, result
# "backing").
# Knobs (virtual-host kernel arguments): e2e_bench_runs=N (3), e2e_bench_rows=
# boot,mem (both: the default and vmlinux boot rows, the memory rows).
need_kvm
RUNS=$(e2e_arg e2e_bench_runs)
RUNS=${RUNS:-3}
ROWS=$(e2e_arg e2e_bench_rows)
ROWS=${ROWS:-boot,mem}
row() { case ",$ROWS," in *",$1,"*) return 0 ;; esac; return 1; }
APPEND="console=ttyS0 quiet panic=-1 l2=bench"
MEM_APPEND="console=ttyS0 quiet panic=-1 l2=mem l2memmib=128 l2mempasses=4"
SLUICE_ARGS="--initrd /l2/initrd.cpio --cpus 2 --cmdline"
QEMU_BASE="-enable-kvm -cpu host -machine q35 -smp 2 -nodefaults
	-display none -serial stdio -no-reboot -L /usr/share/qemu"
QEMU_ARGS="$QEMU_BASE -m 256M -initrd /l2/initrd.cpio"
SLUICE="sluice run --kernel /l2/vmlinuz $SLUICE_ARGS"
QEMU="qemu-system-x86_64 -kernel /l2/vmlinuz $QEMU_ARGS"
MEM_INITRD=/tmp/l2-mem.cpio
SLUICE_MEM="sluice run --kernel /l2/vmlinux --initrd $MEM_INITRD --cpus 2 --cmdline"
QEMU_MEM="qemu-system-x86_64 -kernel /l2/vmlinux $QEMU_BASE -m 512M -initrd $MEM_INITRD"

# timed NAME CMD...: runs CMD, watches its console, records init and exit times.
timed() {
	name=$1
	shift
	rm -f /tmp/bench.init
	start=$(uptime_s)
	# A boot that hangs is cut off, and then fails for not reaching /init.
	timeout -s KILL 120 "$@" </dev/null 2>/tmp/bench.err | while IFS= read -r line; do
		case $line in
		"L2 INIT"*) uptime_s >/tmp/bench.init ;;
		esac
	done
	end=$(uptime_s)
	if ! [ -s /tmp/bench.init ]; then
		cat /tmp/bench.err
		echo "$name: L2 did not reach /init" >/tmp/run.why
		return 1
	fi
	init=$(awk "BEGIN { printf \"%.2f\", $(cat /tmp/bench.init) - $start }")
	total=$(awk "BEGIN { printf \"%.2f\", $end - $start }")
	echo "$init $total" >>/tmp/bench.$name
	echo "$name: init ${init}s exit ${total}s"
}

# memtimed NAME CMD...: one L2 boot running l2=mem; records the cold and warm
# workload seconds, timed by the arrival of its console lines.
memtimed() {
	name=$1
	shift
	stamped /tmp/mem.out "$@"
	for p in cold warm; do
		b=$(stamp_of /tmp/mem.out "L2 MEM BEGIN $p")
		e=$(stamp_of /tmp/mem.out "L2 MEM END $p rc=0")
		if [ -z "$b" ] || [ -z "$e" ]; then
			grep "L2 \|stress-ng" /tmp/mem.out | tail -n 8
			tail -n 3 /tmp/mem.out.err
			echo "$name: the $p memory workload did not complete (exit $(cat /tmp/mem.out.rc))" >/tmp/run.why
			return 1
		fi
		eval "t_$p=$(awk "BEGIN { printf \"%.2f\", $e - $b }")"
	done
	echo "$t_cold $t_warm" >>/tmp/bench.$name
	echo "$name: cold ${t_cold}s warm ${t_warm}s; L2's own: $(sed -n 's/.*L2 MEM END \([a-z]*\) rc=0 .*l2secs=\([0-9.]*\).*thp_faults=\([0-9]*\).*/\1 \2s (\3 THP faults)/p' /tmp/mem.out | paste -sd' '); $(grep -o 'L2 MEM INFO.*' /tmp/mem.out)"
}

median() { sort -n -k "$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
report() { # SETUP
	s=/tmp/bench.sluice_$1
	q=/tmp/bench.qemu_$1
	result "$1_sluice" "init=$(median $s 1)s exit=$(median $s 2)s"
	result "$1_qemu" "init=$(median $q 1)s exit=$(median $q 2)s"
	result "$1_ratio_exit" "$(ratio "$(median $s 2)" "$(median $q 2)")"
	result "$1_ratio_init" "$(ratio "$(median $s 1)" "$(median $q 1)")"
}
# report_mem A B KEY: medians of A and B's cold and warm seconds, ratios A/B
# (of the medians, and the median of the per-run ratios).
report_mem() {
	a=/tmp/bench.$1
	b=/tmp/bench.$2
	result "$3" "cold=$(median $a 1)s/$(median $b 1)s warm=$(median $a 2)s/$(median $b 2)s"
	result "$3_ratio_cold" "$(ratio "$(median $a 1)" "$(median $b 1)") pairs=$(pair_ratio $a $b 1)"
	result "$3_ratio_warm" "$(ratio "$(median $a 2)" "$(median $b 2)") pairs=$(pair_ratio $a $b 2)"
}

# The host's THP settings: both VMMs run on them as they are.
thp_state() {
	for f in enabled defrag shmem_enabled; do
		printf '%s=%s ' $f "$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/$f)"
	done
}
thp_before=$(thp_state)
result host_thp "$(echo $thp_before | tr ' ' ',')"

# What backs sluice's default guest RAM on this host: private anonymous
# memory, which the kernel gives transparent huge pages (enabled=always or
# madvise) whatever shmem_enabled says. Seen in /proc/PID/smaps while an L2
# (l2=checks: it waits for a console line) runs; then the line lets it go.
check_backing() {
	rm -f /tmp/backing.in
	mkfifo /tmp/backing.in
	sluice run --kernel /l2/vmlinux $SLUICE_ARGS "console=ttyS0 quiet panic=-1 l2=checks" \
		--memory 256M </tmp/backing.in >/tmp/backing.out 2>&1 &
	pid=$!
	exec 3>/tmp/backing.in
	i=0
	until grep -q "L2 READY" /tmp/backing.out || [ $i -ge 600 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	if ! grep -q "L2 READY" /tmp/backing.out; then
		kill $pid
		tail -n 5 /tmp/backing.out
		fail "backing: the L2 did not come up"
	fi
	vma=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { if (size == 262144) printf "%s", buf; buf = ""; size = -1 }
		/^Size:/ { size = $2 } { buf = buf $0 "\n" }
		END { if (size == 262144) printf "%s", buf }' /proc/$pid/smaps 2>/dev/null)
	echo "back" >&3
	exec 3>&-
	wait $pid
	rc=$?
	[ $rc = 0 ] || fail "backing: sluice exited $rc"
	echo "$vma" | grep -E '^[0-9a-f]+-|^(Rss|AnonHugePages|THPeligible|VmFlags):'
	[ "$(echo "$vma" | grep -c '^[0-9a-f]*-[0-9a-f]* ')" = 1 ] || fail "backing: no single 256 MiB guest RAM mapping"
	echo "$vma" | head -n 1 | grep -q ' rw-p ' || fail "backing: guest RAM is not private"
	echo "$vma" | head -n 1 | grep -q memfd && fail "backing: guest RAM is a memfd"
	echo "$vma" | grep -q '^VmFlags:.* hg' || fail "backing: guest RAM is not MADV_HUGEPAGE"
	ahp=$(echo "$vma" | sed -n 's/^AnonHugePages: *\([0-9]*\).*/\1/p')
	rss=$(echo "$vma" | sed -n 's/^Rss: *\([0-9]*\).*/\1/p')
	result backing "anonymous Rss=${rss}kB AnonHugePages=${ahp}kB"
	case $thp_before in
	"enabled=always "* | "enabled=madvise "*)
		[ "${ahp:-0}" -gt 0 ] || fail "backing: no transparent huge pages in sluice's guest RAM" ;;
	esac
}

rm -f /tmp/bench.*
check_backing
[ -f /l2/stress.cpio ] || fail "no /l2/stress.cpio: stress-ng was missing when the initramfs was built (apt-get install stress-ng)"
cat /l2/initrd.cpio /l2/stress.cpio >$MEM_INITRD
SHARED=$(e2e_arg e2e_bench_shared)
for i in $(seq $RUNS); do
	if row boot; then
		twice timed sluice_default $SLUICE "$APPEND" --memory 256M
		twice timed qemu_default $QEMU -append "$APPEND"
		if [ "$SHARED" = 1 ]; then
			twice timed sluice_shared $SLUICE "$APPEND" --memory size=256M,shared=on
		fi
		twice timed sluice_vmlinux sluice run --kernel /l2/vmlinux $SLUICE_ARGS "$APPEND" --memory 256M
		twice timed qemu_vmlinux qemu-system-x86_64 -kernel /l2/vmlinux $QEMU_ARGS -append "$APPEND"
	fi
	if row mem; then
		twice memtimed sluice_mem $SLUICE_MEM "$MEM_APPEND" --memory 512M
		twice memtimed qemu_mem $QEMU_MEM -append "$MEM_APPEND"
		if [ "$SHARED" = 1 ]; then
			twice memtimed sluice_shared_mem $SLUICE_MEM "$MEM_APPEND" --memory size=512M,shared=on
		fi
	fi
done
rm -f $MEM_INITRD

# The hugetlbfs rows are opt-in (E2E_APPEND=e2e_bench_hugetlb=1): every extra
# nested boot is another chance for TCG to wedge the virtual host.
if [ "$(e2e_arg e2e_bench_hugetlb)" = 1 ]; then
	echo 140 >/proc/sys/vm/nr_hugepages
	[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 130 ] || fail "could not reserve huge pages"
	for i in $(seq $RUNS); do
		twice timed sluice_hugetlb $SLUICE "$APPEND" --memory size=256M,hugepages=on
		twice timed qemu_hugetlb $QEMU -mem-path /dev/hugepages -append "$APPEND"
	done
	echo 0 >/proc/sys/vm/nr_hugepages
fi
if row boot; then
	report default
	report vmlinux
fi
if row mem; then
	report_mem sluice_mem qemu_mem mem
fi
if [ -f /tmp/bench.sluice_hugetlb ]; then
	report hugetlb
fi
if [ "$SHARED" = 1 ] && row boot; then
	s=/tmp/bench.sluice_shared
	result shared_sluice "init=$(median $s 1)s exit=$(median $s 2)s"
	result shared_vs_default_exit "$(ratio "$(median $s 2)" "$(median /tmp/bench.sluice_default 2)")"
fi
if [ "$SHARED" = 1 ] && row mem; then
	report_mem sluice_shared_mem sluice_mem shared_vs_default_mem
fi
[ "$(thp_state)" = "$thp_before" ] ||
	fail "the host's THP settings changed during the step: $thp_before-> $(thp_state)"
