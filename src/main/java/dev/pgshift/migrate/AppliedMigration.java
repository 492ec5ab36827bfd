package dev.pgshift.migrate;

import java.time.Duration;

/** A migration this run applied: version, description, source file, execution mode and duration. */
public record AppliedMigration(String version, String description, String script, String mode, Duration duration) {
}
