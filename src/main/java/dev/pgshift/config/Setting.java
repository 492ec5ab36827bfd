package dev.pgshift.config;

/**
 * Every setting pgshift reads, with the flag, environment variable and settings-file key that give it.
 * Precedence: flag, then environment, then the settings file, then the default.
 */
public enum Setting {
    URL("--url", "PGSHIFT_URL", "url", null, "JDBC URL (jdbc:postgresql://...) or postgresql:// URI"),
    HOST("--host", "PGHOST", "host", "localhost", "database server host"),
    PORT("--port", "PGPORT", "port", "5432", "database server port"),
    DATABASE("--database", "PGDATABASE", "database", null, "database name (default: the user name)"),
    USER("--user", "PGUSER", "user", null, "database user"),
    PASSWORD(null, "PGPASSWORD", "password", null, "password (environment or settings file only, never a flag)"),
    PASSWORD_FILE("--password-file", "PGSHIFT_PASSWORD_FILE", "password-file", null, "file holding the password (e.g. a mounted Secret)"),
    SSL_MODE("--sslmode", "PGSSLMODE", "sslmode", "prefer", "disable, allow, prefer, require, verify-ca, verify-full"),
    SSL_ROOT_CERT("--sslrootcert", "PGSSLROOTCERT", "sslrootcert", null, "CA certificate file for verify-ca/verify-full"),
    MIGRATIONS("--migrations", "PGSHIFT_MIGRATIONS", "migrations", null, "extra migration directories (comma-separated in env/file)"),
    BUNDLED("--bundled", "PGSHIFT_BUNDLED", "bundled", null, "include the migrations bundled in the application (default: only when no --migrations directory is given)"),
    CONNECT_TIMEOUT("--connect-timeout", "PGSHIFT_CONNECT_TIMEOUT", "connect-timeout", "60s", "how long to wait for the database to accept connections"),
    NETWORK_TIMEOUT("--network-timeout", "PGSHIFT_NETWORK_TIMEOUT", "network-timeout", "60s", "give up on a server that answers nothing for this long (a half-open connection, a partitioned network)"),
    LOCK_WAIT("--lock-wait", "PGSHIFT_LOCK_WAIT", "lock-wait", "5m", "how long to wait for another pgshift run to release the run lock"),
    SCHEMA("--schema", "PGSHIFT_SCHEMA", "schema", "public", "schema holding the migration history table"),
    LOCK_TIMEOUT("--lock-timeout", "PGSHIFT_LOCK_TIMEOUT", "lock-timeout", "5s", "lock_timeout for ordinary DDL (not for concurrent builds)"),
    LOCK_RETRIES("--lock-retries", "PGSHIFT_LOCK_RETRIES", "lock-retries", "5", "retries of a migration that hit lock_timeout or a deadlock"),
    PROGRESS_INTERVAL("--progress-interval", "PGSHIFT_PROGRESS_INTERVAL", "progress-interval", "10s", "how often to log a long index build's or dump's progress"),
    BACKUP("--backup", "PGSHIFT_BACKUP", "backup", "auto", "auto (when something is pending), always, never"),
    BACKUP_DIR("--backup-dir", "PGSHIFT_BACKUP_DIR", "backup-dir", "backups", "directory for backups (a PersistentVolume in Kubernetes)"),
    BACKUP_KEEP("--backup-keep", "PGSHIFT_BACKUP_KEEP", "backup-keep", "5", "keep the newest N backups of this database"),
    BACKUP_MAX_AGE("--backup-max-age", "PGSHIFT_BACKUP_MAX_AGE", "backup-max-age", null, "also delete backups older than this"),
    BACKUP_SCOPE("--backup-scope", "PGSHIFT_BACKUP_SCOPE", "backup-scope", "full", "full (schema and data) or schema"),
    BACKUP_METHOD("--backup-method", "PGSHIFT_BACKUP_METHOD", "backup-method", "dump", "dump (pg_dump, read back whole), restore-point (a named point in archived WAL, for databases too big to dump), or auto (a restore point above --restore-point-above where the server archives WAL, else a dump)"),
    RESTORE_POINT_ABOVE("--restore-point-above", "PGSHIFT_RESTORE_POINT_ABOVE", "restore-point-above", "10GB", "with --backup-method auto: databases larger than this get a restore point"),
    ARCHIVE_WAIT("--archive-wait", "PGSHIFT_ARCHIVE_WAIT", "archive-wait", "2m", "how long a restore-point backup waits for its WAL file to be archived"),
    PG_DUMP("--pg-dump", "PGSHIFT_PG_DUMP", "pg-dump", "pg_dump", "pg_dump to use; pg_restore is taken from the same directory"),
    VERIFY_RESTORE("--verify-restore", "PGSHIFT_VERIFY_RESTORE", "verify-restore", "false", "restore each backup into a scratch database and compare row counts"),
    VERIFY_SCRIPTS("--verify-scripts", "PGSHIFT_VERIFY_SCRIPTS", "verify-scripts", null, "directories of verify scripts (comma-separated in env/file)"),
    ALLOW_INVALID_INDEX("--allow-invalid-index", "PGSHIFT_ALLOW_INVALID_INDEXES", "allow-invalid-index", "", "INVALID indexes verify accepts without a warning"),
    ALLOW_NOT_VALID("--allow-not-valid", "PGSHIFT_ALLOW_NOT_VALID", "allow-not-valid", "", "constraints verify accepts as NOT VALID"),
    ADOPT_THROUGH("--adopt-through", "PGSHIFT_ADOPT_THROUGH", "adopt-through", null, "record pending migrations up to this version as applied without running them (applied by hand)"),
    OUT_OF_ORDER("--out-of-order", "PGSHIFT_OUT_OF_ORDER", "out-of-order", "false", "also apply pending migrations older than the newest applied one (a branch merged late), as Prisma does"),
    ADOPT_IGNORE_CHECKSUMS("--adopt-ignore-checksums", "PGSHIFT_ADOPT_IGNORE_CHECKSUMS", "adopt-ignore-checksums", "false", "adopt Prisma-applied migrations whose files changed since"),
    LINT("--lint", "PGSHIFT_LINT", "lint", "warn", "warn (findings in plan, the log and the report), enforce (a finding refuses the run before the backup, exit 3), off"),
    LINT_THRESHOLDS("--lint-threshold", "PGSHIFT_LINT_THRESHOLD", "lint-threshold", "", "RULE=LIMIT per rule, from which a finding counts (default 100000 rows or 100MB; lock-queue 1m)"),
    RELEASE("--release", "PGSHIFT_FLEET_RELEASE", "release", null, "the fleet release: its tenant list, waves and shards are frozen under this id in the control database"),
    TENANTS_SQL("--tenants-sql", "PGSHIFT_FLEET_TENANTS_SQL", "tenants-sql", null, "a query on the control database giving each tenant's name and URL (without a password), in order"),
    TENANTS_FILE("--tenants-file", "PGSHIFT_FLEET_TENANTS_FILE", "tenants-file", null, "a file of tenants, one 'name URL' per line, in order"),
    SHARDS("--shards", "PGSHIFT_FLEET_SHARDS", "shards", "1", "how many shards (the Indexed Job's completions) the tenants are dealt into: position mod shards"),
    SHARD("--shard", "JOB_COMPLETION_INDEX", "shard", null, "this process's shard, 0 to shards-1 (Kubernetes sets JOB_COMPLETION_INDEX in an Indexed Job's pods)"),
    WAVES("--waves", "PGSHIFT_FLEET_WAVES", "waves", "1,10%,rest", "wave sizes in tenant order: counts, percentages, and rest; a wave starts when the one before succeeded everywhere"),
    HALT_AFTER("--halt-after", "PGSHIFT_FLEET_HALT_AFTER", "halt-after", "3", "the same error (SQLSTATE, else exit code) on this many tenants halts the release"),
    TENANT_PASSWORDS("--tenant-passwords", "PGSHIFT_FLEET_TENANT_PASSWORDS", "tenant-passwords", null, "directory (a mounted Secret) of passwords: a file per tenant named as the tenant, else _default"),
    TENANTS_AT_ONCE("--tenants-at-once", "PGSHIFT_FLEET_TENANTS_AT_ONCE", "tenants-at-once", "1", "how many of its tenants a shard runs at once"),
    WAVE_WAIT("--wave-wait", "PGSHIFT_FLEET_WAVE_WAIT", "wave-wait", "1h", "how long a shard waits for the wave before to finish on the other shards, then exit 75"),
    REPORT_FILE("--report-file", "PGSHIFT_REPORT_FILE", "report-file", null, "write the JSON report here"),
    TERMINATION_LOG("--termination-log", "PGSHIFT_TERMINATION_LOG", "termination-log", "/dev/termination-log", "compact report for Kubernetes (by default only in a pod: KUBERNETES_SERVICE_HOST set)");

    private final String flag;
    private final String env;
    private final String fileKey;
    private final String defaultValue;
    private final String description;

    Setting(String flag, String env, String fileKey, String defaultValue, String description) {
        this.flag = flag;
        this.env = env;
        this.fileKey = fileKey;
        this.defaultValue = defaultValue;
        this.description = description;
    }

    public String flag() {
        return flag;
    }

    public String env() {
        return env;
    }

    public String fileKey() {
        return fileKey;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    /** How a message names this setting so the user finds where to fix it. */
    public String displayName() {
        StringBuilder sb = new StringBuilder();
        if (flag != null) {
            sb.append(flag).append(" / ");
        }
        return sb.append(env).append(" / '").append(fileKey).append("' in the settings file").toString();
    }
}
