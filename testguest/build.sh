#!/bin/bash
# Build (or reuse) the vmrunner test guest: a Debian kernel plus a tiny
# busybox initramfs (plus Debian's qemu-guest-agent and sg_raw) whose /init
# prints "VMRUNNER-GUEST: ..." markers on ttyS0, powers off on the ACPI power
# button, answers eject requests like udev, runs the guest agent and offers a
# command channel on ttyS1.  See testguest/README.md.
#
# Usage: testguest/build.sh [OUTDIR]
#   OUTDIR defaults to ${VMRUNNER_TESTGUEST_DIR:-$HOME/.cache/vmrunner/testguest/<id>}, where
#   <id> (12 hex digits) names this script and the guest's root file system: a guest built
#   from other sources (another branch, an older checkout) keeps its own directory, so test
#   runs of both at the same time never rebuild each other's guest under them.
#   Result: OUTDIR/vmlinuz, OUTDIR/initrd.img, OUTDIR/VERSION.
#   The last line on stdout is the directory holding the result.
set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOTFS_SRC=$SELF_DIR/rootfs
META_PKG=${VMRUNNER_TESTGUEST_KERNEL_META:-linux-image-amd64}
BUSYBOX_PKG=busybox-static
APT_LISTS=/var/lib/apt/lists

# Userland beyond busybox, as a real distribution has it: Debian's guest agent
# and sg_raw (the SCSI commands udev's cdrom_id sends on an eject request),
# with the shared libraries they need.  Only the binaries below and the
# libraries they load (their DT_NEEDED closure) go into the image.
EXTRA_PKGS=(
    qemu-guest-agent libglib2.0-0 libpcre2-8-0 libnuma1 libudev1 liburing2 libc6
    sg3-utils libsgutils2-1.46-2
)
EXTRA_BINS=(usr/sbin/qemu-ga usr/bin/sg_raw)

# Modules the guest wants, in load order.  Their dependencies (modules.dep)
# are inserted before them automatically; built-in or missing ones are
# skipped.  virtio_ring must be loaded before virtio (the dependency order
# from modules.dep guarantees it).  crc64_rocksoft_generic/crct10dif_generic
# are softdeps of sd_mod's CRC helpers that modules.dep does not list.
WANTED_MODULES=(
    button evdev
    virtio_ring virtio virtio_pci
    virtio_balloon virtio_blk virtio_net virtio_console virtio_scsi
    scsi_common scsi_mod libata libahci ahci ata_piix
    crc64_rocksoft_generic crct10dif_generic sd_mod
    cdrom sr_mod isofs
    tpm tpm_tis_core tpm_tis tpm_crb
)

die() { echo "build.sh: error: $*" >&2; exit 1; }
note() { echo "build.sh: $*" >&2; }

need() { # need TOOL PACKAGE
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found; install it with: apt-get install $2"
}

# ---- the stamp: what the result was built from ---------------------------
script_hash() {
    # build.sh plus every file of the guest root file system (name + content)
    {
        sha256sum "$SELF_DIR/build.sh" | cut -d' ' -f1
        (cd "$ROOTFS_SRC" && find . -type f -o -type l | LC_ALL=C sort | while IFS= read -r f; do
            printf '%s %s\n' "$f" "$(stat -c %a "$f")"
            sha256sum <"$f"
        done)
    } | sha256sum | cut -d' ' -f1
}

# Fast path: the previous result is still valid if it was built by this very
# script and nothing in apt's package lists or sources changed since.
apt_unchanged_since() { # FILE
    [ -d "$APT_LISTS" ] || return 1
    [ -z "$(find "$APT_LISTS" -maxdepth 1 -type f -newer "$1" -print -quit 2>/dev/null)" ] &&
        [ -z "$(find /etc/apt -maxdepth 2 -newer "$1" -print -quit 2>/dev/null)" ]
}

stamp_field() { # FILE KEY
    sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n1
}

