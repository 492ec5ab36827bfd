{{/*
The chart's own migrations and verify scripts (files/), as ConfigMap data. ConfigMap keys cannot hold "/": a Prisma
folder's migration.sql becomes <folder>__migration.sql, mapped back by the volume's items (pgshift.migrationsItems).
Entries starting with "." are left out.
*/}}
{{- define "pgshift.migrationsData" -}}
{{- range $path, $_ := .Files.Glob "files/migrations/**" }}
{{- $rel := trimPrefix "files/migrations/" $path }}
{{- if not (hasPrefix "." (base $rel)) }}
{{ $rel | replace "/" "__" }}: |-
  {{- $.Files.Get $path | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}

{{- define "pgshift.migrationsItems" -}}
{{- range $path, $_ := .Files.Glob "files/migrations/**" }}
{{- $rel := trimPrefix "files/migrations/" $path }}
{{- if not (hasPrefix "." (base $rel)) }}
- key: {{ $rel | replace "/" "__" }}
  path: {{ $rel }}
{{- end }}
{{- end }}
{{- end }}

{{- define "pgshift.verifyData" -}}
{{- range $path, $_ := .Files.Glob "files/verify/*.sql" }}
{{ base $path }}: |-
  {{- $.Files.Get $path | nindent 2 }}
{{- end }}
{{- end }}
