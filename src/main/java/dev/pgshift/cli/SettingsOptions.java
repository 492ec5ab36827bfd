package dev.pgshift.cli;

import dev.pgshift.config.Setting;
import dev.pgshift.config.Settings;
import dev.pgshift.config.SettingsResolver;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** The connection and run settings every database command takes; flags win over environment and the settings file. */
public final class SettingsOptions {

    @Option(names = "--url", paramLabel = "URL", description = "JDBC URL (jdbc:postgresql://host:5432/db) or postgresql:// URI, "
            + "without a password (env PGSHIFT_URL)")
    String url;

    @Option(names = "--host", paramLabel = "HOST", description = "server host (env PGHOST; default localhost)")
    String host;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT", description = "server port (env PGPORT; default 5432)")
    String port;

    @Option(names = {"-d", "--database"}, paramLabel = "NAME", description = "database (env PGDATABASE; default: the user name)")
    String database;

    @Option(names = {"-U", "--user"}, paramLabel = "USER", description = "user (env PGUSER)")
    String user;

    @Option(names = "--password-file", paramLabel = "FILE", description = "file holding the password, e.g. a mounted Secret "
            + "(env PGSHIFT_PASSWORD_FILE). Or set PGPASSWORD. There is no password flag: flags are visible in the process list.")
    String passwordFile;

    @Option(names = "--sslmode", paramLabel = "MODE", description = "disable, allow, prefer, require, verify-ca, verify-full (env PGSSLMODE)")
    String sslMode;

    @Option(names = "--sslrootcert", paramLabel = "FILE", description = "CA certificate for verify-ca/verify-full (env PGSSLROOTCERT)")
    String sslRootCert;

    @Option(names = {"-m", "--migrations"}, paramLabel = "DIR", description = "a directory of migrations (e.g. a mounted ConfigMap); "
            + "replaces the bundled ones unless --bundled=true; repeatable (env PGSHIFT_MIGRATIONS, comma-separated)")
    List<String> migrations;

