package dev.pgshift.source;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * A pending statement that would hold a strong lock on an existing table for its whole duration ("plan for downtime").
 *
 * @param file      the migration file, as a user finds it
 * @param line      the statement's line in that file
 * @param statement the statement's first words
 * @param risk      what it does to the application while it runs
 * @param saferForm what to write instead
 */
@RegisterForReflection
public record PlanWarning(String version, String file, int line, String statement, String risk, String saferForm) {

    /** One line for logs and the human plan. */
    public String describe() {
        return file + ":" + line + ": " + statement + " — " + risk + ". Safer: " + saferForm;
    }
}
