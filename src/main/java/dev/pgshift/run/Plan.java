package dev.pgshift.run;

import dev.pgshift.migrate.PlannedMigration;
import dev.pgshift.migrate.PrismaAdoption;
import dev.pgshift.source.MigrationScript;
import dev.pgshift.source.PlanWarning;
import java.util.List;

/**
 * What a run would do: applied, adopted and pending migrations with their modes and phases, and the downtime warnings.
 *
 * @param pendingScripts the migrations to run, in order (adopted ones excluded)
 * @param adoption       migrations Prisma (or the team, by hand) already applied, to record without running
 * @param skipped        files of the migration locations that are no migration, each with why
 * @param notes          what the run will leave that verify reports without failing (a constraint left NOT VALID on purpose)
 */
public record Plan(List<PlannedMigration> migrations, List<MigrationScript> pendingScripts, PrismaAdoption.Plan adoption,
        String currentVersion, String database, List<PlanWarning> warnings, List<String> skipped, List<String> notes) {

    public List<PlannedMigration> pending() {
        return migrations.stream().filter(PlannedMigration::pending).toList();
    }

    /** Whether the run changes anything: something to run or to adopt. */
    public boolean changes() {
        return !pendingScripts.isEmpty() || !adoption.adopt().isEmpty();
    }
}
