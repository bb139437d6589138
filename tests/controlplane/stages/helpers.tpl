{{- /*
Shared Go templates for the kwait pod stages. The loader (tests/controlplane/stages.py) puts
this text in place of the marker line (a template comment naming kwait:helpers) of every
stage template.

kwait.conditions: the five pod conditions in the kubelet's order, as one YAML key
  `conditions:`. Arguments (a dict): pod, now, set = {type: [status, reason, message]}.
  Types not in `set` keep their old value; lastTransitionTime changes only when the status
  flips; observedGeneration is the pod's generation. A ContainersNotReady reason gets the
  kubelet's message listing the containers.
kwait.container: one item of `containerStatuses`, as a JSON flow map. Arguments: pod, now,
  status (the old container status; at least name), to (creating | running | err-image-pull
  | image-pull-backoff | invalid-image | config-error | exited | crash-backoff | stopped),
  restart (bool, with running), exitCode (string, with exited), message (with config-error).
*/ -}}
{{- define "kwait.conditions" -}}
{{- $pod := .pod -}}{{- $now := .now -}}{{- $set := .set -}}
{{- $names := list -}}
{{- range $pod.spec.containers }}{{ $names = append $names .name }}{{ end -}}
conditions:
{{- range $type := list "PodReadyToStartContainers" "Initialized" "Ready" "ContainersReady" "PodScheduled" }}
{{- $old := dict -}}
{{- range $pod.status.conditions }}{{ if eq .type $type }}{{ $old = . }}{{ end }}{{ end -}}
{{- $c := dict -}}
{{- if hasKey $set $type -}}
{{- $v := get $set $type -}}
{{- $c = dict "type" $type "status" (index $v 0) -}}
{{- if index $v 1 }}{{ $_ := set $c "reason" (index $v 1) }}{{ end -}}
{{- if eq (index $v 1) "ContainersNotReady" -}}
{{- $_ := set $c "message" (printf "containers with unready status: [%s]" (join " " $names)) -}}
{{- else if index $v 2 -}}
{{- $_ := set $c "message" (index $v 2) -}}
{{- end -}}
{{- else if $old -}}
{{- $c = omit $old "lastTransitionTime" "observedGeneration" "lastProbeTime" -}}
{{- end -}}
{{- if $c }}
{{- if and $old (eq (toString $old.status) (toString $c.status)) -}}
{{- $_ := set $c "lastTransitionTime" $old.lastTransitionTime -}}
{{- else -}}
{{- $_ := set $c "lastTransitionTime" $now -}}
{{- end -}}
{{- $_ := set $c "lastProbeTime" nil -}}
{{- $_ := set $c "observedGeneration" $pod.metadata.generation }}
- {{ toJson $c }}
{{- end -}}
{{- end }}
{{- end -}}
{{- define "kwait.container" -}}
{{- $pod := .pod -}}{{- $now := .now -}}{{- $old := .status -}}{{- $to := .to -}}
{{- $name := $old.name -}}
{{- $image := $old.image -}}
{{- range $pod.spec.containers }}{{ if eq .name $name }}{{ $image = .image }}{{ end }}{{ end -}}
{{- /* The reference the runtime reports: docker.io/library/ and :latest made explicit. */ -}}
{{- $ref := $image -}}
{{- if not (contains "/" $ref) -}}
{{- $ref = printf "docker.io/library/%s" $ref -}}
{{- else -}}
{{- $first := first (splitList "/" $ref) -}}
{{- if not (or (contains "." $first) (contains ":" $first) (eq $first "localhost")) -}}
{{- $ref = printf "docker.io/%s" $ref -}}
{{- end -}}
{{- end -}}
{{- if not (regexMatch "[:@][^/]*$" $ref) }}{{ $ref = printf "%s:latest" $ref }}{{ end -}}
{{- $imageID := printf "%s@sha256:%s" (regexReplaceAll "(@.*|:[^:/]*)$" $ref "") (sha256sum $ref) -}}
{{- if contains "@" $ref }}{{ $imageID = $ref }}{{ end -}}
{{- $restarts := 0 -}}
{{- if $old.restartCount }}{{ $restarts = atoi (toString $old.restartCount) }}{{ end -}}
{{- $lastState := dict -}}
{{- if $old.lastState }}{{ $lastState = $old.lastState }}{{ end -}}
{{- $state := dict -}}
{{- if $old.state }}{{ $state = $old.state }}{{ end -}}
{{- $c := dict "name" $name "image" $image "imageID" "" "ready" false "started" false -}}
{{- if $old.imageID }}{{ $_ := set $c "imageID" $old.imageID }}{{ end -}}
{{- if $old.containerID }}{{ $_ := set $c "containerID" $old.containerID }}{{ end -}}
{{- if $old.imageID }}{{ $_ := set $c "image" $old.image }}{{ end -}}
{{- if eq $to "creating" -}}
{{- $_ := set $c "state" (dict "waiting" (dict "reason" "ContainerCreating")) -}}
{{- else if eq $to "running" -}}
{{- if .restart -}}
{{- $restarts = add $restarts 1 -}}
{{- if $state.terminated }}{{ $lastState = dict "terminated" $state.terminated }}{{ end -}}
{{- end -}}
{{- $_ := set $c "image" $ref -}}
{{- $_ := set $c "imageID" $imageID -}}
{{- $_ := set $c "containerID" (printf "containerd://%s" (sha256sum (printf "%s/%s/%d" $pod.metadata.uid $name $restarts))) -}}
{{- $_ := set $c "state" (dict "running" (dict "startedAt" $now)) -}}
{{- $_ := set $c "ready" true -}}
{{- $_ := set $c "started" true -}}
{{- else if eq $to "err-image-pull" -}}
{{- $msg := printf "rpc error: code = NotFound desc = failed to pull and unpack image %q: failed to resolve reference %q: %s: not found" $ref $ref $ref -}}
{{- $_ := set $c "state" (dict "waiting" (dict "reason" "ErrImagePull" "message" $msg)) -}}
{{- else if eq $to "image-pull-backoff" -}}
{{- $msg := printf "Back-off pulling image %q" $image -}}
{{- $_ := set $c "state" (dict "waiting" (dict "reason" "ImagePullBackOff" "message" $msg)) -}}
{{- else if eq $to "invalid-image" -}}
{{- $msg := printf "Failed to apply default image tag %q: couldn't parse image name %q: invalid reference format" $image $image -}}
{{- $_ := set $c "state" (dict "waiting" (dict "reason" "InvalidImageName" "message" $msg)) -}}
{{- else if eq $to "config-error" -}}
{{- $_ := set $c "state" (dict "waiting" (dict "reason" "CreateContainerConfigError" "message" .message)) -}}
{{- else if eq $to "exited" -}}
{{- $code := atoi (toString .exitCode) -}}
{{- $t := dict "exitCode" $code "reason" (ternary "Completed" "Error" (eq $code 0)) "finishedAt" $now -}}
{{- with dig "running" "startedAt" "" $state }}{{ $_ := set $t "startedAt" . }}{{ end -}}
{{- with $old.containerID }}{{ $_ := set $t "containerID" . }}{{ end -}}
{{- $_ := set $c "state" (dict "terminated" $t) -}}
{{- else if eq $to "crash-backoff" -}}
{{- $backoffs := list "10s" "20s" "40s" "1m20s" "2m40s" "5m0s" -}}
{{- $i := sub (max $restarts 1) 1 -}}
{{- if gt $i 5 }}{{ $i = 5 }}{{ end -}}
{{- $msg := printf "back-off %s restarting failed container=%s pod=%s_%s(%s)" (index $backoffs $i) $name $pod.metadata.name $pod.metadata.namespace $pod.metadata.uid -}}
{{- if $state.terminated }}{{ $lastState = dict "terminated" $state.terminated }}{{ end -}}
{{- $_ := set $c "state" (dict "waiting" (dict "reason" "CrashLoopBackOff" "message" $msg)) -}}
{{- else if eq $to "stopped" -}}
{{- if $state.terminated -}}
{{- $_ := set $c "state" $state -}}
{{- else if $state.running -}}
{{- $t := dict "exitCode" 0 "reason" "Completed" "startedAt" $state.running.startedAt "finishedAt" $now -}}
{{- with $old.containerID }}{{ $_ := set $t "containerID" . }}{{ end -}}
{{- $_ := set $c "state" (dict "terminated" $t) -}}
{{- else -}}
{{- $t := dict "exitCode" 137 "reason" "ContainerStatusUnknown" "message" "The container could not be located when the pod was terminated" -}}
{{- $_ := set $c "state" (dict "terminated" $t) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $c "restartCount" $restarts -}}
{{- $_ := set $c "lastState" $lastState -}}
- {{ toJson $c }}
{{- end -}}
