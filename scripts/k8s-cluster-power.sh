# The cluster stage's checks of stopping and starting the VM the Kubernetes way (issue 21):
# sourced by scripts/k8s-cluster-test.sh, which calls power_lifecycle after its live changes.
# They use its kubectl, helm, $NS, $S, $C, $uid, await, jp, say, die and reporting_*; the
# release is "tg", its pod "tg-0", the runner's log (with the guest's console) in
# $S/work/runner.log.
#
#   1. helm upgrade --reuse-values --set vm.state=Stopped: the power button, the guest powers
#      off, the runner stays; same pod, no restart, Ready throughout, label "stopped", no QEMU
#      process;
#   2. --set vm.state=Running (and runner.guestShutdownStops=true): a second boot in that pod;
#   3. the guest powers itself off (poweroff -f on its command channel): the VM stays off for a
#      minute in the same pod (Ready throughout), then "kubectl exec tg-0 -- vmrunner start"
#      boots it a third time;
#   4. kubectl get events shows VmStarted, Booted, StopRequested, VmStopping, PoweredOff,
#      VmStopped, StartRequested and ConfigRejected; the table is printed.

power_count() { # TEXT: how often the runner's log has it
    grep -c -e "$1" "$S/work/runner.log" || true
}

power_await_count() { # SECONDS TEXT N: until the runner's log has TEXT at least N times
    await "$1" "$2" sh -c "[ \$(grep -c -e '$2' '$S/work/runner.log') -ge $3 ]" \
        || { tail -40 "$S/work/runner.log"; die "the runner's log does not have '$2' $3 times"; }
}

power_label() { kubectl -n $NS get pod tg-0 -o jsonpath='{.metadata.labels.vmrunner\.dev/state}'; }

power_await_label() { # STATE
    await 60 "label $1" sh -c "[ \"\$(kubectl -n $NS get pod tg-0 -o jsonpath='{.metadata.labels.vmrunner\.dev/state}')\" = $1 ]" \
        || die "the pod's label vmrunner.dev/state is '$(power_label)', not $1"
}

power_pod() { # WHEN: prints "kubectl get pod -L vmrunner.dev/state" for the closing note
    say "kubectl get pod -L vmrunner.dev/state ($1):"
    kubectl -n $NS get pod tg-0 -L vmrunner.dev/state | sed 's/^/    /'
}

# The same pod as installed, never restarted, and Ready (a VM stopped on purpose is ready).
power_same_pod_ready() { # WHEN
    [ "$(jp '{.metadata.uid}')" = "$uid" ] || die "$1: the pod was replaced"
    [ "$(jp '{.status.containerStatuses[0].restartCount}')" = 0 ] || die "$1: the container restarted"
    await 40 "Ready" sh -c "[ \"\$(kubectl -n $NS get pod tg-0 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]" \
        || die "$1: the pod is not Ready: $(kubectl -n $NS get pod tg-0 2>&1 | tail -1)"
}

# What the runner in the pod says, and that no QEMU runs in the container.
power_status() { # STATE DESIRED
    local json
    json=$(kubectl -n $NS exec tg-0 -- /opt/vmrunner/bin/vmrunner status -o json) \
        || die "vmrunner status failed: $json"
    jq -e --arg s "$1" --arg d "$2" '.state == $s and .desiredState == $d and .ready == true' \
        <<< "$json" >/dev/null \
        || die "vmrunner status is not state $1, desired $2, ready: $(jq -c '{state, desiredState, ready}' <<< "$json")"
    local qemu
    qemu=$(kubectl -n $NS exec tg-0 -- bash -c 'cat /proc/[0-9]*/comm 2>/dev/null' | grep -c '^qemu-system' || true)
    if [ "$1" = stopped ]; then
        [ "$qemu" = 0 ] || die "the VM is stopped, but $qemu QEMU processes run in the container"
    else
        [ "$qemu" = 1 ] || die "the VM is $1, but $qemu QEMU processes run in the container"
    fi
    say "vmrunner status: $(jq -c '{state, desiredState, ready}' <<< "$json"); QEMU processes: $qemu"
}

power_ready_since() { jp '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}'; }

power_upgrade() { # --set ARGS...: helm upgrade of the release's values, nothing else
    "$helm" upgrade tg deploy/helm/vmrunner -n $NS --reuse-values "$@" --wait --timeout 120s >/dev/null \
        || die "helm upgrade $*"
}

