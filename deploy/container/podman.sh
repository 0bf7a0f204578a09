#!/bin/sh
# Runs podman with vmrunner's own configuration and storage, leaving /etc/containers alone.
# Needed on hosts like our CI (no systemd, cgroup v1 hybrid, no CAP_SYS_RESOURCE), where
# podman's defaults fail: crun cannot handle the hybrid cgroup layout, and the default
# rlimits (nofile 1048576) cannot be set. See deploy/README.md.
#
# Usage: deploy/container/podman.sh PODMAN-ARGS...
# State:  $VMRUNNER_PODMAN_STATE (default ~/.cache/vmrunner/podman): images and layers, kept
#         across runs so that image builds are cached; run state in /run/vmrunner-podman.
set -eu
state=${VMRUNNER_PODMAN_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmrunner/podman}
run=${VMRUNNER_PODMAN_RUN:-/run/vmrunner-podman}
mkdir -p "$state" "$run"
conf="$state/containers.conf"
storage="$state/storage.conf"
# Rewritten when different only, so that concurrent callers never see a half-written file.
write() { # FILE CONTENT
    if [ "$(cat "$1" 2>/dev/null)" != "$2" ]; then
        printf '%s\n' "$2" > "$1.$$" && mv -f "$1.$$" "$1"
    fi
}
write "$conf" "[containers]
log_driver = \"k8s-file\"
default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]
[engine]
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"
events_logfile_path = \"$state/events.log\"
runtime = \"runc\"
tmp_dir = \"$run/tmp\""
write "$storage" "[storage]
driver = \"overlay\"
graphroot = \"$state/storage\"
runroot = \"$run/storage\""
export CONTAINERS_CONF="$conf" CONTAINERS_STORAGE_CONF="$storage"
exec podman "$@"
