#!/bin/bash
# Builds the vmrunner image from deploy/container/Containerfile with podman (through
# deploy/container/podman.sh, so that it works on hosts like our CI).
#
# Usage: deploy/container/build-image.sh [--tag IMAGE] [--suite SUITE] [--base IMAGE] [--debian-jre]
#   --tag    the image to build (default localhost/vmrunner:latest, also tagged with the
#            project's version, which is the Helm chart's default tag)
#   --suite  the Debian release: trixie (default; QEMU 10, JDK 25) or bookworm (QEMU 7.2,
#            JDK 17)
#   --base   the base image (FROM), a Debian of that suite; default: a minbase made locally with
#            mmdebstrap by deploy/debian-root.sh (cached in ~/.cache/vmrunner/base, keyed by the
#            suite, the day and the options, imported as localhost/vmrunner-base:<suite>-<key>).
#   --debian-jre  Debian's JRE package instead of a runtime jlink'd to the runner's modules
#            (about 150 MB more; security updates through apt)
# Needs 'mvn package' first (target/vmrunner.jar, target/lib). The last line of stdout is the
# image name; progress goes to stderr. Layers are cached: with an unchanged base only the
# jars are copied again and the class data sharing archive is made again.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
podman=$top/deploy/container/podman.sh
cache=${VMRUNNER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmrunner}
tag=localhost/vmrunner:latest
version=$(sed -n 's|^  <version>\(.*\)</version>|\1|p' "$top/pom.xml" | head -n 1)
url=$(sed -n 's|^  <url>\(.*\)</url>|\1|p' "$top/pom.xml" | head -n 1)
revision=$(git -C "$top" rev-parse HEAD 2>/dev/null || echo unknown)
also=localhost/vmrunner:$version
base=""
suite=trixie
jre_package=""
while [ $# -gt 0 ]; do
    case $1 in
    --tag) tag=$2; also=""; shift 2 ;;
    --suite) suite=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --debian-jre) jre_package=yes; shift ;;
    *) echo "build-image.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
note() { echo "build-image.sh: $*" >&2; }
die() { note "error: $*"; exit 1; }
case $suite in
trixie) jdk=25 ;;
bookworm) jdk=17 ;;
*) die "unknown suite: $suite (trixie or bookworm)" ;;
esac
[ -z "$jre_package" ] || jre_package=openjdk-$jdk-jre-headless
[ -f "$top/target/vmrunner.jar" ] && [ -d "$top/target/lib" ] || die "run 'mvn package' first"
command -v podman >/dev/null || die "podman is not installed (scripts/install-deps.sh installs it)"

mkdir -p "$cache/base"
exec 9>"$cache/base/.lock"
flock 9   # one build at a time: they share the base and podman's storage

# ---- the base image -------------------------------------------------------------------------
if [ -z "$base" ]; then
    # Like debian:<suite>-slim: no documentation, manual pages or translations.
    base=$("$top/deploy/debian-root.sh" base "$suite" --variant=minbase \
        --aptopt='APT::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/info/*')
fi

# ---- the build context: jars, launcher, templates --------------------------------------------
ctx=$top/target/container
rm -rf "$ctx"
mkdir -p "$ctx/lib" "$ctx/bin" "$ctx/templates" "$ctx/training" "$ctx/doc"
cp "$top/LICENSE" "$top/NOTICE" "$top/THIRD-PARTY.txt" "$ctx/doc/"
cp "$top/target/vmrunner.jar" "$top"/target/lib/*.jar "$ctx/lib/"
cp "$top/bin/vmrunner" "$ctx/bin/"
cp "$top"/src/main/resources/templates/*.ftl.yaml "$ctx/templates/"
cp "$top/scripts/train-archive.sh" "$ctx/training/"

note "building $tag on $base"
t0=$SECONDS
"$podman" build --quiet --network=host --build-arg "BASE=$base" \
    --build-arg "JDK=openjdk-$jdk-jdk-headless" --build-arg "JRE_PACKAGE=$jre_package" \
    --label "org.opencontainers.image.version=$version" \
    --label "org.opencontainers.image.revision=$revision" \
    --label "org.opencontainers.image.source=$url" \
    --label "org.opencontainers.image.documentation=$url#readme" -t "$tag" \
    -f "$top/deploy/container/Containerfile" "$ctx" >&2
[ -z "$also" ] || "$podman" tag "$tag" "$also"
"$podman" image prune -f >/dev/null   # the previous build's layers, now untagged
size=$("$podman" image inspect --format '{{.Size}}' "$tag")
note "built $tag in $((SECONDS - t0)) s, $((size / 1000000)) MB"
echo "$tag"
