package dev.pgshift.migrate;

import java.time.Duration;

/**
 * A migration this run applied: version, description, source file, execution mode and duration; for a backfill, how
 * it went (else null).
 */
public record AppliedMigration(String version, String description, String script, String mode, Duration duration, BackfillStats backfill) {

    public AppliedMigration(String version, String description, String script, String mode, Duration duration) {
        this(version, description, script, mode, duration, null);
    }

    /** The same, with how its backfill went. */
    AppliedMigration with(BackfillStats stats) {
        return new AppliedMigration(version, description, script, mode, duration, stats);
    }
}
