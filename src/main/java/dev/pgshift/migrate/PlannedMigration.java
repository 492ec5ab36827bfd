package dev.pgshift.migrate;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * One migration as plan shows it.
 *
 * @param state   applied, pending, resume (a file with its own transactions an earlier run left part-way: it goes on
 *                after what committed), adopt (record as applied without running), failed, or a Flyway state such as missing
 * @param mode    "transaction", "outside transaction" or "own transactions" (null for an applied migration no longer among the files)
 * @param phase   for a pending migration: "pre", or "post" for a trailing concurrent build that --phase post may defer
 */
@RegisterForReflection
public record PlannedMigration(String version, String description, String script, String state, String mode, String phase) {

    /** The same migration, to be recorded as applied without running (Prisma applied it). */
    public PlannedMigration adopted() {
        return new PlannedMigration(version, description, script, "adopt", mode, null);
    }

    /** The same migration, to run in {@code phase} ("pre" or "post", see --phase). */
    public PlannedMigration inPhase(String phase) {
        return new PlannedMigration(version, description, script, state, mode, phase);
    }

    /** To run: pending, or left part-way by an earlier run and resumed where it stopped. */
    public boolean pending() {
        return state.equals("pending") || state.equals("resume");
    }
}
