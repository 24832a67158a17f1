# SPDX-License-Identifier: MIT
# budget: 30
# The virtual host has what the VFIO and SR-IOV steps will need: IOMMU
# groups, QEMU's edu device and an SR-IOV capable NVMe controller.
ls /sys/kernel/iommu_groups/ | grep -q . || fail "no IOMMU groups (is the emulated IOMMU on?)"
result iommu_groups "$(ls /sys/kernel/iommu_groups | wc -l)"
edu=
pf=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x1234:0x11e8" ] && edu=${d##*/}
	[ -f "$d/sriov_totalvfs" ] && [ "$(cat "$d/class")" = 0x010802 ] && pf=${d##*/}
done
[ -n "$edu" ] || fail "no edu device"
[ -n "$pf" ] || fail "no SR-IOV NVMe controller"
[ -e "/sys/bus/pci/devices/$edu/iommu_group" ] || fail "edu $edu has no IOMMU group"
lspci -nn
modprobe nvme || fail "modprobe nvme failed"
for i in $(seq 50); do [ -e /dev/nvme0 ] && break; sleep 0.2; done
[ -e /dev/nvme0 ] || fail "the NVMe PF did not come up as /dev/nvme0"
nvme list
result edu "$edu"
result nvme_pf "$pf totalvfs=$(cat /sys/bus/pci/devices/$pf/sriov_totalvfs)"
