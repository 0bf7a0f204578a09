#!/bin/bash
# A Debian root made with mmdebstrap from the host's apt mirror (no container registry needed),
# once a day, imported into podman (deploy/container/podman.sh). Prints the image's name.
#
# Usage: deploy/debian-root.sh NAME SUITE [MMDEBSTRAP-OPTION...]
#   NAME   what the root is for: its tarball is cached in $VMRUNNER_CACHE/NAME (default
#          ~/.cache/vmrunner/NAME) as debian-SUITE-KEY.tar, imported as
#          localhost/vmrunner-NAME:SUITE-KEY, where KEY is the day and a hash of the options
#          and the apt sources. Older roots of NAME and SUITE (their tarballs, images and the
#          layers built on them) are removed.
# Mirrors: $VMRUNNER_DEBIAN_MIRROR (default: the host's, else deb.debian.org) and
# $VMRUNNER_DEBIAN_SECURITY_MIRROR. The caller holds a lock (flock) for NAME: roots and
# podman's storage are shared.
set -euo pipefail
name=$1 suite=$2
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
podman=$top/deploy/container/podman.sh
cache=${VMRUNNER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmrunner}/$name
note() { echo "debian-root.sh: $*" >&2; }
command -v mmdebstrap >/dev/null || { note "error: mmdebstrap is not installed"; exit 1; }
mirror=${VMRUNNER_DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}
security=${VMRUNNER_DEBIAN_SECURITY_MIRROR:-$mirror-security}
opts=("$@" "$suite")
sources=("deb $mirror $suite main" "deb $mirror $suite-updates main"
         "deb $security $suite-security main")
key=$(date -u +%Y%m%d)-$(printf '%s\n' "${opts[@]}" "${sources[@]}" | sha256sum | cut -c1-10)
mkdir -p "$cache"
tar=$cache/debian-$suite-$key.tar
image=localhost/vmrunner-$name:$suite-$key
if ! "$podman" image exists "$image"; then
    if [ ! -s "$tar" ]; then
        note "making the $name root with mmdebstrap ($mirror, $suite)"
        t0=$SECONDS
        mmdebstrap --quiet --format=tar "${opts[@]}" "$tar.part" "${sources[@]}" >&2 \
            || { rm -f "$tar.part"; note "error: mmdebstrap failed"; exit 1; }
        mv "$tar.part" "$tar"
        note "root made in $((SECONDS - t0)) s ($(du -m "$tar" | cut -f1) MiB)"
    fi
    "$podman" import --quiet "$tar" "$image" >/dev/null
    note "imported $image"
fi
find "$cache" -maxdepth 1 -name "debian-$suite-*.tar" ! -name "${tar##*/}" -delete
"$podman" images --format '{{.Repository}}:{{.Tag}}' \
    | { grep "^localhost/vmrunner-$name:$suite-" || true; } | { grep -vxF "$image" || true; } \
    | while read -r old; do "$podman" rmi "$old" >/dev/null 2>&1 || true; done
echo "$image"
