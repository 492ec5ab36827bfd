package dev.pgshift.backup;

import java.time.temporal.ChronoUnit;

/**
 * How to go back to a restore point, for the tools that keep archived WAL: pgBackRest, CloudNativePG, plain PostgreSQL
 * recovery, and a managed service that restores to a time. Every way recovers a base backup taken before the point into
 * a NEW cluster and replays the archive up to it; none is run by pgshift.
 */
public final class RestoreRecipe {
    private RestoreRecipe() {
    }

    public static String of(BackupManifest m) {
        RestorePoint p = m.restorePoint();
        String at = p.createdAt().truncatedTo(ChronoUnit.MILLIS).toString();
        String before = m.schemaVersionBefore() == null ? "no migration applied yet" : "schema version " + m.schemaVersionBefore();
        StringBuilder s = new StringBuilder();
        s.append("Restore point ").append(p.name()).append(" of database ").append(m.database()).append(" on ").append(m.host())
                .append(m.port() == null ? "" : ":" + m.port()).append(" (PostgreSQL ").append(m.serverVersion()).append(")\n");
        s.append("  made ").append(at).append(" (server clock, UTC) by run ").append(m.runId()).append(", before migrating (").append(before)
                .append(")\n");
        s.append("  LSN ").append(p.lsn()).append(", WAL file ").append(p.walFile()).append(", timeline ").append(p.timeline())
                .append(", archived").append(p.archivedAt() == null ? "" : " by " + p.archivedAt().truncatedTo(ChronoUnit.SECONDS)).append('\n');
        if (p.systemIdentifier() != null) {
            s.append("  system identifier ").append(p.systemIdentifier()).append(" (a base backup of this cluster has the same: pg_controldata shows it)\n");
        }
        s.append("""

                Recover into a NEW cluster (never over the running one) from a base backup that FINISHED before %1$s,
                replaying the archived WAL up to the restore point. Everything written after it, the migration and the
                application's own writes, is not in the copy: stop the writers, or carry their data over. Keep the copy from
                archiving into the origin's archive (archive_mode = off, or an archive of its own): once promoted it starts a new
                timeline there, which a later recovery of the origin would follow.

                pgBackRest (into an empty data directory; --type=lsn picks a backup that holds the point by itself, and
                --target-exclusive stops right after the restore point's record, which ends at that LSN):
                  pgbackrest --stanza=<stanza> --pg1-path=<new data directory> --type=lsn --target='%2$s' --target-exclusive --target-action=promote --archive-mode=off restore
                  # or by name, giving a backup older than the point:
                  pgbackrest --stanza=<stanza> --pg1-path=<new data directory> --type=name --target='%3$s' --set=<backup label> --target-action=promote --archive-mode=off restore

                CloudNativePG (a new Cluster that bootstraps by recovery from the origin's backups; targetLSN needs no backup id;
                give the new Cluster a backup destination of its own):
                  spec:
                    bootstrap:
                      recovery:
                        source: <the origin cluster's name in externalClusters>
                        recoveryTarget:
                          targetLSN: "%2$s"
                          exclusive: true

                Plain PostgreSQL (a base backup, e.g. from pg_basebackup, unpacked into a new data directory):
                  # postgresql.conf (or postgresql.auto.conf) of the new cluster:
                  restore_command = 'cp /path/to/wal-archive/%%f %%p'   # however your archive is read
                  recovery_target_name = '%3$s'
                  recovery_target_action = 'promote'   # or 'pause', to look before it opens for writes
                  archive_mode = off                   # not into the origin's archive
                  port = <a free port>                 # on the origin's host
                  # then: touch <data directory>/recovery.signal and start the server

                A managed service (point-in-time restore to a time): restore to %1$s, the server's own clock when the point was
                made; the copy then holds what was committed by that time.
                """.formatted(at, p.lsn(), p.name()));
        return s.toString();
    }
}
