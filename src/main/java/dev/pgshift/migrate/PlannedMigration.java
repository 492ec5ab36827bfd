package dev.pgshift.migrate;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * One migration as plan shows it.
 *
 * @param state   applied, pending, resume (a file with its own transactions an earlier run left part-way: it goes on
 *                after what committed), adopt (record as applied without running), failed, or a Flyway state such as missing
 * @param mode    "transaction", "outside transaction" or "own transactions" (null for an applied migration no longer among the files)
 * @param phase   for a pending migration: "pre", or "post" for a trailing concurrent build or backfill that --phase post may defer
 * @param backfill for a pending backfill: its table, key, estimated rows and batches, and what an earlier run did; else null
 */
@RegisterForReflection
public record PlannedMigration(String version, String description, String script, String state, String mode, String phase,
        BackfillPlan backfill) {

    public PlannedMigration(String version, String description, String script, String state, String mode, String phase) {
        this(version, description, script, state, mode, phase, null);
    }

    /**
     * A pending backfill as plan shows it.
     *
     * @param table           the table, as PostgreSQL names it (as the file names it when an earlier pending migration creates it)
     * @param key             its key's columns; empty when the table does not exist yet
     * @param estimatedRows   about how many rows it has now
     * @param estimatedBatches about how many batches that makes at the first batch size (the size then adapts)
     * @param rowsDone        rows an earlier run already did (it resumes after them)
     * @param options         the directive's options, defaults filled in
     */
    @RegisterForReflection
    public record BackfillPlan(String table, java.util.List<String> key, long estimatedRows, long estimatedBatches, long rowsDone, String options) {
    }

    /** The same migration, with its backfill's plan. */
    public PlannedMigration with(BackfillPlan plan) {
        return new PlannedMigration(version, description, script, state, mode, phase, plan);
    }

    /** The same migration, to be recorded as applied without running (Prisma applied it). */
    public PlannedMigration adopted() {
        return new PlannedMigration(version, description, script, "adopt", mode, null, null);
    }

    /** The same migration, to run in {@code phase} ("pre" or "post", see --phase). */
    public PlannedMigration inPhase(String phase) {
        return new PlannedMigration(version, description, script, state, mode, phase, backfill);
    }

    /** To run: pending, or left part-way by an earlier run and resumed where it stopped. */
    public boolean pending() {
        return state.equals("pending") || state.equals("resume");
    }
}
