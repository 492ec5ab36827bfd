package dev.pgshift.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** All resolved settings of one pgshift invocation. */
public record Settings(
        ConnectionSettings connection,
        List<Path> migrationDirs,
        boolean bundled,
        Duration connectTimeout,
        Duration networkTimeout,
        Duration lockWait,
        String schema,
        Duration lockTimeout,
        int lockRetries,
        Duration progressInterval,
        BackupSettings backup,
        VerifySettings verify,
        Path reportFile,
        Path terminationLog,
        String adoptThrough,
        boolean adoptIgnoreChecksums,
        boolean outOfOrder,
        dev.pgshift.source.LintSettings lint,
        FleetSettings fleet) {

    /** The same settings aimed at a scratch copy of the database: no backup, no report channels of its own. */
    public Settings forRehearsal(String scratchDatabase) {
        BackupSettings noBackup = backup.never();
        return new Settings(connection.withDatabase(scratchDatabase), migrationDirs, bundled, connectTimeout, networkTimeout, lockWait, schema, lockTimeout,
                lockRetries, progressInterval, noBackup, verify, null, null, adoptThrough, adoptIgnoreChecksums, outOfOrder, lint, fleet);
    }

    /**
     * The same settings aimed at one tenant of a fleet: its connection and migration schema; no report channels of its own
     * (the fleet's process reports its shard).
     */
    public Settings forTenant(ConnectionSettings tenant, String tenantSchema) {
        return new Settings(tenant, migrationDirs, bundled, connectTimeout, networkTimeout, lockWait, tenantSchema, lockTimeout,
                lockRetries, progressInterval, backup, verify, null, null, adoptThrough, adoptIgnoreChecksums, outOfOrder, lint, fleet);
    }
}