# The guest's own "poweroff -f" on its command channel (the test guest's second UART), through
# the pod's runtime directory as the node sees it: the image has no client for a Unix socket.
power_guest_poweroff() {
    local sock=$C/kubelet/root/pods/$uid/volumes/kubernetes.io~empty-dir/runtime/command.sock
    [ -S "$sock" ] || die "no command channel at $sock"
    /usr/bin/python3 - "$sock" <<'P' || die "could not write to the guest's command channel"
import os, socket, sys, time
# Relative to its directory: the node's path is longer than a socket address may be.
os.chdir(os.path.dirname(sys.argv[1]))
s = socket.socket(socket.AF_UNIX)
s.connect(os.path.basename(sys.argv[1]))
s.sendall(b"poweroff -f\n")
s.settimeout(5)
end = time.time() + 5
try:
    while time.time() < end and s.recv(4096):
        pass
except OSError:
    pass
P
}

power_lifecycle() {
    local tp tl booted since
    tp=$SECONDS
    power_pod "running, before the stop"
    since=$(power_ready_since)
    # ---- 1. vm.state=Stopped
    tl=$SECONDS
    booted=$(power_count "VMRUNNER-GUEST: booted")
    power_upgrade --set vm.state=Stopped
    power_await_count 150 "VMRUNNER-GUEST: power button" 1
    power_await_count 60 "VM tg has stopped" 1
    grep -q "The guest powered off as asked" "$S/work/runner.log" \
        || { tail -30 "$S/work/runner.log"; die "no graceful power-off in the runner's log"; }
    kubectl -n $NS logs tg-0 | grep -q "VMRUNNER-GUEST: power button" \
        || die "kubectl logs does not show the guest's power button"
    say "vm.state=Stopped: the guest powered off gracefully $((SECONDS - tl)) s after helm upgrade;" \
        "kubectl logs: $(kubectl -n $NS logs tg-0 | grep -m1 'VMRUNNER-GUEST: power button')"
    power_await_label stopped
    power_same_pod_ready "vm.state=Stopped"
    power_status stopped stopped
    # Ready throughout: the stop (a few seconds of 503) is shorter than the probe's 3 failures.
    [ "$(power_ready_since)" = "$since" ] || die "the pod's Ready condition changed during the stop"
    power_pod "vm.state=Stopped"
    # ---- 2. vm.state=Running; and a guest power-off is to leave the VM stopped from now on
    tl=$SECONDS
    power_upgrade --set vm.state=Running --set runner.guestShutdownStops=true
    power_await_count 240 "VMRUNNER-GUEST: booted" $((booted + 1))
    say "vm.state=Running: the guest booted again in the same runner $((SECONDS - tl)) s after helm upgrade"
    kubectl -n $NS logs tg-0 | grep -c "VMRUNNER-GUEST: booted" | grep -qx $((booted + 1)) \
        || die "kubectl logs does not show a second boot"
    power_await_count 60 "guestShutdownStops: false -> true" 1
    power_await_label running
    power_same_pod_ready "vm.state=Running"
    power_status running running
    power_pod "vm.state=Running"
    # ---- 3. the guest powers itself off under guestShutdownStops: it stays off
    tl=$SECONDS
    since=$(power_ready_since)
    power_guest_poweroff
    power_await_count 90 "was powered off by the guest" 1
    local off=$SECONDS
    say "guestShutdownStops: the guest powered itself off; the runner stays ($((SECONDS - tl)) s)"
    power_await_label stopped
    sleep $((60 - (SECONDS - off) > 0 ? 60 - (SECONDS - off) : 0))
    [ "$(power_count "VMRUNNER-GUEST: booted")" = $((booted + 1)) ] || die "the guest booted again by itself"
    [ "$(power_label)" = stopped ] || die "the state is $(power_label) a minute after the guest's power-off"
    power_same_pod_ready "a minute after the guest's power-off"
    power_status stopped stopped
    [ "$(power_ready_since)" = "$since" ] || die "the pod's Ready condition changed in the minute off"
    power_pod "a minute after the guest's own poweroff"
    tl=$SECONDS
    kubectl -n $NS exec tg-0 -- /opt/vmrunner/bin/vmrunner start > "$S/work/start.txt" 2>&1 \
        || die "kubectl exec tg-0 -- vmrunner start: $(cat "$S/work/start.txt")"
    power_await_count 240 "VMRUNNER-GUEST: booted" $((booted + 2))
    say "vmrunner start ($(head -1 "$S/work/start.txt")): the guest booted again $((SECONDS - tl)) s later"
    power_await_label running
    power_same_pod_ready "vmrunner start"
    power_pod "after vmrunner start"
    # ---- 4. the Events of the lifecycle
    local r
    for r in VmStarted Booted StopRequested VmStopping PoweredOff VmStopped StartRequested ConfigRejected; do
        await 60 "$r event" reporting_has_event $r || { reporting_events; die "no $r Event on tg-0"; }
    done
    say "kubectl get events --field-selector involvedObject.name=tg-0 (the runner's) through the lifecycle:"
    reporting_events | sed 's/^/    /'
    say "stop and start the Kubernetes way: passed in $((SECONDS - tp)) s"
}
