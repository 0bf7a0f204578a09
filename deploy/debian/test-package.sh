#!/bin/bash
# Installs the Debian package that 'mvn package' made (target/vmrunner_*.deb) in a fresh
# Debian root, the way a user would, and prints what each step did: lintian, install with
# apt-get, vmrunner --version, man vmrunner, man 5 vmrunner.yaml, systemd-analyze verify of the
# unit, vmrunner check of the shipped TCG example, an upgrade to a higher version, remove, purge.
# Run by DebianPackageIT; runnable by hand. Exit 0 when every step passed.
#
# Usage: deploy/debian/test-package.sh [--suite SUITE] [DEB]
#   --suite  the Debian release to install on (default bookworm: JDK 17, the oldest we support)
#   --root-only  make (or find) the cached root only
#   DEB      the package (default: the newest target/vmrunner_*.deb)
# The root is made once a day with mmdebstrap, with the package's dependencies, man-db, systemd
# and lintian already in it (so a run installs only vmrunner and needs no network), cached as a
# tarball in $VMRUNNER_CACHE/debian-test (default ~/.cache/vmrunner/debian-test), keyed by the
# suite, the day and the package list, and imported into podman (deploy/container/podman.sh)
# as localhost/vmrunner-debtest:<suite>-<key>.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
podman=$top/deploy/container/podman.sh
cache=${VMRUNNER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmrunner}
suite=bookworm
deb=""
root_only=""
while [ $# -gt 0 ]; do
    case $1 in
    --suite) suite=$2; shift 2 ;;
    --root-only) root_only=yes; shift ;;
    -*) echo "test-package.sh: unknown option: $1" >&2; exit 2 ;;
    *) deb=$1; shift ;;
    esac
done
note() { echo "test-package.sh: $*" >&2; }
die() { note "error: $*"; exit 1; }
if [ -z "$deb" ]; then
    deb=$(ls -t "$top"/target/vmrunner_*.deb 2>/dev/null | head -n 1 || true)
fi
if [ -z "$root_only" ]; then
    [ -f "$deb" ] || die "no package: run 'mvn package' first"
    deb=$(readlink -f "$deb")
fi

# ---- the root, with everything the package depends on (the first alternatives) -------------
packages=(default-jre-headless qemu-system-x86 qemu-utils swtpm swtpm-tools ovmf mtools xorriso
          procps systemd man-db lintian)
mirror=${VMRUNNER_DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}
security=${VMRUNNER_DEBIAN_SECURITY_MIRROR:-$mirror-security}
sources=("deb $mirror $suite main" "deb $mirror $suite-updates main"
         "deb $security $suite-security main")
opts=(--variant=apt --aptopt='APT::Install-Recommends "false"'
      --include="$(IFS=,; echo "${packages[*]}")" "$suite")
key=$(date -u +%Y%m%d)-$(printf '%s\n' "${opts[@]}" "${sources[@]}" | sha256sum | cut -c1-10)
mkdir -p "$cache/debian-test"
tar=$cache/debian-test/debian-$suite-$key.tar
image=localhost/vmrunner-debtest:$suite-$key
exec 9>"$cache/debian-test/.lock"
flock 9
if ! "$podman" image exists "$image"; then
    if [ ! -s "$tar" ]; then
        note "making the root with mmdebstrap ($mirror, $suite)"
        t0=$SECONDS
        mmdebstrap --quiet --format=tar "${opts[@]}" "$tar.part" "${sources[@]}" >&2 \
            || { rm -f "$tar.part"; die "mmdebstrap failed"; }
        mv "$tar.part" "$tar"
        note "root made in $((SECONDS - t0)) s ($(du -m "$tar" | cut -f1) MiB)"
    fi
    "$podman" import --quiet "$tar" "$image" >/dev/null
    note "imported $image"
fi
find "$cache/debian-test" -maxdepth 1 -name "debian-$suite-*.tar" ! -name "${tar##*/}" -delete
"$podman" images --format '{{.Repository}}:{{.Tag}}' \
    | { grep "^localhost/vmrunner-debtest:$suite-" || true; } | { grep -vxF "$image" || true; } \
    | while read -r old; do "$podman" rmi "$old" >/dev/null 2>&1 || true; done
[ -z "$root_only" ] || exit 0

# ---- the steps, in one container --------------------------------------------------------------
name=vmrunner-debtest-$$
trap '"$podman" rm -f "$name" >/dev/null 2>&1 || true' EXIT
"$podman" run --rm --name "$name" --network=none -v "${deb%/*}:/pkg:ro" \
    -e DEB="/pkg/${deb##*/}" "$image" /bin/bash -c "$(cat "$top/deploy/debian/test-steps.sh")"
