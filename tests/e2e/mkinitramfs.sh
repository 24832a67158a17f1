#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the two initramfs images of the virtual-host suite:
#   $OUT/l2.cpio  the L2 guest's: busybox + tests/e2e/l2-init + the virtio
#                 modules (/lib/modules/l2/NN-name.ko, in load order: l2mods=1)
#   $OUT/l1.cpio  the virtual host's: busybox, the kernel modules the steps
#                 need (dependency closure resolved by kmod for the installed
#                 kernel), sluice and its test guests, sluice-vswitch, QEMU (the L1 peer VMM
#                 for the benchmark), the L2 kernel + l2.cpio, the steps.
#   $OUT/l2-stress.cpio  stress-ng and its shared libraries: the bench step's
#                 memory-bound row boots l2.cpio with it appended (the kernel
#                 unpacks concatenated archives), the other L2 boots go
#                 without its ~30 MiB
# usage: mkinitramfs.sh OUTDIR BUILDDIR KVER
set -euo pipefail
OUT=$1 BUILD=$2 KVER=$3
SRC=$(cd "$(dirname "$0")" && pwd)
MODULES="kvm kvm_amd irqbypass vfio vfio_iommu_type1 vfio_pci nvme pci_stub"
L2_MODULES="virtio_pci virtio_rng virtio_blk"
# ext4 for the ext4 step, virtio_net for the net steps; tun (TAP) and vhost_net
# (the QEMU vhost=on row) in the virtual host.
L2_MODULES="$L2_MODULES ext4 virtio_net"
# virtio_console for the vconsole step (hvc0)
L2_MODULES="$L2_MODULES virtio_console"
MODULES="$MODULES tun vhost_net"

copy_with_libs() { # ROOT BINARY [DEST]
	local root=$1 bin=$2 dst=${3:-$2} lib
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$bin" "$root$dst"
	for lib in $(ldd "$bin" 2>/dev/null | awk '/=>/ {print $3} /^\t\/lib/ {print $1}'); do
		[ -f "$lib" ] || continue
		mkdir -p "$root$(dirname "$lib")"
		cp -Ln "$lib" "$root$lib"
	done
}

busybox_root() { # ROOT
	mkdir -p "$1"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,root}
	cp /bin/busybox "$1/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ -e "$1/bin/$a" ] || ln -s busybox "$1/bin/$a"
	done
}

# extract_vmlinux BZIMAGE OUT: the setup header says where the compressed
# kernel is (payload_offset at 0x248, payload_length at 0x24c, protocol 2.08+).
extract_vmlinux() {
	local img=$1 out=$2 sects off len magic
	sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$img" | tr -d ' ')
	[ "$sects" = 0 ] && sects=4
	off=$(od -An -tu4 -j $((0x248)) -N4 "$img" | tr -d ' ')
	len=$(od -An -tu4 -j $((0x24c)) -N4 "$img" | tr -d ' ')
	off=$(((sects + 1) * 512 + off))
	len=$((len - 4)) # kbuild appends the uncompressed size to the stream
	magic=$(od -An -tx1 -j "$off" -N4 "$img" | tr -d ' ')
	payload() { dd if="$img" iflag=skip_bytes,count_bytes skip="$off" count="$len" bs=1M status=none; }
	case $magic in
	fd377a58) payload | xz -dc >"$out" ;;
	1f8b*) payload | gzip -dc >"$out" ;;
	28b52ffd) payload | zstd -dc >"$out" ;;
	*) echo "mkinitramfs: unknown kernel payload compression (magic $magic)" >&2; return 1 ;;
	esac
	[ "$(od -An -c -N4 "$out" | tr -d ' ')" = '177ELF' ] || { echo "mkinitramfs: payload is not ELF" >&2; return 1; }
}

cpio_of() { # ROOT FILE
	(cd "$1" && find . -print0 | cpio --null -o -H newc --quiet) >"$2"
}

rm -rf "$OUT/l1root" "$OUT/l2root" "$OUT/l2stress"
mkdir -p "$OUT"

# --- L2 ---
R2=$OUT/l2root
busybox_root "$R2"
cp "$SRC/l2-init" "$R2/init"
chmod +x "$R2/init"
# The L2 kernel is the same Debian kernel; its virtio drivers are modules.
# No modprobe/depmod in L2: l2-init insmods the files in name order.
mkdir -p "$R2/lib/modules/l2"
n=10
for m in $L2_MODULES; do
	modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r f; do
	cp "$f" "$R2/lib/modules/l2/$n-$(basename "$f")"
	n=$((n + 1))
done
# static tools (tests/e2e/tools): 4 KiB O_DIRECT random reads, bulk TCP transfers
cp "$BUILD/tests/e2e/randread" "$BUILD/tests/e2e/tcpxfer" "$R2/bin/"
cpio_of "$R2" "$OUT/l2.cpio"
# stress-ng (Debian's) for l2=mem, with what ldd says it loads
if STRESS=$(command -v stress-ng); then
	copy_with_libs "$OUT/l2stress" "$STRESS" /usr/bin/stress-ng
	cpio_of "$OUT/l2stress" "$OUT/l2-stress.cpio"
else
	echo "mkinitramfs: no stress-ng (apt-get install stress-ng): the bench step's memory row fails" >&2
	rm -f "$OUT/l2-stress.cpio"
fi

