{{/* Names and labels. */}}
{{- define "vmrunner.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "vmrunner.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
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

{{/* The claim of a disk: its existing claim or the chart's. Needs (list $ disk). */}}
{{- define "vmrunner.diskClaim" -}}
{{- $root := index . 0 -}}{{- $disk := index . 1 -}}
{{- default (printf "%s-%s" (include "vmrunner.fullname" $root) $disk.name) $disk.existingClaim -}}
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
