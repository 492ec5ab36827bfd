package dev.pgshift.migrate;

/**
 * One migration as plan shows it.
 *
 * @param state   applied, pending, failed, or a Flyway state such as missing/ignored
 * @param mode    "transaction" or "outside transaction" (null for an applied migration no longer among the files)
 */
public record PlannedMigration(String version, String description, String script, String state, String mode) {

    public boolean pending() {
        return state.equals("pending");
    }
}
