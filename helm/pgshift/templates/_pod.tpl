{{/*
The pod of a pgshift Job or test. Argument: a dict with "root" (the chart context), "args" (pgshift's command line) and
"hook" (true for the pre-install/pre-upgrade Job, which uses the *-hook copies of the Secret, ConfigMaps and
ServiceAccount), optionally "extraEnv" (more variables: the fleet's). Exit codes: the Job's podFailurePolicy fails it at once on every code but 75 (pgshift.failurePolicy).
*/}}
{{- define "pgshift.pod" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "pgshift.serviceAccountName" . }}
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
      {{- include "pgshift.env" . | nindent 6 }}
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: FallbackToLogsOnError
    securityContext:
      {{- toYaml $root.Values.securityContext | nindent 6 }}
    resources:
      {{- toYaml $root.Values.resources | nindent 6 }}
    volumeMounts:
      {{- include "pgshift.volumeMounts" $root | nindent 6 }}
volumes:
  {{- include "pgshift.volumes" . | nindent 2 }}
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

{{/* pgshift's settings, as environment variables; the password comes from a mounted file, never the environment. */}}
{{- define "pgshift.env" -}}
{{- $v := .root.Values -}}
- name: PGHOST
  value: {{ required "database.host is required" $v.database.host | quote }}
- name: PGPORT
  value: {{ $v.database.port | quote }}
- name: PGDATABASE
  value: {{ required "database.name is required" $v.database.name | quote }}
{{- if $v.database.userKey }}
- name: PGUSER
  valueFrom:
    secretKeyRef:
      name: {{ include "pgshift.passwordSecret" . }}
      key: {{ $v.database.userKey }}
{{- else }}
- name: PGUSER
  value: {{ required "database.user (or database.userKey) is required" $v.database.user | quote }}
{{- end }}
- name: PGSHIFT_PASSWORD_FILE
  value: /var/run/pgshift/db/password
- name: PGSSLMODE
  value: {{ $v.database.sslMode | quote }}
{{- if $v.database.caSecret }}
- name: PGSSLROOTCERT
  value: /var/run/pgshift/ca/{{ $v.database.caKey }}
{{- end }}
- name: PGSHIFT_BUNDLED
  value: {{ include "pgshift.bundled" .root | quote }}
{{- if or $v.migrations.fromChartFiles $v.migrations.existingConfigMap }}
- name: PGSHIFT_MIGRATIONS
  value: /var/run/pgshift/migrations
{{- end }}
{{- if $v.verify.fromChartFiles }}
- name: PGSHIFT_VERIFY_SCRIPTS
  value: /var/run/pgshift/verify
{{- end }}
- name: PGSHIFT_ALLOW_INVALID_INDEXES
  value: {{ join "," $v.verify.allowInvalidIndexes | quote }}
- name: PGSHIFT_ALLOW_NOT_VALID
  value: {{ join "," $v.verify.allowNotValid | quote }}
- name: PGSHIFT_BACKUP
  value: {{ $v.backup.mode | quote }}
- name: PGSHIFT_BACKUP_DIR
  value: /var/lib/pgshift/backups
- name: PGSHIFT_BACKUP_KEEP
  value: {{ $v.backup.keep | quote }}
- name: PGSHIFT_VERIFY_RESTORE
  value: {{ $v.backup.verifyRestore | quote }}
- name: PGSHIFT_BACKUP_METHOD
  value: {{ $v.backup.method | quote }}
- name: PGSHIFT_LOCK_TIMEOUT
  value: {{ $v.run.lockTimeout | quote }}
- name: PGSHIFT_LOCK_RETRIES
  value: {{ $v.run.lockRetries | quote }}
- name: PGSHIFT_CONNECT_TIMEOUT
  value: {{ $v.run.connectTimeout | quote }}
- name: PGSHIFT_LOCK_WAIT
  value: {{ $v.run.lockWait | quote }}
- name: PGSHIFT_LOG_JSON
  value: {{ $v.run.logJson | quote }}
- name: PGSHIFT_REPORT_FILE
  value: /tmp/pgshift-report.json
{{- range $key, $value := $v.run.settings }}
- name: PGSHIFT_{{ $key | upper | replace "-" "_" }}
  value: {{ $value | quote }}
{{- end }}
{{- with .extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "pgshift.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: backups
  mountPath: /var/lib/pgshift/backups
- name: db-password
  mountPath: /var/run/pgshift/db
  readOnly: true
{{- if .Values.database.caSecret }}
- name: ca
  mountPath: /var/run/pgshift/ca
  readOnly: true
{{- end }}
{{- if or .Values.migrations.fromChartFiles .Values.migrations.existingConfigMap }}
- name: migrations
  mountPath: /var/run/pgshift/migrations
  readOnly: true
{{- end }}
{{- if .Values.verify.fromChartFiles }}
- name: verify
  mountPath: /var/run/pgshift/verify
  readOnly: true
{{- end }}
{{- if and .Values.fleet.enabled .Values.fleet.tenantPasswordsSecret }}
- name: tenant-passwords
  mountPath: /var/run/pgshift/tenants
  readOnly: true
{{- end }}
{{- end }}

{{- define "pgshift.volumes" -}}
{{- $v := .root.Values -}}
- name: tmp
  emptyDir: {}
- name: backups
  {{- if $v.backup.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ $v.backup.existingClaim }}
  {{- else }}
  emptyDir: {}
  {{- end }}
- name: db-password
  secret:
    secretName: {{ include "pgshift.passwordSecret" . }}
    defaultMode: 0400
    items:
      - key: {{ $v.database.passwordKey }}
        path: password
{{- if $v.database.caSecret }}
- name: ca
  secret:
    secretName: {{ $v.database.caSecret }}
    defaultMode: 0444
{{- end }}
{{- if $v.migrations.fromChartFiles }}
- name: migrations
  configMap:
    name: {{ include "pgshift.filesConfigMap" (dict "root" .root "hook" .hook "kind" "migrations") }}
    items:
      {{- include "pgshift.migrationsItems" .root | nindent 6 }}
{{- else if $v.migrations.existingConfigMap }}
- name: migrations
  configMap:
    name: {{ $v.migrations.existingConfigMap }}
{{- end }}
{{- if $v.verify.fromChartFiles }}
- name: verify
  configMap:
    name: {{ include "pgshift.filesConfigMap" (dict "root" .root "hook" .hook "kind" "verify") }}
{{- end }}
{{- if and $v.fleet.enabled $v.fleet.tenantPasswordsSecret }}
- name: tenant-passwords
  secret:
    secretName: {{ $v.fleet.tenantPasswordsSecret }}
    defaultMode: 0400
{{- end }}
{{- end }}
