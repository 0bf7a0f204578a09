#!/bin/bash
# A single-node Kubernetes on this machine, for tests: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, the kubelet and kube-proxy (binaries from
# build-k8s.sh), with containerd and runc as the container runtime. State is kept in STATE.
#
# The pod network: the CNI plugins bridge (a bridge vmrk8s0 with the gateway 10.244.0.1, pods
# masqueraded to the outside), host-local (pod addresses from 10.244.0.0/24), portmap
# (hostPort) and loopback, from Debian's containernetworking-plugins. kube-proxy (iptables mode)
# makes Services (10.96.0.0/16) work; br_netfilter with bridge-nf-call-iptables=1 is needed for
# a Service whose pod is on the same bridge as its client. The API server listens on the
# bridge's gateway address only, so that pods reach it through the "kubernetes" Service, and the
# ServiceAccount admission plugin gives pods their tokens. There is no DNS.
# 'down' removes what 'up' made on the host: the bridge, the iptables chains of the kubelet,
# kube-proxy and this CNI network, and the sysctls it changed (ip_forward, route_localnet).
#
#   deploy/k8s/cluster.sh up BIN_DIR STATE    start it; KUBECONFIG is STATE/kubeconfig
#   deploy/k8s/cluster.sh down STATE          stop what 'up' started (by the recorded pids)
#   deploy/k8s/cluster.sh import STATE TAR    import an OCI archive into containerd (k8s.io)
#
# Needs (apt): etcd-server containerd runc containernetworking-plugins openssl.
set -euo pipefail
cmd=$1; shift

# The pod network; the API server's address is the bridge's.
bridge=vmrk8s0 network=vmrunner-k8s pods=10.244.0.0/24 gateway=10.244.0.1 services=10.96.0.0/16
sysctls="net/ipv4/ip_forward net/ipv4/conf/all/route_localnet"

start() { # NAME COMMAND...: in the background, log and pid in STATE
    local name=$1; shift
    "$@" > "$C/$name.log" 2>&1 &
    echo $! > "$C/$name.pid"
}

up() {
    B=$1 C=$2
    mkdir -p "$C"/{etcd,pki,containerd/root,containerd/state,cni/ipam,kubelet/root,kubelet/pki}
    if [ ! -f "$C/pki/sa.key" ]; then
        openssl genrsa -out "$C/pki/sa.key" 2048 2>/dev/null
        openssl rsa -in "$C/pki/sa.key" -pubout -out "$C/pki/sa.pub" 2>/dev/null
    fi
    echo "admintoken,admin,admin,system:masters" > "$C/pki/tokens.csv"
    cat > "$C/kubeconfig" <<K
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "https://$gateway:6443", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: admintoken}}]
contexts: [{name: local, context: {cluster: local, user: admin}}]
current-context: local
K
    # restrict_oom_score_adj: without CAP_SYS_RESOURCE (as in our CI), the pause container's
    # oom_score_adj of -998 makes runc's init fail.
    cat > "$C/containerd/config.toml" <<T
version = 2
root = "$C/containerd/root"
state = "$C/containerd/state"
[grpc]
  address = "$C/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:3.2"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$C/cni"
