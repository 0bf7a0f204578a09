#!/bin/bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kube-proxy from
# Debian's 'kubernetes' source package (the full upstream tree with vendor/), offline, with
# Debian's Go, plus a static pause binary. The binaries are cached in
#   $VMRUNNER_CACHE/k8s/<source package version>/bin   (default ~/.cache/vmrunner/k8s/...)
# and reused while the source version is the same and the cache holds every binary of the set
# below ('.complete' lists what a build put there); a cache made for a smaller set gets only the
# missing binaries built. Cold: ~5 min on 2 cores, 2.6 GB of disk during the build (the tree is
# removed afterwards; the binaries take ~400 MB).
#
# Usage: deploy/k8s/build-k8s.sh     The last line of stdout is the bin directory.
# Exit 77 (with "SKIPPED: ..." on stderr) when there is not enough disk space to build.
set -euo pipefail
cache=${VMRUNNER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmrunner}/k8s
note() { echo "build-k8s.sh: $*" >&2; }
mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial"
exec 9>"$cache/.lock"
flock 9

# A private apt configuration with deb-src entries; /etc/apt stays untouched.
mirror=${VMRUNNER_DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}
printf 'deb-src %s bookworm main\ndeb-src %s-security bookworm-security main\n' "$mirror" "$mirror" \
    > "$cache/apt/sources.list"
apto=(-o APT::Sandbox::User=root -o Dir::Etc::SourceList="$cache/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
      -o Dir::State::Lists="$cache/apt/lists" -o Dir::Cache="$cache/apt/cache"
      -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
apt-get -q "${apto[@]}" update >/dev/null
version=$(apt-cache "${apto[@]}" showsrc kubernetes | awk '/^Version:/{print $2}' | sort -V | tail -n 1)
[ -n "$version" ] || { note "no source package 'kubernetes' found"; exit 1; }
bin=$cache/$version/bin
cmds="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy"
# What a cache of this version lacks: an older cache without kube-proxy gets only that built.
want=""
for b in $cmds; do
    [ -f "$bin/.complete" ] && [ -x "$bin/$b" ] || want="$want $b"
done
if [ -z "$want" ]; then
    echo "$bin"
    exit 0
fi

free=$(df -Pk "$cache" | awk 'NR==2{print int($4/1024)}')
if [ "$free" -lt 3500 ]; then
    note "SKIPPED: building Kubernetes $version needs about 3.5 GB free in $cache; there are $free MB"
    exit 77
fi
note "building$want from the Debian source package kubernetes $version (about 5 minutes)"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends golang-go rsync make gcc libc6-dev >/dev/null
work=$cache/$version/build
rm -rf "$work" "$bin.part"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get -q "${apto[@]}" source --download-only kubernetes >/dev/null 2>&1)
tar -C "$work" -xzf "$work"/kubernetes_*.orig.tar.gz
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
mkdir -p "$src/.go/src/k8s.io"
ln -sfn ../../.. "$src/.go/src/k8s.io/kubernetes"
t0=$SECONDS
(cd "$src" && GOPATH=$src/.go HOME=$work GOPROXY=off CGO_ENABLED=0 GOFLAGS= \
    make WHAT="$(for b in $want; do printf 'cmd/%s ' "$b"; done)" \
    KUBE_BUILD_PLATFORMS=linux/amd64 >&2)
# The new set is assembled beside the cache and swapped in whole: a reader never sees half.
mkdir -p "$bin.part"
if [ -f "$bin/.complete" ]; then cp -al "$bin"/. "$bin.part/"; fi
for b in $want; do
    cp "$src/_output/bin/$b" "$bin.part/"
done
gcc -Os -static -o "$bin.part/pause" "$src/build/pause/linux/pause.c" -DVERSION=3.2-local
echo "$cmds pause" > "$bin.part/.complete"
rm -rf "$bin.old"
if [ -d "$bin" ]; then mv "$bin" "$bin.old"; fi
mv "$bin.part" "$bin"
rm -rf "$bin.old"
note "built in $((SECONDS - t0)) s"
# Older versions' binaries.
find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name apt ! -name "$version" -exec rm -rf {} +
echo "$bin"
