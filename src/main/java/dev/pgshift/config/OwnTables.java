package dev.pgshift.config;

/**
 * The names of the tables pgshift keeps in the target database, for every package that names them: its run history and
 * its backfills' progress (schema {@value #SCHEMA}, which reset never drops and {@code --schema} may not name) and Flyway's history table,
 * which lives in the migrations' schema.
 */
public final class OwnTables {
    /** The schema of pgshift's run history. */
    public static final String SCHEMA = "pgshift";
    /** pgshift's run history: one row per run, its report as jsonb. */
    public static final String RUN_HISTORY = "run_history";
    /** Where each backfill migration got to, batch by batch (schema {@value #SCHEMA}). */
    public static final String BACKFILL_PROGRESS = "backfill_progress";
    /** A fleet's releases, in the control database (schema {@value #SCHEMA}). */
    public static final String FLEET_RELEASE = "fleet_release";
    /** Each tenant of a fleet release: its wave, shard, status, versions and error (schema {@value #SCHEMA}). */
    public static final String FLEET_TENANT = "fleet_tenant";
    /** Flyway's history table, in the migrations' schema. */
    public static final String MIGRATION_HISTORY = "flyway_schema_history";

    private OwnTables() {
    }
}
