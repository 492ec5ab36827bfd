package dev.pgshift.backup;

import io.quarkus.runtime.annotations.RegisterForReflection;
import java.time.Instant;

/**
 * A restore-point backup: where in the server's WAL the database can be recovered to, as it was before the run migrated.
 *
 * @param name             as given to pg_create_restore_point: {@code recovery_target_name}, pgBackRest's {@code --target}
 * @param lsn              the restore point's LSN ({@code recovery_target_lsn}, CloudNativePG's {@code targetLSN})
 * @param walFile          the WAL file holding it, proven archived
 * @param timeline         the timeline it is on
 * @param systemIdentifier the cluster's system identifier: a base backup to restore from must have the same (null when the
 *                         role may not read pg_control_system())
 * @param createdAt        the server's clock when it was made (UTC): the target of a service that restores to a time
 * @param archivedAt       when pg_stat_archiver last archived a file, once that covered {@code walFile}
 * @param walSwitched      whether pgshift closed the WAL file itself (pg_switch_wal) rather than waiting for it to fill
 * @param databaseBytes    the database's size when the point was made
 */
@RegisterForReflection
public record RestorePoint(String name, String lsn, String walFile, int timeline, String systemIdentifier, Instant createdAt, Instant archivedAt,
        boolean walSwitched, long databaseBytes) {
}
