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
        Integer port) {
}
