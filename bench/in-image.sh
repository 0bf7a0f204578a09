#!/bin/sh
# Runs a command inside the vmrunner image's file system, for benchmarks "in the image" without
# a container runtime's own start-up cost in the figures: a chroot into a mounted container of
# the image, in a private mount namespace with the host's /proc, /sys, /dev, /tmp and the test
# guest's directory. The process keeps its pid through every exec (no fork), so the caller's pid
# is the JVM's or QEMU's.
#
#   bench/in-image.sh --mount [IMAGE]   creates and mounts a container of IMAGE (default
#                                       localhost/vmrunner:latest); prints its root directory
#   bench/in-image.sh --unmount         removes that container
#   bench/in-image.sh ROOT CMD [ARG...]  runs CMD in ROOT
set -eu
podman=$(dirname "$(readlink -f "$0")")/../deploy/container/podman.sh
name=vmrunner-bench-root
guest=${VMRUNNER_TESTGUEST_DIR:-$HOME/.cache/vmrunner/testguest}
case ${1:-} in
--mount)
    "$podman" rm -f "$name" >/dev/null 2>&1 || true
    "$podman" create --name "$name" "${2:-localhost/vmrunner:latest}" >/dev/null
    root=$("$podman" mount "$name")
    mkdir -p "$root$guest"
    echo "$root"
    ;;
--unmount)
    "$podman" rm -f "$name" >/dev/null
    ;;
*)
    root=$1
    shift
    exec unshare --mount sh -c '
        root=$1 guest=$2; shift 2
        for d in /proc /sys /dev /tmp "$guest"; do mount --rbind "$d" "$root$d"; done
        exec chroot "$root" "$@"' sh "$root" "$guest" "$@"
    ;;
esac