# Ask apt (local lists only, no network) which kernel/busybox would be used.
resolve_packages() {
    local info kdep
    info=$(apt-cache show --no-all-versions "$META_PKG" "$BUSYBOX_PKG" 2>/dev/null) || return 1
    # "linux-image-6.1.0-56-amd64 (= 6.1.192-2)" from the metapackage's Depends
    kdep=$(printf '%s\n' "$info" | awk -v meta="$META_PKG" '
        /^Package: /{p=$2} p==meta && /^Depends: /{
            n=split(substr($0,10), d, /, */)
            for (i=1;i<=n;i++) { split(d[i], w, / /)
                if (w[1] ~ /^linux-image-[0-9].*-amd64$/ && w[1] !~ /cloud/) {
                    v=""; if (w[2]=="(=") { v=w[3]; sub(/\)$/, "", v) }
                    print w[1], v; exit } } }')
    KERNEL_PKG=${kdep%% *}
    KERNEL_VER=${kdep#* }
    BUSYBOX_VER=$(printf '%s\n' "$info" | awk -v b="$BUSYBOX_PKG" '/^Package: /{p=$2} p==b && /^Version: /{print $2; exit}')
    [ -n "$KERNEL_PKG" ] && [ -n "$BUSYBOX_VER" ] || return 1
    if [ -z "$KERNEL_VER" ] || [ "$KERNEL_VER" = "$KERNEL_PKG" ]; then
        KERNEL_VER=$(apt-cache show --no-all-versions "$KERNEL_PKG" 2>/dev/null | awk '/^Version: /{print $2; exit}')
    fi
    [ -n "$KERNEL_VER" ] || return 1
    EXTRA_VERS=$(apt-cache show --no-all-versions "${EXTRA_PKGS[@]}" 2>/dev/null |
        awk '/^Package: /{p=$2} /^Version: /{print p "=" $2}') || return 1
    [ "$(printf '%s\n' "$EXTRA_VERS" | grep -c .)" = "${#EXTRA_PKGS[@]}" ]
}

result_valid() { # prints nothing; true if OUTDIR holds a complete result for $EXPECTED
    [ -f "$OUTDIR/VERSION" ] && [ -s "$OUTDIR/vmlinuz" ] && [ -s "$OUTDIR/initrd.img" ] || return 1
    [ "$(cat "$OUTDIR/VERSION")" = "$EXPECTED" ]
}

HASH=$(script_hash)
OUTDIR=${1:-${VMRUNNER_TESTGUEST_DIR:-$HOME/.cache/vmrunner/testguest/${HASH:0:12}}}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
need flock util-linux
exec 9>"$OUTDIR/.lock"
flock 9

if [ -f "$OUTDIR/VERSION" ] && [ -s "$OUTDIR/vmlinuz" ] && [ -s "$OUTDIR/initrd.img" ] \
   && [ "$(stamp_field "$OUTDIR/VERSION" script)" = "$HASH" ] && apt_unchanged_since "$OUTDIR/VERSION"; then
    echo "$OUTDIR"
    exit 0
fi

need apt-cache apt
if ! resolve_packages; then
    if [ -f "$OUTDIR/VERSION" ] && [ "$(stamp_field "$OUTDIR/VERSION" script)" = "$HASH" ] \
       && [ -s "$OUTDIR/vmlinuz" ] && [ -s "$OUTDIR/initrd.img" ]; then
        note "warning: apt cannot resolve $META_PKG/$BUSYBOX_PKG (run apt-get update?); using the cached guest"
        echo "$OUTDIR"
        exit 0
    fi
    die "apt cannot resolve $META_PKG and $BUSYBOX_PKG; run 'apt-get update' first"
fi
EXPECTED="kernel=$KERNEL_PKG $KERNEL_VER
busybox=$BUSYBOX_PKG $BUSYBOX_VER
userland=$(printf '%s\n' "$EXTRA_VERS" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
script=$HASH"
if result_valid; then
    touch "$OUTDIR/VERSION"   # refresh for the fast path
    echo "$OUTDIR"
    exit 0
fi

# ---- build ------------------------------------------------------------------
for t in objdump:binutils apt-get:apt dpkg-deb:dpkg depmod:kmod cpio:cpio gzip:gzip sha256sum:coreutils find:findutils awk:mawk; do
    need "${t%%:*}" "${t#*:}"
done

rm -rf "$OUTDIR"/.build.*   # left over by a killed build (we hold the lock)
WORK=$(mktemp -d "$OUTDIR/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 755 "$WORK"      # lets apt's _apt sandbox user write the download
T0=$(date +%s.%N)

note "downloading $KERNEL_PKG ($KERNEL_VER) and $BUSYBOX_PKG ($BUSYBOX_VER)"
APT_OPTS=()
[ "$(id -u)" != 0 ] || APT_OPTS=(-o APT::Sandbox::User=root)   # root: no _apt sandbox warning
# shellcheck disable=SC2086 # EXTRA_VERS is a list of PKG=VERSION words
(cd "$WORK" && apt-get download -q "${APT_OPTS[@]}" "$KERNEL_PKG=$KERNEL_VER" "$BUSYBOX_PKG=$BUSYBOX_VER" \
    $EXTRA_VERS >&2) || die "apt-get download failed"
T1=$(date +%s.%N)

mkdir "$WORK/kernel" "$WORK/busybox" "$WORK/root" "$WORK/userland"
dpkg-deb -x "$WORK/${KERNEL_PKG}_"*.deb "$WORK/kernel"
dpkg-deb -x "$WORK/${BUSYBOX_PKG}_"*.deb "$WORK/busybox"
for p in "${EXTRA_PKGS[@]}"; do
    dpkg-deb -x "$WORK/${p}_"*.deb "$WORK/userland"
done

KMODDIR=$(find "$WORK/kernel/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n1)
[ -n "$KMODDIR" ] || die "no lib/modules/<version> in $KERNEL_PKG"
KVER=${KMODDIR##*/}
VMLINUZ=$WORK/kernel/boot/vmlinuz-$KVER
[ -f "$VMLINUZ" ] || die "no boot/vmlinuz-$KVER in $KERNEL_PKG"
BUSYBOX=$WORK/busybox/bin/busybox
[ -x "$BUSYBOX" ] || die "no bin/busybox in $BUSYBOX_PKG"

# modules.dep for the unpacked tree
depmod -b "$WORK/kernel" "$KVER" || die "depmod -b failed"

declare -A MOD_PATH MOD_DEPS BUILTIN STATE
while IFS= read -r line; do
    p=${line%%:*}
    n=${p##*/}; n=${n%%.ko*}; n=${n//-/_}
    MOD_PATH[$n]=$p
    MOD_DEPS[$n]=${line#*:}
done <"$KMODDIR/modules.dep"
if [ -f "$KMODDIR/modules.builtin" ]; then
    while IFS= read -r p; do
        n=${p##*/}; n=${n%%.ko*}; n=${n//-/_}
        BUILTIN[$n]=1
    done <"$KMODDIR/modules.builtin"
fi

ORDER=()
visit() { # depth-first, dependencies first
    local n=$1 d dn
    [ -z "${STATE[$n]:-}" ] || return 0
    STATE[$n]=1
    for d in ${MOD_DEPS[$n]}; do
        dn=${d##*/}; dn=${dn%%.ko*}; dn=${dn//-/_}
        visit "$dn"
    done
    ORDER+=("$n")
}
for m in "${WANTED_MODULES[@]}"; do
    if [ -n "${MOD_PATH[$m]:-}" ]; then
        visit "$m"
    elif [ -z "${BUILTIN[$m]:-}" ]; then
        note "module $m not in $KERNEL_PKG, skipped"
    fi
done

# ---- initramfs tree -----------------------------------------------------------
R=$WORK/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,mnt,etc/vmrunner,lib/modules/"$KVER"}
chmod 1777 "$R/tmp"
cp "$BUSYBOX" "$R/bin/busybox"
"$R/bin/busybox" --list-full | while IFS= read -r a; do
    [ "$a" = bin/busybox ] || [ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"
done
cp -a "$ROOTFS_SRC/." "$R/"
chmod 755 "$R/init" "$R/bin/eject" "$R/etc/acpi/PWRF/00000080" "$R/sbin/shutdown" \
    "$R/lib/vmrunner/uevent-handler" "$R/lib/vmrunner/udhcpc-script"

# ---- userland: binaries and their shared-library closure ------------------------
U=$WORK/userland
LIBDIRS=(lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu)
mkdir -p "$R/lib/x86_64-linux-gnu" "$R/lib64"
declare -A HAVE_LIB
add_libs_of() { # FILE: copy the libraries FILE needs (recursively) into the image
    local lib d found
    for lib in $(objdump -p "$1" | awk '$1 == "NEEDED" {print $2}'); do
        [ -z "${HAVE_LIB[$lib]:-}" ] || continue
        found=
        for d in "${LIBDIRS[@]}"; do
            [ -e "$U/$d/$lib" ] && { found=$U/$d/$lib; break; }
        done
        [ -n "$found" ] || die "library $lib (needed by ${1#"$U"/}) is in none of: ${EXTRA_PKGS[*]}"
        HAVE_LIB[$lib]=1
        cp -L "$found" "$R/lib/x86_64-linux-gnu/$lib"
        add_libs_of "$R/lib/x86_64-linux-gnu/$lib"
    done
}
for b in "${EXTRA_BINS[@]}"; do
    [ -x "$U/$b" ] || die "no $b in ${EXTRA_PKGS[*]}"
    mkdir -p "$R/${b%/*}"
    cp "$U/$b" "$R/$b"
    add_libs_of "$U/$b"
done
# the program interpreter, where the binaries' PT_INTERP names it
LDSO=ld-linux-x86-64.so.2
if [ -z "${HAVE_LIB[$LDSO]:-}" ]; then
    cp -L "$U/lib/x86_64-linux-gnu/$LDSO" "$R/lib/x86_64-linux-gnu/$LDSO" || die "no $LDSO in libc6"
fi
ln -s "/lib/x86_64-linux-gnu/$LDSO" "$R/lib64/$LDSO"

: >"$R/etc/vmrunner/modules"
for n in "${ORDER[@]}"; do
    p=${MOD_PATH[$n]}
    dst=$R/lib/modules/$KVER/${p%%.ko*}.ko
    mkdir -p "${dst%/*}"
    case $p in
    *.ko) cp "$KMODDIR/$p" "$dst" ;;
    *.ko.xz) need xz xz-utils; xz -dc "$KMODDIR/$p" >"$dst" ;;
    *.ko.zst) need zstd zstd; zstd -qdc "$KMODDIR/$p" >"$dst" ;;
    *.ko.gz) gzip -dc "$KMODDIR/$p" >"$dst" ;;
    *) die "unknown module format: $p" ;;
    esac
    echo "${p%%.ko*}.ko" >>"$R/etc/vmrunner/modules"
done
cp "$KMODDIR/modules.builtin" "$R/lib/modules/$KVER/" 2>/dev/null || true
printf '%s\n' "$EXPECTED" >"$R/etc/vmrunner/VERSION"
if [ "$(id -u)" = 0 ]; then
    mknod -m 600 "$R/dev/console" c 5 1
fi

(cd "$R" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) \
    | gzip -6n >"$WORK/initrd.img"
cp "$VMLINUZ" "$WORK/vmlinuz"
printf '%s\n' "$EXPECTED" >"$WORK/VERSION"

# ---- install: the stamp goes last, so a half-installed result is never valid
rm -f "$OUTDIR/VERSION"
mv -f "$WORK/vmlinuz" "$OUTDIR/vmlinuz"
mv -f "$WORK/initrd.img" "$OUTDIR/initrd.img"
mv -f "$WORK/VERSION" "$OUTDIR/VERSION"
T2=$(date +%s.%N)
note "built guest for $KVER (${#ORDER[@]} modules, initrd $(stat -c %s "$OUTDIR/initrd.img") bytes):" \
     "download $(awk "BEGIN{printf \"%.1f\", $T1-$T0}")s, build $(awk "BEGIN{printf \"%.1f\", $T2-$T1}")s"
echo "$OUTDIR"