# --- L1 ---
R1=$OUT/l1root
busybox_root "$R1"
mkdir -p "$R1/lib/modules/$KVER"
for m in $MODULES; do
	modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r f; do
	rel=${f#/lib/modules/$KVER/}
	mkdir -p "$R1/lib/modules/$KVER/$(dirname "$rel")"
	cp "$f" "$R1/lib/modules/$KVER/$rel"
done
cp /lib/modules/"$KVER"/modules.{order,builtin,builtin.modinfo} "$R1/lib/modules/$KVER/" 2>/dev/null || true
depmod -b "$R1" "$KVER"

# sluice and its test guests
copy_with_libs "$R1" "$BUILD/sluice" /usr/bin/sluice
mkdir -p "$R1/guests"
cp "$BUILD"/tests/guests/*.bin "$BUILD"/tests/guests/*.bzImage "$R1/guests/"

# PCI and NVMe tools for the device steps
copy_with_libs "$R1" /usr/bin/lspci
copy_with_libs "$R1" /usr/sbin/nvme
mkdir -p "$R1/usr/share/misc" "$R1/etc/nvme"
cp -L /usr/share/misc/pci.ids "$R1/usr/share/misc/" 2>/dev/null || true

# ext4 images (mke2fs) and reading them from outside the guest (debugfs,
# e2fsck); iproute2 for TAP devices (busybox ip has no tuntap); tcpxfer
for b in mke2fs debugfs e2fsck; do copy_with_libs "$R1" "/usr/sbin/$b" "/usr/sbin/$b"; done
cp -L /etc/mke2fs.conf "$R1/etc/"
copy_with_libs "$R1" "$(command -v ip)" /usr/sbin/ip
cp "$BUILD/tests/e2e/tcpxfer" "$R1/usr/bin/"

# sluice-vswitch (the vswitch step) when the build has it: its DPDK libraries
# (ldd), and of the PMD plugins the EAL loads at run time only the ring
# mempool driver its mbuf pool needs, in the EAL's default plugin directory
# (loaded without -d; the directory holds nothing else).
VSW=$BUILD/vhost-user/vswitch/sluice-vswitch
if [ -x "$VSW" ]; then
	copy_with_libs "$R1" "$VSW" /usr/bin/sluice-vswitch
	pmd=$(ls -d /usr/lib/x86_64-linux-gnu/dpdk/pmds-* | tail -n 1)
	# the real file (.so.MAJOR.MINOR): the EAL skips other names in the directory
	copy_with_libs "$R1" "$(readlink -f "$pmd/librte_mempool_ring.so")"
fi

# QEMU as the peer VMM inside the virtual host, with the firmware it loads
copy_with_libs "$R1" "$(command -v qemu-system-x86_64)" /usr/bin/qemu-system-x86_64
mkdir -p "$R1/usr/share/qemu"
for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/linuxboot_dma.bin \
	/usr/share/qemu/kvmvapic.bin /usr/share/qemu/pvh.bin; do
	cp -L "$f" "$R1/usr/share/qemu/"
done

# meson's integration tests for the integration step: it-manifest.py lists
# them from meson's own test definitions (scripts, guests, /it/manifest) and
# names their interpreter (bash). The tools they use that busybox lacks or
# does differently go in /it/bin, first in that step's PATH only: util-linux
# flock/setpriv/unshare, procps pgrep, iproute2 ip (netns), coreutils timeout
# (its command is its child, as vdrv_vhost_user.sh's pgrep -P expects);
# dpdk-testpmd with the net_vhost and ring mempool PMDs (in the EAL's plugin
# directory) for vdrv_vhost_user.
python3 "$SRC/it-manifest.py" "$BUILD" "$R1" | while read -r interp; do
	copy_with_libs "$R1" "$interp"
done
for b in flock setpriv unshare pgrep ip timeout; do
	copy_with_libs "$R1" "$(command -v "$b")" "/it/bin/$b"
done
if TESTPMD=$(command -v dpdk-testpmd); then
	copy_with_libs "$R1" "$TESTPMD" /it/bin/dpdk-testpmd
	pmd=$(ls -d /usr/lib/x86_64-linux-gnu/dpdk/pmds-* | tail -n 1)
	for p in net_vhost mempool_ring; do copy_with_libs "$R1" "$(readlink -f "$pmd/librte_$p.so")"; done
fi

# the L2 guest: the same kernel as the virtual host, and its initramfs
mkdir -p "$R1/l2"
cp "/boot/vmlinuz-$KVER" "$R1/l2/vmlinuz"
cp "$OUT/l2.cpio" "$R1/l2/initrd.cpio"
if [ -f "$OUT/l2-stress.cpio" ]; then cp "$OUT/l2-stress.cpio" "$R1/l2/stress.cpio"; fi
# ... and the same kernel uncompressed (an ELF vmlinux with a PVH note), cut
# out of the bzImage's payload: the bench step boots it under both VMMs.
extract_vmlinux "/boot/vmlinuz-$KVER" "$R1/l2/vmlinux"

cp "$SRC/l1-init" "$R1/init"
chmod +x "$R1/init"
mkdir -p "$R1/steps"
cp "$SRC"/steps/*.sh "$R1/steps/"
cpio_of "$R1" "$OUT/l1.cpio"
echo "initramfs: l1 $(($(stat -c %s "$OUT/l1.cpio") >> 20)) MiB, l2 $(($(stat -c %s "$OUT/l2.cpio") >> 10)) KiB, kernel $KVER"