T
    # containerd sets up the loopback interface itself (the loopback plugin, from bin_dir) and
    # then the first network of conf_dir.
    cat > "$C/cni/10-$network.conflist" <<N
{"cniVersion": "0.4.0", "name": "$network", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$C/cni/ipam", "routes": [{"dst": "0.0.0.0/0"}],
            "ranges": [[{"subnet": "$pods", "gateway": "$gateway"}]]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
N
    # What 'down' restores: the bridge plugin turns on forwarding, kube-proxy route_localnet.
    [ -f "$C/sysctl.saved" ] || for k in $sysctls; do echo "$k $(cat "/proc/sys/$k")"; done > "$C/sysctl.saved"
    # The bridge exists before the pods (the API server listens on its address); the bridge
    # plugin takes it as it is.
    ip link show "$bridge" >/dev/null 2>&1 || ip link add "$bridge" type bridge
    ip addr replace "$gateway/${pods#*/}" dev "$bridge"
    ip link set "$bridge" up
    cat > "$C/kubelet/config.yaml" <<Y
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
healthzBindAddress: 127.0.0.1
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
syncFrequency: 5s
evictionHard: {}
imageGCHighThresholdPercent: 100
Y
    start etcd etcd --data-dir "$C/etcd" --listen-client-urls http://127.0.0.1:2379 \
        --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
        --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster default=http://127.0.0.1:2380
    start containerd containerd --config "$C/containerd/config.toml"
    start apiserver "$B/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 --bind-address=$gateway \
        --advertise-address=$gateway --secure-port=6443 --cert-dir="$C/pki" \
        --token-auth-file="$C/pki/tokens.csv" --authorization-mode=RBAC \
        --service-account-issuer=https://kubernetes.default.svc \
        --service-account-key-file="$C/pki/sa.pub" --service-account-signing-key-file="$C/pki/sa.key" \
        --service-cluster-ip-range=$services --allow-privileged=true --enable-priority-and-fairness=false
    export KUBECONFIG=$C/kubeconfig
    for _ in $(seq 90); do kubectl get --raw /readyz >/dev/null 2>&1 && break; sleep 1; done
    kubectl get --raw /readyz >/dev/null || { echo "cluster.sh: the API server did not get ready" >&2; return 1; }
    start controller-manager "$B/kube-controller-manager" --kubeconfig="$C/kubeconfig" \
        --bind-address=127.0.0.1 --port=0 --leader-elect=false \
        --service-account-private-key-file="$C/pki/sa.key" --root-ca-file="$C/pki/apiserver.crt" \
        --controllers='*,-nodeipam,-csrsigning'
    start scheduler "$B/kube-scheduler" --kubeconfig="$C/kubeconfig" --bind-address=127.0.0.1 \
        --port=0 --leader-elect=false
    for _ in $(seq 30); do [ -S "$C/containerd/containerd.sock" ] && break; sleep 1; done
    if ! ctr -a "$C/containerd/containerd.sock" -n k8s.io images ls -q | grep -qx 'localhost/pause:3.2'; then
        local p=$C/pause-image
        mkdir -p "$p"
        cp "$B/pause" "$p/pause"
        printf 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n' > "$p/Containerfile"
        "$(dirname "$0")/../container/podman.sh" build -q -t localhost/pause:3.2 "$p" >/dev/null
        rm -f "$p/pause.tar"
        "$(dirname "$0")/../container/podman.sh" save -q --format oci-archive -o "$p/pause.tar" localhost/pause:3.2
        ctr -a "$C/containerd/containerd.sock" -n k8s.io images import "$p/pause.tar" >/dev/null
    fi
    # The node is called localhost: the API server reaches the kubelet (kubectl logs, exec) by
    # the node's host name, and the kubelet listens on 127.0.0.1 only (anonymous access).
    start kubelet "$B/kubelet" --config="$C/kubelet/config.yaml" --kubeconfig="$C/kubeconfig" \
        --root-dir="$C/kubelet/root" --cert-dir="$C/kubelet/pki" --container-runtime=remote \
        --container-runtime-endpoint="unix://$C/containerd/containerd.sock" --hostname-override=localhost
    for _ in $(seq 120); do
        if [ "$(kubectl get node localhost -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; then
            # Without CAP_SYS_RESOURCE (our CI) kube-proxy may neither raise conntrack
            # limits nor lower its oom_score_adj: leave both as they are.
            start kube-proxy "$B/kube-proxy" --kubeconfig="$C/kubeconfig" --proxy-mode=iptables \
                --hostname-override=localhost --cluster-cidr=$pods --metrics-bind-address=127.0.0.1:10249 \
                --healthz-bind-address=127.0.0.1:10256 --conntrack-max-per-core=0 --conntrack-min=0 \
                --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0 --oom-score-adj=0
            return 0
        fi
        sleep 1
    done
    echo "cluster.sh: the node did not get ready" >&2
    return 1
}

stop_pid() { # NAME: SIGTERM to the recorded pid, SIGKILL after 20 s
    local f=$C/$1.pid pid
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

down() {
    C=$1
    export KUBECONFIG=$C/kubeconfig
    if [ -f "$C/apiserver.pid" ] && [ -f "$C/kubelet.pid" ]; then
        kubectl delete pods --all -A --wait=true --timeout=90s >/dev/null 2>&1 || true
    fi
    for n in kube-proxy kubelet scheduler controller-manager apiserver; do stop_pid "$n"; done
    # Containers still running (pause, a pod that outlived the deletion): stop them through
    # containerd before containerd itself.
    if [ -S "$C/containerd/containerd.sock" ]; then
        local a=(-a "$C/containerd/containerd.sock" -n k8s.io)
        for t in $(ctr "${a[@]}" tasks ls -q 2>/dev/null); do ctr "${a[@]}" tasks kill -s KILL "$t" >/dev/null 2>&1 || true; done
        sleep 1
        for t in $(ctr "${a[@]}" tasks ls -q 2>/dev/null); do ctr "${a[@]}" tasks delete -f "$t" >/dev/null 2>&1 || true; done
    fi
    for n in containerd etcd; do stop_pid "$n"; done
    # The kubelet bind-mounts its root onto itself; containerd leaves mounts behind when killed.
    { grep -o " $C/[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    # What 'up' made on the host (the veths went with the pods' network namespaces).
    ! ip link show "$bridge" >/dev/null 2>&1 || ip link delete "$bridge"
    for t in filter nat mangle; do purge_chains "$t"; done
    if [ -f "$C/sysctl.saved" ]; then
        while read -r k v; do echo "$v" > "/proc/sys/$k" || true; done < "$C/sysctl.saved"
        rm -f "$C/sysctl.saved"
    fi
}

# TABLE: removes the iptables chains this cluster made: the kubelet's and kube-proxy's (KUBE-*;
# nothing else on a test machine makes them), the CNI chains of this network (their rules name
# it in a comment), and portmap's shared CNI-HOSTPORT-* chains once no CNI-DN-* chain of any
# network uses them. First the chains are flushed, then every rule that jumps to one of them is
# deleted, then the chains.
purge_chains() {
    local t=$1 all ours c n shared=0
    all=$(iptables -t "$t" -S | awk '$1 == "-N" {print $2}')
    ours=$(grep '^KUBE-' <<< "$all" | tr '\n' ' ' || true)
    for c in $(grep '^CNI-' <<< "$all" || true); do
        ! iptables -t "$t" -S "$c" | grep -qF -- "\"$network\\\"" || ours="$ours $c"
    done
    for c in $(grep '^CNI-DN-' <<< "$all" || true); do
        [[ " $ours " == *" $c "* ]] || shared=1
    done
    [ $shared = 1 ] || ours="$ours $(grep '^CNI-HOSTPORT-' <<< "$all" | tr '\n' ' ' || true)"
    [ -n "${ours// /}" ] || return 0
    for c in $ours; do iptables -t "$t" -F "$c"; done
    for c in $(iptables -t "$t" -S | awk '$1 == "-P" || $1 == "-N" {print $2}'); do
        # Rule numbers of jumps into our chains, deleted from the last one.
        for n in $(iptables -t "$t" -L "$c" -n --line-numbers | awk -v ours=" $ours " \
                'NR > 2 && index(ours, " " $2 " ") {print $1}' | sort -rn); do
            iptables -t "$t" -D "$c" "$n"
        done
    done
    for c in $ours; do iptables -t "$t" -X "$c"; done
}

case $cmd in
up) up "$@" ;;
down) down "$@" ;;
import) ctr -a "$1/containerd/containerd.sock" -n k8s.io images import "$2" >/dev/null ;;
*) echo "usage: cluster.sh up BIN_DIR STATE | down STATE | import STATE TAR" >&2; exit 2 ;;
esac
