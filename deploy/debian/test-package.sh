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
# The root is made once a day by deploy/debian-root.sh (mmdebstrap), with the package's
# dependencies, man-db, systemd and lintian already in it (so a run installs only vmrunner and
# needs no network), cached in $VMRUNNER_CACHE/debian-test (default
# ~/.cache/vmrunner/debian-test), keyed by the suite, the day and the package list, and
# imported into podman as localhost/vmrunner-debian-test:<suite>-<key>.
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
mkdir -p "$cache/debian-test"
exec 9>"$cache/debian-test/.lock"
flock 9
image=$("$top/deploy/debian-root.sh" debian-test "$suite" --variant=apt \
    --aptopt='APT::Install-Recommends "false"' --include="$(IFS=,; echo "${packages[*]}")")
[ -z "$root_only" ] || exit 0

# ---- the steps, in one container --------------------------------------------------------------
name=vmrunner-debtest-$$
trap '"$podman" rm -f "$name" >/dev/null 2>&1 || true' EXIT
"$podman" run --rm --name "$name" --network=none -v "${deb%/*}:/pkg:ro" \
    -e DEB="/pkg/${deb##*/}" "$image" /bin/bash -c "$(cat "$top/deploy/debian/test-steps.sh")"
