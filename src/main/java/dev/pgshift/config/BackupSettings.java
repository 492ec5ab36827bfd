package dev.pgshift.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the backup phase behaves.
 *
 * @param keep   the newest N backups of a database are kept; the one just made is never deleted
 * @param maxAge backups older than this are deleted too (null: no age limit)
 * @param pgDump the pg_dump binary; pg_restore is looked up beside it
 */
public record BackupSettings(Mode mode, Path dir, int keep, Duration maxAge, Scope scope, String pgDump, boolean verifyRestore) {

    /** When to back up: auto (only when something is pending), always, never (explicit, recorded in the report). */
    public enum Mode {
        AUTO, ALWAYS, NEVER
    }

    /** What to back up. */
    public enum Scope {
        FULL, SCHEMA
    }
}
