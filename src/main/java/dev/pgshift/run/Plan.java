package dev.pgshift.run;

import dev.pgshift.migrate.PlannedMigration;
import dev.pgshift.migrate.PrismaAdoption;
import dev.pgshift.source.MigrationScript;
import dev.pgshift.source.Finding;
import java.util.List;

/**
 * What a run would do: applied, adopted and pending migrations with their modes and phases, and the lint's findings.
 *
 * @param pendingScripts the migrations to run, in order (adopted ones excluded)
 * @param adoption       migrations Prisma (or the team, by hand) already applied, to record without running
 * @param lint           every finding of the lint, under-threshold ones too, each with its decision
 * @param skipped        files of the migration locations that are no migration, each with why
 * @param notes          what the run will leave that verify reports without failing (a constraint left NOT VALID on purpose)
 */
public record Plan(List<PlannedMigration> migrations, List<MigrationScript> pendingScripts, PrismaAdoption.Plan adoption,
        String currentVersion, String database, List<Finding> lint, List<String> skipped, List<String> notes) {

    public List<PlannedMigration> pending() {
        return migrations.stream().filter(PlannedMigration::pending).toList();
    }

    /** The findings that count: warned, refused or allowed (not those under their rule's threshold). */
    public List<Finding> findings() {
        return lint.stream().filter(f -> !f.decision().equals(Finding.UNDER_THRESHOLD)).toList();
    }

    /**
     * Refuses the run (exit 3, before any backup or change) when --lint enforce refused a finding, naming each with its
     * evidence and safe form, and the three ways on.
     */
    public void refuseLint() {
        List<Finding> refused = lint.stream().filter(f -> f.decision().equals(Finding.REFUSE)).toList();
        if (refused.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder("--lint enforce refuses " + refused.size() + " statement(s); nothing was backed up or changed:");
        for (Finding f : refused) {
            sb.append("\n  ").append(f.file()).append(':').append(f.line()).append(": ").append(f.statement()).append("\n    ").append(f.risk())
                    .append(" (").append(f.evidence()).append(")\n    safer: ").append(f.saferForm());
        }
        sb.append("\nRewrite the statement in its safe form; or, where it is safe here (a quiet table, a maintenance window), put "
                + "'-- pgshift:allow RULE reason=\"why\"' on the line above it; or raise the rule's threshold with --lint-threshold RULE=LIMIT");
        throw new dev.pgshift.PgshiftException(dev.pgshift.ExitCode.CONFIG, sb.toString());
    }

    /** Whether the run changes anything: something to run or to adopt. */
    public boolean changes() {
        return !pendingScripts.isEmpty() || !adoption.adopt().isEmpty();
    }
}
