#!/bin/sh
# Installs what vmrunner and its tests need on Debian 12 (bookworm) or newer. Run as root.
# podman, runc and mmdebstrap build and run the container image in the tests
# (deploy/container/build-image.sh; runc because crun fails on cgroup v1 hybrid hosts).
# mtools: the FAT cloud-init seed of upstream VM-Operator templates; binutils: objdump for
# testguest/build.sh; iproute2: the bridged-networking test; python3-prometheus-client parses
# /metrics in HttpIT; systemd: systemd-notify (sd_notify) and systemd-analyze for the unit test;
# jq: the cluster stage writes and reads JSON with it; passt: network type passt (NetworkIT).
set -eu
packages="openjdk-17-jdk-headless maven qemu-system-x86 qemu-utils
swtpm swtpm-tools passt ovmf busybox-static cpio kmod xorriso mtools binutils iproute2 util-linux procps
podman runc mmdebstrap containernetworking-plugins catatonit uidmap
python3 python3-prometheus-client systemd jq"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "Installing:$missing"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi
