{{/* Names and labels. */}}
{{- define "vmrunner.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- /* The full name, also the StatefulSet's: at most 52 characters, because the
       controller-revision-hash label of its pods is "<name>-<hash of up to 10>" and a label
       value has at most 63. A longer name is cut to 43 characters plus "-" and 8 hex digits of
       its SHA-256, so two long names stay distinct. Dots (allowed in release names) become
       dashes: the name is also the pod's hostname and the Service's. */ -}}
{{- define "vmrunner.fullname" -}}
{{- $full := "" -}}
{{- if .Values.fullnameOverride -}}
{{- $full = .Values.fullnameOverride -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- $full = .Release.Name -}}
{{- else -}}
{{- $full = printf "%s-%s" .Release.Name $name -}}
{{- end -}}
{{- end -}}
{{- $full = replace "." "-" $full | lower -}}
{{- if gt (len $full) 52 -}}
{{- printf "%s-%s" (trunc 43 $full | trimSuffix "-") (sha256sum $full | trunc 8) -}}
{{- else -}}
{{- $full -}}
{{- end -}}
{{- end -}}

{{- /* The headless Service the StatefulSet's serviceName names. A Service name must start
       with a letter (RFC 1035); a full name starting with a digit gets a "vm-" in front. */ -}}
{{- define "vmrunner.serviceName" -}}
{{- $full := include "vmrunner.fullname" . -}}
{{- if regexMatch "^[a-z]" $full -}}{{ $full }}{{- else -}}vm-{{ $full }}{{- end -}}
{{- end -}}

{{- define "vmrunner.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vmrunner.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "vmrunner.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "vmrunner.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Fixed paths in the container. */}}
{{- define "vmrunner.dataDir" -}}/var/opt/vmrunner/data{{- end -}}
{{- /* runtimeDir is below the emptyDir at /run/vmrunner, not the mount point itself: the
       runner creates it (mode 0700) and removes it on exit. */ -}}
{{- define "vmrunner.runtimeDir" -}}/run/vmrunner/runtime{{- end -}}
{{- define "vmrunner.diskPath" -}}
{{- if eq (default "Block" .volumeMode) "Block" -}}
/dev/vmrunner/{{ .name }}
{{- else -}}
/var/opt/vmrunner/disks/{{ .name }}
{{- end -}}
{{- end -}}

{{- /* The claim of a disk: its existing claim or the chart's, "<fullname>-disk-<disk>", which
       never equals the data directory's "<fullname>-data" whatever the disk is called. Needs
       (list $ disk). */ -}}
{{- define "vmrunner.diskClaim" -}}
{{- $root := index . 0 -}}{{- $disk := index . 1 -}}
{{- default (printf "%s-disk-%s" (include "vmrunner.fullname" $root) $disk.name) $disk.existingClaim -}}
{{- end -}}

{{- /* Fails on two disks of one name (their claims, volumes and paths would clash). */ -}}
{{- define "vmrunner.checkDisks" -}}
{{- $seen := dict -}}
{{- range .Values.disks -}}
{{- if hasKey $seen .name -}}
{{- fail (printf "disks: two disks are named %q; disk names must be unique" .name) -}}
{{- end -}}
{{- $_ := set $seen .name true -}}
{{- end -}}
{{- end -}}

{{- /* A size as the runner reads it (config/Sizes: a bare number is bytes; K M G T P E and
       k m g t p e binary as in QEMU's -m; Ki/KiB ... Ei/EiB binary; kB MB GB TB PB EB decimal;
       B bytes; a fraction allowed, white space between number and unit allowed) in bytes, as
       a float64. Needs (list KEY VALUE); fails naming KEY for what the runner would refuse. */ -}}
{{- define "vmrunner.sizeBytes" -}}
{{- $key := index . 0 -}}{{- $value := index . 1 -}}
{{- $bytes := 0.0 -}}
{{- if or (kindIs "float64" $value) (kindIs "int64" $value) (kindIs "int" $value) -}}
{{- $bytes = float64 $value -}}
{{- else -}}
{{- $text := toString $value | nospace -}}
{{- if not (regexMatch "^([0-9]+([.][0-9]*)?|[.][0-9]+)[A-Za-z]*$" $text) -}}
{{- fail (printf "%s: %q is not a size (expected a number with an optional unit, e.g. 512M, 1G, 2GiB, 2GB)" $key (toString $value)) -}}
{{- end -}}
{{- $number := regexFind "^[0-9]*[.]?[0-9]*" $text -}}
{{- $unit := trimPrefix $number $text -}}
{{- $factors := dict "" 1.0 "B" 1.0 -}}
{{- $binary := 1.0 -}}{{- $decimal := 1.0 -}}
{{- range $p := list "K" "M" "G" "T" "P" "E" -}}
{{- $binary = mulf $binary 1024.0 -}}{{- $decimal = mulf $decimal 1000.0 -}}
{{- $_ := set $factors $p $binary -}}
{{- $_ := set $factors (lower $p) $binary -}}
{{- $_ := set $factors (printf "%si" $p) $binary -}}
{{- $_ := set $factors (printf "%siB" $p) $binary -}}
{{- $_ := set $factors (printf "%sB" (ternary "k" $p (eq $p "K"))) $decimal -}}
{{- end -}}
{{- if not (hasKey $factors $unit) -}}
{{- fail (printf "%s: %q has an unknown unit %q (allowed: B, K, M, G, T, P, E (binary), Ki/KiB ... Ei/EiB (binary), kB, MB, GB, TB, PB, EB (decimal))" $key (toString $value) $unit) -}}
{{- end -}}
{{- $bytes = mulf (float64 $number) (get $factors $unit) | floor -}}
{{- end -}}
{{- if le $bytes 0.0 -}}
{{- fail (printf "%s: %v is not a positive size" $key $value) -}}
{{- end -}}
{{- $bytes -}}
{{- end -}}

{{- /* A size of config.yaml in MiB, rounded up. Needs (list KEY VALUE). */ -}}
{{- define "vmrunner.sizeMiB" -}}
{{- divf (include "vmrunner.sizeBytes" . | float64) 1048576.0 | ceil | int64 -}}
{{- end -}}

{{- /* Fails on what the runner would refuse and the values alone tell, so that an upgrade
       stops before the ConfigMap changes (a running runner would ignore the edit, a new one
       would not start): malformed sizes, currentRam above maximumRam, currentCpus above
       maximumCpus. */ -}}
{{- define "vmrunner.checkVm" -}}
{{- $vm := .Values.vm -}}
{{- $max := 0.0 -}}
{{- if not (kindIs "invalid" $vm.maximumRam) -}}
{{- $max = include "vmrunner.sizeBytes" (list "vm.maximumRam" $vm.maximumRam) | float64 -}}
{{- end -}}
{{- if not (kindIs "invalid" $vm.currentRam) -}}
{{- $current := include "vmrunner.sizeBytes" (list "vm.currentRam" $vm.currentRam) | float64 -}}
{{- if and (gt $max 0.0) (gt $current $max) -}}
{{- fail (printf "vm.currentRam: %v is larger than vm.maximumRam (%v)" $vm.currentRam $vm.maximumRam) -}}
{{- end -}}
{{- end -}}
{{- if and (not (kindIs "invalid" $vm.currentCpus)) (not (kindIs "invalid" $vm.maximumCpus)) -}}
{{- if gt (atoi (toString $vm.currentCpus)) (atoi (toString $vm.maximumCpus)) -}}
{{- fail (printf "vm.currentCpus: %v is more than vm.maximumCpus (%v); raise vm.maximumCpus (a change of it takes effect at the next start)" $vm.currentCpus $vm.maximumCpus) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- /* The container's memory in MiB: vm.maximumRam + the runner's overhead + QEMU's own
       overhead under the accelerator (+ swtpm with vm.useTpm); see values.yaml "memory". */ -}}
{{- define "vmrunner.memoryMiB" -}}
{{- $vm := .Values.vm -}}
{{- $m := .Values.memory -}}
{{- $ram := include "vmrunner.sizeMiB" (list "vm.maximumRam" (default "1G" $vm.maximumRam)) | int64 -}}
{{- $accel := toString (default "kvm" $vm.accelerator) -}}
{{- $qemu := ternary $m.qemuKvmMiB $m.qemuTcgMiB (eq $accel "kvm") -}}
{{- $tpm := ternary $m.swtpmMiB 0 (eq (toString $vm.useTpm) "true") -}}
{{- add $ram $m.runnerMiB $qemu $tpm -}}
{{- end -}}

{{/* The VM's name in config.yaml. */}}
{{- define "vmrunner.vmName" -}}
{{- default (include "vmrunner.fullname" .) .Values.vm.name -}}
{{- end -}}

{{/* vm.powerdownTimeout in seconds (the runner's default is 900). */}}
{{- define "vmrunner.powerdownTimeout" -}}
{{- $t := .Values.vm.powerdownTimeout -}}
{{- if kindIs "invalid" $t -}}900{{- else -}}{{ atoi (toString $t) }}{{- end -}}
{{- end -}}

{{/* Whether the VM has a bridged (tap) interface; the runner's default network is one. */}}
{{- define "vmrunner.hasTap" -}}
{{- $net := .Values.vm.network -}}
{{- if not (hasKey .Values.vm "network") -}}true
{{- else -}}
{{- range $net -}}{{- if eq (toString .type) "tap" -}}true{{- end -}}{{- end -}}
{{- end -}}
{{- end -}}

{{/* config.yaml: the runner keys, then "vm" with the disks in front of its drives. */}}
{{- define "vmrunner.config" -}}
{{- $runner := dict "dataDir" (include "vmrunner.dataDir" .) "runtimeDir" (include "vmrunner.runtimeDir" .) -}}
{{- range $key, $value := .Values.runner -}}
{{- if and (not (kindIs "invalid" $value)) (not (and (kindIs "string" $value) (eq $value ""))) (not (and (kindIs "map" $value) (empty $value))) -}}
{{- $_ := set $runner $key $value -}}
{{- end -}}
{{- end -}}
{{- $vm := dict -}}
{{- range $key, $value := .Values.vm -}}
{{- if not (kindIs "invalid" $value) -}}{{- $_ := set $vm $key $value -}}{{- end -}}
{{- end -}}
{{- $_ := set $vm "name" (include "vmrunner.vmName" .) -}}
{{- $drives := list -}}
{{- range .Values.disks -}}
{{- if ne .attach false -}}
{{- $drive := dict "type" "raw" -}}
{{- if eq (default "Block" .volumeMode) "Block" -}}
{{- $_ := set $drive "device" (include "vmrunner.diskPath" .) -}}
{{- else -}}
{{- $_ := set $drive "file" (printf "%s/%s" (include "vmrunner.diskPath" .) (default "disk.img" .image)) -}}
{{- end -}}
{{- if not (kindIs "invalid" .bootindex) -}}{{- $_ := set $drive "bootindex" .bootindex -}}{{- end -}}
{{- $drives = append $drives $drive -}}
{{- end -}}
{{- end -}}
{{- $drives = concat $drives (default list .Values.vm.drives) -}}
{{- if $drives -}}{{- $_ := set $vm "drives" $drives -}}{{- else -}}{{- $_ := unset $vm "drives" -}}{{- end -}}
{{- $_ := set $runner "vm" $vm -}}
{{- dict "/Runner" $runner | toYaml -}}
{{- end -}}

{{- /* The Secret projected as display-password; empty when there is none. */ -}}
{{- define "vmrunner.displaySecret" -}}
{{- with .Values.displayPassword -}}
{{- if .secretName -}}{{ .secretName }}
{{- else if .password -}}{{ include "vmrunner.fullname" $ }}-display
{{- end -}}
{{- end -}}
{{- end -}}

{{- /* A probe's timing fields (values.yaml "probes"). */ -}}
{{- define "vmrunner.probeTiming" -}}
{{- range $key := list "initialDelaySeconds" "periodSeconds" "timeoutSeconds" "failureThreshold" -}}
{{- if hasKey $ $key }}
{{ $key }}: {{ get $ $key }}
{{- end -}}
{{- end -}}
{{- end -}}

{{- /* The port of runner.http ("ADDR:PORT" or "PORT"); fails when the kubelet could not reach
       it on the pod's address. */ -}}
{{- define "vmrunner.httpPort" -}}
{{- $http := toString (default "" .Values.runner.http) -}}
{{- if not $http -}}
{{- fail "runner.http: the probes and the Service's metrics port need the runner's HTTP endpoints; set it, e.g. \"0.0.0.0:8080\"" -}}
{{- end -}}
{{- if or (not (contains ":" $http)) (hasPrefix "127." $http) (hasPrefix "[::1]" $http) (hasPrefix "localhost" $http) -}}
{{- fail (printf "runner.http: %q listens on the loopback address, where the kubelet's probes cannot reach it; use \"0.0.0.0:PORT\"" $http) -}}
{{- end -}}
{{- regexFind "[0-9]+$" $http -}}
{{- end -}}

{{- /* The ports forwarded into the guest (vm.network[].ports of passt and user interfaces) as
       a YAML list of {name, port, protocol}: "22", "8080:80", "53/udp" are pod ports 22, 8080
       and 53 (UDP). */ -}}
{{- define "vmrunner.guestPorts" -}}
{{- $ports := list -}}
{{- range .Values.vm.network -}}
{{- range .ports -}}
{{- $spec := toString . -}}
{{- $udp := hasSuffix "/udp" $spec -}}
{{- $pod := regexReplaceAll "/(tcp|udp)$" $spec "" | splitList ":" | first -}}
{{- $name := printf "guest-%s%s" (ternary "udp-" "" $udp) $pod -}}
{{- $ports = append $ports (dict "name" $name "port" (atoi $pod) "protocol" (ternary "UDP" "TCP" $udp)) -}}
{{- end -}}
{{- end -}}
{{- toYaml $ports -}}
{{- end -}}

{{- /* The SPICE port when the VM has a display (vm.display.spice, or vm.spice of older files);
       empty without. The runner's default is 5900. */ -}}
{{- define "vmrunner.spicePort" -}}
{{- $spice := dig "display" "spice" nil .Values.vm | default (dig "spice" nil .Values.vm) -}}
{{- if not (kindIs "invalid" $spice) -}}{{ dig "port" 5900 (default dict $spice) }}{{- end -}}
{{- end -}}

{{- /* The pod's securityContext: the image's user with its volumes' group, the kvm group with
       KVM, the runtime's seccomp profile; root with a tap interface (a non-root process never
       gets NET_ADMIN: Kubernetes sets no ambient capabilities). podSecurityContext goes over it. */ -}}
{{- define "vmrunner.podSecurityContext" -}}
{{- $s := .Values.security -}}
{{- $tap := eq (include "vmrunner.hasTap" .) "true" -}}
{{- $pod := dict "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- if $tap -}}
{{- $_ := set $pod "runAsUser" 0 -}}{{- $_ := set $pod "runAsNonRoot" false -}}
{{- else -}}
{{- $_ := set $pod "runAsUser" $s.runAsUser -}}{{- $_ := set $pod "runAsNonRoot" true -}}
{{- end -}}
{{- $_ := set $pod "runAsGroup" (ternary 0 $s.runAsGroup $tap) -}}
{{- with $s.fsGroup -}}{{- $_ := set $pod "fsGroup" . -}}{{- end -}}
{{- $groups := default list $s.supplementalGroups -}}
{{- if and (eq (include "vmrunner.accelerator" .) "kvm") (not (kindIs "invalid" $s.kvmGroup)) -}}
{{- $groups = append $groups $s.kvmGroup -}}
{{- end -}}
{{- with $groups -}}{{- $_ := set $pod "supplementalGroups" (uniq .) -}}{{- end -}}
{{- mergeOverwrite $pod (deepCopy .Values.podSecurityContext) | toYaml -}}
{{- end -}}

{{- /* Every container's securityContext: nothing but NET_ADMIN with a tap interface.
       securityContext goes over it. */ -}}
{{- define "vmrunner.containerSecurityContext" -}}
{{- $caps := dict "drop" (list "ALL") -}}
{{- if eq (include "vmrunner.hasTap" .) "true" -}}{{- $_ := set $caps "add" (list "NET_ADMIN") -}}{{- end -}}
{{- $c := dict "allowPrivilegeEscalation" false "privileged" false "readOnlyRootFilesystem" true "capabilities" $caps -}}
{{- mergeOverwrite $c (deepCopy .Values.securityContext) | toYaml -}}
{{- end -}}

{{- /* vm.accelerator, the runner's default kvm when unset. */ -}}
{{- define "vmrunner.accelerator" -}}
{{- toString (default "kvm" .Values.vm.accelerator) -}}
{{- end -}}

{{- /* The mode of the display password's files: readable by the fsGroup, or only by the
       owner (root; the runner is root only with a tap interface). */ -}}
{{- define "vmrunner.secretMode" -}}
{{- $fsGroup := dig "fsGroup" .Values.security.fsGroup .Values.podSecurityContext -}}
{{- if not (kindIs "invalid" $fsGroup) -}}288{{- /* 0440 */ -}}
{{- else if eq (include "vmrunner.hasTap" .) "true" -}}256{{- /* 0400 */ -}}
{{- else -}}
{{- fail "displayPassword: the runner's user reads the Secret's files through the volumes' group: set security.fsGroup" -}}
{{- end -}}
{{- end -}}

{{- /* The CPU request: cpu.perVcpu for each of vm.maximumCpus (default 1), in millicores. */ -}}
{{- define "vmrunner.cpuRequest" -}}
{{- $per := toString .Values.cpu.perVcpu -}}
{{- $milli := 0 -}}
{{- if hasSuffix "m" $per -}}{{- $milli = trimSuffix "m" $per | atoi -}}
{{- else -}}{{- $milli = mulf (float64 $per) 1000.0 | int -}}
{{- end -}}
{{- $cpus := atoi (toString (default .Values.vm.currentCpus .Values.vm.maximumCpus | default 1)) -}}
{{- printf "%dm" (mul $milli $cpus) -}}
{{- end -}}

{{- /* The runner's environment for its reports (reporting.enabled): which pod it is, from the
       downward API; the API server's address and the token are the pod's own. */ -}}
{{- define "vmrunner.podEnv" -}}
- name: VMRUNNER_POD_NAME
  valueFrom: {fieldRef: {fieldPath: metadata.name}}
- name: VMRUNNER_POD_NAMESPACE
  valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
- name: VMRUNNER_POD_UID
  valueFrom: {fieldRef: {fieldPath: metadata.uid}}
- name: VMRUNNER_NODE_NAME
  valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
{{- end -}}
