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

{{- define "pgshift.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- include "pgshift.fullname" . }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "pgshift.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "pgshift.passwordSecret" -}}
{{- default (printf "%s-db" (include "pgshift.fullname" .)) .Values.database.existingSecret }}
{{- end }}

{{/*
The pod of a pgshift Job. Arguments: a dict with "root" (the chart context) and "args" (pgshift's command line).
Exit codes: the Job's podFailurePolicy fails it at once on every code but 75 (temporary); see pgshift.failurePolicy.
*/}}
{{- define "pgshift.podSpec" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "pgshift.serviceAccountName" $root }}
automountServiceAccountToken: false
restartPolicy: Never
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
containers:
  - name: pgshift
    image: {{ include "pgshift.image" $root }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    args:
      {{- toYaml .args | nindent 6 }}
    env:
      - name: PGHOST
        value: {{ required "database.host is required" $root.Values.database.host | quote }}
      - name: PGPORT
        value: {{ $root.Values.database.port | quote }}
      - name: PGDATABASE
        value: {{ required "database.name is required" $root.Values.database.name | quote }}
      {{- if $root.Values.database.userKey }}
      - name: PGUSER
        valueFrom:
          secretKeyRef:
            name: {{ include "pgshift.passwordSecret" $root }}
            key: {{ $root.Values.database.userKey }}
      {{- else }}
      - name: PGUSER
        value: {{ required "database.user (or database.userKey) is required" $root.Values.database.user | quote }}
      {{- end }}
      - name: PGSHIFT_PASSWORD_FILE
        value: /var/run/pgshift/db/password
      - name: PGSSLMODE
        value: {{ $root.Values.database.sslMode | quote }}
      {{- if $root.Values.database.caSecret }}
      - name: PGSSLROOTCERT
        value: /var/run/pgshift/ca/{{ $root.Values.database.caKey }}
      {{- end }}
      - name: PGSHIFT_BUNDLED
        value: {{ $root.Values.migrations.bundled | quote }}
      {{- if or $root.Values.migrations.fromChartFiles $root.Values.migrations.existingConfigMap }}
      - name: PGSHIFT_MIGRATIONS
        value: /var/run/pgshift/migrations
      {{- end }}
      {{- if $root.Values.verify.fromChartFiles }}
      - name: PGSHIFT_VERIFY_SCRIPTS
        value: /var/run/pgshift/verify
      {{- end }}
      - name: PGSHIFT_ALLOW_INVALID_INDEXES
        value: {{ join "," $root.Values.verify.allowInvalidIndexes | quote }}
      - name: PGSHIFT_ALLOW_NOT_VALID
        value: {{ join "," $root.Values.verify.allowNotValid | quote }}
      - name: PGSHIFT_BACKUP
        value: {{ $root.Values.backup.mode | quote }}
      - name: PGSHIFT_BACKUP_DIR
        value: /var/lib/pgshift/backups
      - name: PGSHIFT_BACKUP_KEEP
        value: {{ $root.Values.backup.keep | quote }}
      - name: PGSHIFT_VERIFY_RESTORE
        value: {{ $root.Values.backup.verifyRestore | quote }}
      - name: PGSHIFT_LOCK_TIMEOUT
        value: {{ $root.Values.run.lockTimeout | quote }}
      - name: PGSHIFT_LOCK_RETRIES
        value: {{ $root.Values.run.lockRetries | quote }}
      - name: PGSHIFT_CONNECT_TIMEOUT
        value: {{ $root.Values.run.connectTimeout | quote }}
      - name: PGSHIFT_LOCK_WAIT
        value: {{ $root.Values.run.lockWait | quote }}
      - name: PGSHIFT_LOG_JSON
        value: {{ $root.Values.run.logJson | quote }}
      - name: PGSHIFT_REPORT_FILE
        value: /tmp/pgshift-report.json
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: FallbackToLogsOnError
    securityContext:
      {{- toYaml $root.Values.securityContext | nindent 6 }}
    resources:
      {{- toYaml $root.Values.resources | nindent 6 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
      - name: backups
        mountPath: /var/lib/pgshift/backups
      - name: db-password
        mountPath: /var/run/pgshift/db
        readOnly: true
      {{- if $root.Values.database.caSecret }}
      - name: ca
        mountPath: /var/run/pgshift/ca
        readOnly: true
      {{- end }}
      {{- if or $root.Values.migrations.fromChartFiles $root.Values.migrations.existingConfigMap }}
      - name: migrations
        mountPath: /var/run/pgshift/migrations
        readOnly: true
      {{- end }}
      {{- if $root.Values.verify.fromChartFiles }}
      - name: verify
        mountPath: /var/run/pgshift/verify
        readOnly: true
      {{- end }}
volumes:
  - name: tmp
    emptyDir: {}
  - name: backups
    {{- if $root.Values.backup.existingClaim }}
    persistentVolumeClaim:
      claimName: {{ $root.Values.backup.existingClaim }}
    {{- else }}
    emptyDir: {}
    {{- end }}
  - name: db-password
    secret:
      secretName: {{ include "pgshift.passwordSecret" $root }}
      defaultMode: 0400
      items:
        - key: {{ $root.Values.database.passwordKey }}
          path: password
  {{- if $root.Values.database.caSecret }}
  - name: ca
    secret:
      secretName: {{ $root.Values.database.caSecret }}
      defaultMode: 0444
  {{- end }}
  {{- if $root.Values.migrations.fromChartFiles }}
  - name: migrations
    configMap:
      name: {{ include "pgshift.fullname" $root }}-migrations
      items:
        {{- range $path, $_ := $root.Files.Glob "files/migrations/**" }}
        {{- $rel := trimPrefix "files/migrations/" $path }}
        {{- if not (hasPrefix "." (base $rel)) }}
        - key: {{ $rel | replace "/" "__" }}
          path: {{ $rel }}
        {{- end }}
        {{- end }}
  {{- else if $root.Values.migrations.existingConfigMap }}
  - name: migrations
    configMap:
      name: {{ $root.Values.migrations.existingConfigMap }}
  {{- end }}
  {{- if $root.Values.verify.fromChartFiles }}
  - name: verify
    configMap:
      name: {{ include "pgshift.fullname" $root }}-verify
  {{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
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
        values: [75]
{{- end }}

{{- define "pgshift.commonArgs" -}}
{{- if .Values.run.rehearse }}
- --rehearse
{{- end }}
{{- range .Values.run.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}
