package dev.pgshift.config;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How the backup phase behaves.
 *
 * @param keep   the newest N backups of a database are kept; the one just made is never deleted
 * @param maxAge backups older than this are deleted too (null: no age limit)
 * @param pgDump the pg_dump binary; pg_restore is looked up beside it
 * @param method            how: a dump, a restore point in archived WAL, or chosen by the database's size
 * @param restorePointAbove with {@link Method#AUTO}: the database size (bytes) above which a restore point is made
 * @param archiveWait       how long a restore point waits for its WAL file to be archived
 */
public record BackupSettings(Mode mode, Path dir, int keep, Duration maxAge, Scope scope, String pgDump, boolean verifyRestore,
        Method method, long restorePointAbove, Duration archiveWait) {

    /** When to back up: auto (only when something is pending), always, never (explicit, recorded in the report). */
    public enum Mode {
        AUTO, ALWAYS, NEVER
    }

    /** How to back up. */
    public enum Method {
        DUMP, RESTORE_POINT, AUTO
    }

    /** Refuses (exit 3, before connecting) what a restore point cannot do: it is no dump to restore a copy from. */
    public void checkWith(boolean rehearse) {
        if (method != Method.RESTORE_POINT) {
            return;
        }
        if (rehearse) {
            throw new PgshiftException(ExitCode.CONFIG, "--rehearse migrates a copy restored from the run's dump, and --backup-method "
                    + "restore-point makes none: rehearse with --backup-method dump (on a copy small enough to dump), or run without --rehearse");
        }
        if (verifyRestore) {
            throw new PgshiftException(ExitCode.CONFIG, "--verify-restore restores the run's dump into a scratch database, and "
                    + "--backup-method restore-point makes none: turn off " + Setting.VERIFY_RESTORE.displayName() + " (with --backup-method "
                    + "auto it applies to the dumps auto makes)");
        }
    }

    /** The same settings making no backup. */
    public BackupSettings never() {
        return new BackupSettings(Mode.NEVER, dir, keep, maxAge, scope, pgDump, false, method, restorePointAbove, archiveWait);
    }

    /** What to back up. */
    public enum Scope {
        FULL, SCHEMA
    }
}