    @Option(names = "--bundled", paramLabel = "true|false", description = "include the migrations bundled in pgshift: by default only when no --migrations directory is given; "
            + "true with --migrations runs both (env PGSHIFT_BUNDLED)")
    String bundled;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", description = "wait this long for the database to accept "
            + "connections, then exit 75 (default 60s; env PGSHIFT_CONNECT_TIMEOUT)")
    String connectTimeout;

    @Option(names = "--lock-wait", paramLabel = "DURATION", description = "wait this long for another run's lock, then exit 75 "
            + "(default 5m; env PGSHIFT_LOCK_WAIT)")
    String lockWait;

    @Option(names = "--schema", paramLabel = "NAME", description = "schema of the migration history table (default public; env PGSHIFT_SCHEMA)")
    String schema;

    @Option(names = "--lock-timeout", paramLabel = "DURATION", description = "lock_timeout for ordinary DDL: a migration waiting longer "
            + "for a lock gives up, is rolled back and retried (default 5s; env PGSHIFT_LOCK_TIMEOUT). Concurrent index builds are "
            + "not bounded by it: cutting their wait for old snapshots would leave an INVALID index.")
    String lockTimeout;

    @Option(names = "--lock-retries", paramLabel = "N", description = "retries after a lock timeout or deadlock, with backoff; "
            + "then exit 75 (default 5; env PGSHIFT_LOCK_RETRIES)")
    String lockRetries;

    @Option(names = "--progress-interval", paramLabel = "DURATION", description = "log a long index build's or dump's progress this often "
            + "(default 10s; env PGSHIFT_PROGRESS_INTERVAL)")
    String progressInterval;

    @Option(names = "--backup", paramLabel = "MODE", description = "auto: back up before migrating when something is pending "
            + "(default); always; never (recorded in the report) (env PGSHIFT_BACKUP)")
    String backup;

    @Option(names = "--backup-dir", paramLabel = "DIR", description = "where backups go, e.g. a PersistentVolume (default ./backups; "
            + "env PGSHIFT_BACKUP_DIR)")
    String backupDir;

    @Option(names = "--backup-keep", paramLabel = "N", description = "keep the newest N backups of this database (default 5; "
            + "env PGSHIFT_BACKUP_KEEP)")
    String backupKeep;

    @Option(names = "--backup-max-age", paramLabel = "DURATION", description = "also delete backups older than this, e.g. 720h "
            + "(env PGSHIFT_BACKUP_MAX_AGE)")
    String backupMaxAge;

    @Option(names = "--backup-scope", paramLabel = "SCOPE", description = "full (default) or schema (env PGSHIFT_BACKUP_SCOPE)")
    String backupScope;

    @Option(names = "--pg-dump", paramLabel = "PATH", description = "pg_dump to use, of the server's major version or newer; "
            + "pg_restore is taken from beside it (default: pg_dump on PATH; env PGSHIFT_PG_DUMP)")
    String pgDump;

    @Option(names = "--verify-restore", paramLabel = "true|false", arity = "0..1", fallbackValue = "true",
            description = "also restore each backup into a scratch database on the same server, compare per-table row counts, "
                    + "drop it (env PGSHIFT_VERIFY_RESTORE)")
    String verifyRestore;

    @Option(names = "--verify-scripts", paramLabel = "DIR", description = "a directory of verify scripts: SQL queries that must return "
            + "no rows; '-- pgshift:after VERSION' in one ties it to a migration; repeatable (env PGSHIFT_VERIFY_SCRIPTS)")
    List<String> verifyScripts;

    @Option(names = "--allow-invalid-index", paramLabel = "NAME", split = ",", description = "INVALID indexes not made by the "
            + "migrations that verify accepts without a warning (env PGSHIFT_ALLOW_INVALID_INDEXES)")
    List<String> allowInvalidIndexes;

    @Option(names = "--allow-not-valid", paramLabel = "NAME", split = ",", description = "constraints deliberately left NOT VALID "
            + "(env PGSHIFT_ALLOW_NOT_VALID)")
    List<String> allowNotValid;

    @Option(names = "--adopt-through", paramLabel = "VERSION", description = "moving from prisma migrate deploy: also record pending "
            + "migrations up to VERSION as applied without running them (manual files the team applied by hand; env PGSHIFT_ADOPT_THROUGH)")
    String adoptThrough;

    @Option(names = "--out-of-order", paramLabel = "true|false", arity = "0..1", fallbackValue = "true",
            description = "also apply pending migrations older than the newest applied one (a branch merged late), as Prisma does; "
                    + "without it they stop the run, named (env PGSHIFT_OUT_OF_ORDER)")
    String outOfOrder;

    @Option(names = "--adopt-ignore-checksums", paramLabel = "true|false", arity = "0..1", fallbackValue = "true",
            description = "adopt Prisma-applied migrations even when their files changed since Prisma applied them")
    String adoptIgnoreChecksums;

    @Option(names = "--report-file", paramLabel = "FILE", description = "write the JSON report here (format: docs/report.schema.json; "
            + "env PGSHIFT_REPORT_FILE)")
    String reportFile;

    @Option(names = "--termination-log", paramLabel = "FILE", description = "compact report (at most 4096 bytes) for Kubernetes; "
            + "written when the file's directory exists (default /dev/termination-log; env PGSHIFT_TERMINATION_LOG)")
    String terminationLog;

    @Option(names = "--verbose", description = "print stack traces with errors")
    boolean verbose;

    @Option(names = "--config", paramLabel = "FILE", description = "settings file (key=value, keys as the long flags without dashes; "
            + "env PGSHIFT_CONFIG)")
    Path config;

    Settings resolve() {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        put(flags, Setting.URL, url);
        put(flags, Setting.HOST, host);
        put(flags, Setting.PORT, port);
        put(flags, Setting.DATABASE, database);
        put(flags, Setting.USER, user);
        put(flags, Setting.PASSWORD_FILE, passwordFile);
        put(flags, Setting.SSL_MODE, sslMode);
        put(flags, Setting.SSL_ROOT_CERT, sslRootCert);
        put(flags, Setting.MIGRATIONS, migrations == null ? null : String.join(",", migrations));
        put(flags, Setting.BUNDLED, bundled);
        put(flags, Setting.CONNECT_TIMEOUT, connectTimeout);
        put(flags, Setting.LOCK_WAIT, lockWait);
        put(flags, Setting.SCHEMA, schema);
        put(flags, Setting.LOCK_TIMEOUT, lockTimeout);
        put(flags, Setting.LOCK_RETRIES, lockRetries);
        put(flags, Setting.PROGRESS_INTERVAL, progressInterval);
        put(flags, Setting.BACKUP, backup);
        put(flags, Setting.BACKUP_DIR, backupDir);
        put(flags, Setting.BACKUP_KEEP, backupKeep);
        put(flags, Setting.BACKUP_MAX_AGE, backupMaxAge);
        put(flags, Setting.BACKUP_SCOPE, backupScope);
        put(flags, Setting.PG_DUMP, pgDump);
        put(flags, Setting.VERIFY_RESTORE, verifyRestore);
        put(flags, Setting.VERIFY_SCRIPTS, verifyScripts == null ? null : String.join(",", verifyScripts));
        put(flags, Setting.ALLOW_INVALID_INDEX, allowInvalidIndexes == null ? null : String.join(",", allowInvalidIndexes));
        put(flags, Setting.ALLOW_NOT_VALID, allowNotValid == null ? null : String.join(",", allowNotValid));
        put(flags, Setting.REPORT_FILE, reportFile);
        put(flags, Setting.ADOPT_THROUGH, adoptThrough);
        put(flags, Setting.ADOPT_IGNORE_CHECKSUMS, adoptIgnoreChecksums);
        put(flags, Setting.OUT_OF_ORDER, outOfOrder);
        put(flags, Setting.TERMINATION_LOG, terminationLog);
        return new SettingsResolver(System.getenv()).resolve(flags, config);
    }

    private static void put(Map<Setting, String> m, Setting s, String v) {
        if (v != null) {
            m.put(s, v);
        }
    }
}
