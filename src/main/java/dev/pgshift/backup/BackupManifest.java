package dev.pgshift.backup;

import io.quarkus.runtime.annotations.RegisterForReflection;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What a backup holds and how to trust it, written as JSON beside the dump ({@code <dump>.manifest.json}).
 *
 * @param file                 the dump's file name, in the backup directory
 * @param sha256               of the whole dump file; restore checks it first
 * @param schemaVersionBefore  the migration version the database was at (null: empty)
 * @param pendingMigrations    what the run was about to apply
 * @param rowCounts            per-table row counts in the dump's snapshot (only with --verify-restore)
 * @param port                 the server's port; with host and database, whose backup this is (null in manifests
 *                             written before pgshift recorded it)
 * @param method               {@code dump} or {@code restore-point} (null in manifests written before there was a choice: a dump)
 * @param restorePoint         with method {@code restore-point}: the point to recover to (file, sha256, pgDumpVersion and scope
 *                             are null: the point covers the whole cluster)
 */
@RegisterForReflection
public record BackupManifest(
        int formatVersion,
        String file,
        String sha256,
        long sizeBytes,
        String database,
        String host,
        String serverVersion,
        String pgDumpVersion,
        String scope,
        String schemaVersionBefore,
        List<String> pendingMigrations,
        String runId,
        Instant startedAt,
        Instant finishedAt,
        Map<String, Long> rowCounts,
        boolean restoreVerified,
        Integer port,
        String method,
        RestorePoint restorePoint) {

    public static final String DUMP = "dump";
    public static final String RESTORE_POINT = "restore-point";

    /** What this backup is called in a summary or the history: its file, or "restore point NAME". */
    public String label() {
        return restorePoint == null ? file : "restore point " + restorePoint.name();
    }

    /** A restore point's record: no file, nothing to read back. */
    public static BackupManifest of(RestorePoint point, String database, String host, Integer port, String serverVersion, String schemaVersionBefore,
            List<String> pending, String runId, Instant startedAt) {
        return new BackupManifest(1, null, null, 0, database, host, serverVersion, null, null, schemaVersionBefore, pending, runId, startedAt,
                Instant.now(), null, false, port, RESTORE_POINT, point);
    }
}
