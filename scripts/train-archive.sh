#!/bin/bash
# Makes the class archive for bin/vmrunner from a training run that walks the start path:
# render, swtpm and QEMU start (TCG, no guest), QMP, a live change (memory and a vCPU), a stop.
# On java 25 and newer the archive is an AOT cache (JEP 483/514: -XX:AOTCacheOutput), on older
# javas a dynamic CDS archive (-XX:ArchiveClassesAtExit). Where QEMU cannot start (no QEMU, no
# OVMF, a sandbox), the training is a 'vmrunner render' only, which still covers CLI, YAML and
# FreeMarker. Harmless to skip: the launcher runs without an archive.
#
# Usage: train-archive.sh LIBDIR CLASSPATH
#   LIBDIR     where the archive and its stamp go (vmrunner.aot or vmrunner.jsa, plus .stamp)
#   CLASSPATH  the class path the launcher passes (recorded in the stamp)
# The java is the launcher's: $JAVA_HOME/bin/java, else the one on the PATH.
set -euo pipefail
lib=$1 cp=$2
here=$(cd "$(dirname "$0")" && pwd)
launcher=${VMRUNNER_LAUNCHER:-$here/../bin/vmrunner}
if [ -n "${JAVA_HOME:-}" ]; then java="$JAVA_HOME/bin/java"; else java=$(command -v java); fi
java=$(readlink -f "$java")
note() { echo "train-archive.sh: $*" >&2; }

feature=$("$java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
if [ "${feature:-0}" -ge 25 ]; then
    archive=$lib/vmrunner.aot
    export VMRUNNER_AOT_DUMP=$archive
    quiet="-Xlog:cds=off -Xlog:aot=off"
else
    archive=$lib/vmrunner.jsa
    export VMRUNNER_CDS_DUMP=$archive
    quiet="-Xlog:cds=off"
fi
# Only this kind is made again: an archive for another java (JDK 17 and 25 on one host) stays.
rm -f "$archive" "$archive.stamp"
export VMRUNNER_JAVA_OPTS="${VMRUNNER_JAVA_OPTS:-} $quiet"

work=$(mktemp -d "${TMPDIR:-/tmp}/vmrunner-train.XXXXXX")
runner=""
cleanup() {
    if [ -n "$runner" ] && kill -0 "$runner" 2>/dev/null; then kill -KILL "$runner" || true; fi
    # A QEMU or swtpm left behind by a killed run: found by the unique work path in its argv.
    local p
    for p in /proc/[0-9]*; do
        if { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -qF "$work/"; then
            kill -KILL "${p#/proc/}" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT

# config RAM CPUS: the training VM (no disks, no network; nothing to boot, so the stop ends
# after the powerdown timeout).
config() {
    cat <<EOF
"/Runner":
  dataDir: $work/data
  runtimeDir: $work/run
  vm:
    name: training
    uuid: 8e2c0a2e-3f4b-4b5e-9d3a-2f1d6a7b8c9d
    useTpm: true
    firmware: ${VMRUNNER_TRAINING_FIRMWARE:-uefi}
    accelerator: tcg
    cpuModel: max
    powerdownTimeout: 1
    maximumRam: 256M
    currentRam: $1
    maximumCpus: 2
    currentCpus: $2
    network: []
EOF
}
config 256M 1 > "$work/config.yaml"

# wait_for PATTERN SECONDS: until the runner's log has the line, or it has exited.
wait_for() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        grep -q "$1" "$work/log" && return 0
        kill -0 "$runner" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

full_run() {
    command -v qemu-system-x86_64 >/dev/null || [ -x /usr/libexec/qemu-kvm ] || return 1
    "$launcher" -c "$work/config.yaml" > "$work/out" 2> "$work/log" &
    runner=$!
    if ! wait_for ' is running' 60; then
        note "the training VM did not start:"; tail -n 5 "$work/log" >&2
        return 1
    fi
    config 192M 2 > "$work/config.yaml.new"
    mv "$work/config.yaml.new" "$work/config.yaml"
    wait_for 'vm.currentCpus.*applied' 30 || note "the live change was not applied"
    kill -TERM "$runner"
    # Exit 0 or 4 (the powerdown timeout: nothing in the VM presses the button); the archive is
    # written at the exit.
    wait "$runner" || true
    runner=""
    [ -s "$archive" ]
}

t0=$(date +%s%N)
if full_run; then
    how="start path (render, QEMU, QMP, a live change, a stop)"
else
    rm -f "$archive"
    "$launcher" render -c "$work/config.yaml" --templates-dir /nonexistent > /dev/null
    how="render only"
fi
echo "$java $cp" > "$archive.stamp"
note "$(basename "$archive") for java $feature from a training run of the $how" \
    "in $((($(date +%s%N) - t0) / 1000000)) ms ($(du -k "$archive" | cut -f1) KiB)"
