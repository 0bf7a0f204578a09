# The cluster stage's checks of the runner's reports to the API server (issue 21): sourced by
# scripts/k8s-cluster-test.sh, which calls these functions at its steps. They use its
# kubectl, helm, $NS, $S, say and die; the release is "tg", its pod "tg-0".

# The Events of the pod, as "kubectl get events" lists them.
reporting_events() {
    kubectl -n $NS get events --field-selector involvedObject.name=tg-0 --sort-by=.lastTimestamp \
        -o custom-columns='SOURCE:.source.component,TYPE:.type,REASON:.reason,COUNT:.count,MESSAGE:.message' \
        2>/dev/null | awk 'NR == 1 || $1 == "vmrunner"' 
}

reporting_has_event() { # REASON [TEXT]: an Event of the runner with that reason (and text)
    reporting_events | awk -v r="$1" '$3 == r' | grep -q -e "${2:-}"
}

# After the install and the guest's boot: VmStarted and Booted, the state on the pod, helm test.
reporting_after_boot() {
    await 60 "VmStarted event" reporting_has_event VmStarted \
        && await 60 "Booted event" reporting_has_event Booted \
        || { reporting_events; kubectl -n $NS describe pod tg-0 | tail -15; die "no VmStarted/Booted Events from the runner"; }
    await 60 "state label" sh -c "[ \"\$(kubectl -n $NS get pod tg-0 -o jsonpath='{.metadata.labels.vmrunner\.dev/state}')\" = running ]" \
        || die "the pod's label vmrunner.dev/state is not running: $(kubectl -n $NS get pod tg-0 --show-labels)"
    say "kubectl get events (the runner's, on tg-0):"
    reporting_events | sed 's/^/    /'
    say "kubectl get pod -L vmrunner.dev/state:"
    kubectl -n $NS get pod tg-0 -L vmrunner.dev/state | sed 's/^/    /'
    say "annotations: $(kubectl -n $NS get pod tg-0 -o jsonpath='{.metadata.annotations}')"
    "$helm" test tg -n $NS --logs --timeout 90s > "$S/work/helm-test.log" 2>&1 \
        || { cat "$S/work/helm-test.log"; die "helm test"; }
    grep -q "VM state: running" "$S/work/helm-test.log" || { cat "$S/work/helm-test.log"; die "helm test did not show the state"; }
    say "helm test: passed ($(grep -m1 'VM state' "$S/work/helm-test.log"))"
}

# After the bad ConfigMap edits: a ConfigRejected Event naming the key.
reporting_after_bad_edits() {
    await 60 "ConfigRejected event" reporting_has_event ConfigRejected vm.currentRam || { reporting_events; die "no ConfigRejected Event naming vm.currentRam"; }
    say "ConfigRejected: $(reporting_events | awk '$3 == "ConfigRejected"' | head -1 | cut -c1-200)"
}

# After the uninstall (Events outlive the pod): what the runner could still say. helm uninstall
# deletes the ServiceAccount with the StatefulSet, so its token is refused (401) by the time
# the runner stops: VmStopping/PoweredOff/VmStopped are expected only from a stop that leaves the
# release (vm.state Stopped, a deleted pod, the guest's own poweroff).
reporting_after_uninstall() {
    say "kubectl get events after helm uninstall:"
    reporting_events | sed 's/^/    /'
}
