package dev.pgshift.run;

import dev.pgshift.source.MigrationScript;
import java.util.List;

/**
 * What rolling back to {@code to} means: the applied migrations above it, newest first, each with its rollback script;
 * {@code missing} names those without one (or without a file at all), which makes rollback refuse before it starts.
 */
public record RollbackPlan(String to, List<MigrationScript> scripts, List<String> missing) {
}
