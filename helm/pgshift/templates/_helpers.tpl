{{/* The chart name, overridable. */}}
{{- define "pgshift.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The resource name prefix: release and chart, at most 63 characters, never random (Argo CD and Flux re-render it). */}}
{{- define "pgshift.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Recommended labels. */}}
{{- define "pgshift.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "pgshift.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: migration
{{- end }}

{{- define "pgshift.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pgshift.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Names of the objects a pod uses. Argument: a dict with "root" (the chart context) and "hook" (true for the
pre-install/pre-upgrade Job). That Job runs before the release's own objects exist, so it gets copies of its own, named
*-hook, which are hooks themselves and deleted once the hook phase is over; every later pod (the post-phase Job, helm
test) uses the release's objects, which helm uninstall removes.
*/}}
{{- define "pgshift.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create }}
{{- include "pgshift.fullname" .root }}{{ if .hook }}-hook{{ end }}
{{- else }}
{{- default "default" .root.Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "pgshift.passwordSecret" -}}
{{- if .root.Values.database.existingSecret }}
{{- .root.Values.database.existingSecret }}
{{- else }}
{{- include "pgshift.fullname" .root }}-db{{ if .hook }}-hook{{ end }}
{{- end }}
{{- end }}

{{- define "pgshift.filesConfigMap" -}}
{{- include "pgshift.fullname" .root }}-{{ .kind }}{{ if .hook }}-hook{{ end }}
{{- end }}

{{/* The annotations of an object the pre-install/pre-upgrade Job needs: made before it, gone after the hook phase. */}}
{{- define "pgshift.preHookAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded,hook-failed
{{- end }}

{{- define "pgshift.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Fail the Job at once on every exit code but 75 (temporary: database unreachable, lock held, lock retries exhausted,
SIGTERM), which Kubernetes retries up to backoffLimit; a pod disrupted by the cluster (eviction, preemption) is retried
without counting. The list of retryable codes comes from pgshift's ExitCode, and a test checks it.
*/}}
{{- define "pgshift.failurePolicy" -}}
podFailurePolicy:
  rules:
    - action: Ignore
      onPodConditions:
        - type: DisruptionTarget
    - action: FailJob
      onExitCodes:
        containerName: pgshift
        operator: NotIn
        values: [75, 143]
{{- end }}

{{- define "pgshift.commonArgs" -}}
{{- if .Values.run.rehearse }}
- --rehearse
{{- end }}
{{- range .Values.run.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}

{{/* Whether the image's bundled migrations run: as migrations.bundled says, else only when the chart gives no migrations. */}}
{{- define "pgshift.bundled" -}}
{{- $m := .Values.migrations -}}
{{- if kindIs "invalid" $m.bundled -}}
{{- not (or $m.fromChartFiles $m.existingConfigMap) -}}
{{- else -}}
{{- $m.bundled -}}
{{- end -}}
{{- end }}
