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
        dev.pgshift.source.LintSettings lint) {

    /** The same settings aimed at a scratch copy of the database: no backup, no report channels of its own. */
    public Settings forRehearsal(String scratchDatabase) {
        BackupSettings noBackup = backup.never();
        return new Settings(connection.withDatabase(scratchDatabase), migrationDirs, bundled, connectTimeout, networkTimeout, lockWait, schema, lockTimeout,
                lockRetries, progressInterval, noBackup, verify, null, null, adoptThrough, adoptIgnoreChecksums, outOfOrder, lint);
    }
}
