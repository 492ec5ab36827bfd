package dev.pgshift.migrate;

/**
 * One migration as plan shows it.
 *
 * @param state   applied, pending, failed, or a Flyway state such as missing/ignored
 * @param mode    "transaction" or "outside transaction" (null for an applied migration no longer among the files)
 * @param phase   for a pending migration: "pre", or "post" for a trailing concurrent build that --phase post may defer
 */
public record PlannedMigration(String version, String description, String script, String state, String mode, String phase) {

    /** The same migration, to run in {@code phase} ("pre" or "post", see --phase). */
    public PlannedMigration inPhase(String phase) {
        return new PlannedMigration(version, description, script, state, mode, phase);
    }

    public boolean pending() {
        return state.equals("pending");
    }
}
