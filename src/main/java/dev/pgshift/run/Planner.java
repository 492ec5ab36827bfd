package dev.pgshift.run;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.OwnTables;
import dev.pgshift.config.Settings;
import dev.pgshift.db.Database;
import dev.pgshift.db.DatabaseWaiter;
import dev.pgshift.migrate.Migrator;
import dev.pgshift.migrate.PlannedMigration;
import dev.pgshift.migrate.PrismaAdoption;
import dev.pgshift.source.Finding;
import dev.pgshift.source.Lint;
import dev.pgshift.source.MigrationScript;
import dev.pgshift.source.SqlStatement;
import dev.pgshift.source.Versions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** Works out a {@link Plan} (and a rollback plan) from the files and the database; reads only. */
final class Planner {

    private Planner() {
    }

    static Plan plan(Settings settings, Database db, Connection c, Migrator migrator, List<MigrationScript> scripts, List<String> skipped) {
        Migrator.Status status = migrator.status();
        List<PlannedMigration> planned = status.migrations();
        Set<String> pendingVersions = planned.stream().filter(PlannedMigration::pending).map(PlannedMigration::version)
                .collect(Collectors.toSet());
        List<MigrationScript> pending = scripts.stream().filter(s -> pendingVersions.contains(s.version())).toList();
        PrismaAdoption.Plan adoption;
        try {
            boolean takeover = planned.stream().allMatch(m -> m.state().equals("pending")); // no history row of any kind, baseline included
            adoption = PrismaAdoption.plan(c, settings.schema(), takeover, scripts, pending, settings.adoptThrough(), settings.adoptIgnoreChecksums());
            if (takeover && adoption.adopt().isEmpty()) {
                refuseExistingSchemaWithoutHistory(c, settings.schema());
            }
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read _prisma_migrations: " + DatabaseWaiter.describe(e), e);
        }
        Set<String> adopted = adoption.adopt().stream().map(MigrationScript::version).collect(Collectors.toSet());
        List<MigrationScript> toRun = pending.stream().filter(s -> !adopted.contains(s.version())).toList();
        refuseUnnamedConcurrentIndexes(toRun);
        dev.pgshift.source.MigrationCatalog.refusePlaceholders(toRun);
        Set<String> deferrable = toRun.subList(Phase.firstDeferrable(toRun), toRun.size()).stream().map(MigrationScript::version)
                .collect(Collectors.toSet());
        java.util.Map<String, PlannedMigration.BackfillPlan> backfills = backfillPlans(c, migrator, toRun);
        List<PlannedMigration> migrations = planned.stream().map(m -> !m.pending() ? m
                : adopted.contains(m.version()) ? m.adopted() : m.inPhase(deferrable.contains(m.version()) ? "post" : "pre")
                        .with(backfills.get(m.version()))).toList();
        List<Finding> findings = Lint.check(toRun, new LiveTableCatalog(c), settings.lint());
        Set<String> running = toRun.stream().map(MigrationScript::version).collect(Collectors.toSet());
        List<String> notes = dev.pgshift.verify.VerifyService.leftNotValid(scripts).stream().filter(l -> running.contains(l.version()))
                .map(l -> l.version() + " leaves constraint " + l.constraint() + " on " + l.table() + " NOT VALID, and no migration "
                        + "validates it: verify will report it (a warning, not a failure); validate it in a later migration")
                .toList();
        return new Plan(migrations, toRun, adoption, status.currentVersion(), db.settings().describe(), findings, skipped, notes);
    }

    /**
     * Each pending backfill's plan. A table an earlier pending migration creates, alters, indexes or renames to is
     * checked when the backfill runs (its key may come with that migration); a table that does not exist and that no
     * earlier pending migration makes is refused here (exit 3): nothing has run.
     */
    private static java.util.Map<String, PlannedMigration.BackfillPlan> backfillPlans(Connection c, Migrator migrator, List<MigrationScript> toRun) {
        java.util.Map<String, PlannedMigration.BackfillPlan> out = new java.util.HashMap<>();
        Set<String> created = new HashSet<>();
        try {
            for (MigrationScript m : toRun) {
                if (m.backfill() != null) {
                    try {
                        out.put(m.version(), migrator.backfillPlan(c, m, created.contains(m.backfill().table().truncated().name())));
                    } catch (PgshiftException e) {
                        throw e.exitCode() == ExitCode.MIGRATION ? new PgshiftException(ExitCode.CONFIG, e.getMessage(), e) : e;
                    }
                }
                for (SqlStatement s : m.statements()) {
                    String made = s.createdTable();
                    if (made == null && s.alteredTable() != null) {
                        int to = s.words().indexOf("RENAME");
                        made = to > 0 && to + 2 < s.words().size() && s.words().get(to + 1).equals("TO") ? s.nameAt(to + 2) : s.alteredTable().name();
                    }
                    made = made == null && s.indexedTable() != null ? s.indexedTable().name() : made;
                    if (made != null) {
                        created.add(dev.pgshift.source.QualifiedName.truncate(made));
                    }
                }
            }
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read the backfills' tables: " + DatabaseWaiter.describe(e), e);
        }
        return out;
    }

    /**
     * A database that already has tables but no history of pgshift's (nor a _prisma_migrations to adopt from) would have
     * its first migration collide with what is there: stop before any backup, with the two ways forward.
     */
    private static void refuseExistingSchemaWithoutHistory(Connection c, String schema) throws SQLException {
        List<String> tables = new ArrayList<>();
        boolean onlyTables = true;
        // What Flyway counts as a non-empty schema (relations, sequences, standalone types, functions; extensions' own
        // objects aside), so that pgshift's refusal, in its words, comes first, in plan as in run.
        try (java.sql.PreparedStatement ps = c.prepareStatement("select name, is_table from ("
                + "select format('%I.%I', n.nspname, t.relname) as name, t.relkind in ('r', 'p') as is_table, n.nspname, t.oid from pg_class t "
                + "join pg_namespace n on n.oid = t.relnamespace where t.relkind in ('r', 'p', 'v', 'm', 'S') "
                + "and t.relname not in ('_prisma_migrations', '" + OwnTables.MIGRATION_HISTORY + "') "
                + "union all select 'type ' || format('%I.%I', n.nspname, y.typname), false, n.nspname, y.oid from pg_type y "
                + "join pg_namespace n on n.oid = y.typnamespace where y.typcategory not in ('A', 'C') "
                + "union all select 'function ' || format('%I.%I', n.nspname, p.proname), false, n.nspname, p.oid from pg_proc p "
                + "join pg_namespace n on n.oid = p.pronamespace) o "
                + "where (o.nspname = ? or o.nspname = any (current_schemas(false))) "
                + "and not exists (select 1 from pg_depend d where d.objid = o.oid and d.deptype = 'e') order by not is_table, 1 limit 6")) {
            ps.setString(1, schema);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                    onlyTables &= rs.getBoolean(2);
                }
            }
        }
        if (!tables.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, "the database already has " + (onlyTables ? "tables" : "objects") + " (" + String.join(", ", tables.subList(0, Math.min(5,
                    tables.size()))) + (tables.size() > 5 ? ", ..." : "") + ") but no migration history: running the migrations would "
                    + "collide with them. If Prisma migrated it, pgshift adopts what _prisma_migrations records: none was found in schema "
                    + schema + " or on the search_path (set --schema to the schema that holds it). If the tables were made by hand or "
                    + "by another tool, pass --adopt-through VERSION to record the migrations up to VERSION as applied without running "
                    + "them. Nothing was changed.");
        }
    }

    /** A retry of an unnamed CREATE INDEX CONCURRENTLY would build t_c_idx1 beside the INVALID t_c_idx it left. */
    private static void refuseUnnamedConcurrentIndexes(List<MigrationScript> pending) {
        List<String> unnamed = new ArrayList<>();
        for (MigrationScript m : pending) {
            for (SqlStatement s : m.statements()) {
                if (s.isUnnamedConcurrentIndex()) {
                    unnamed.add(m.file().displayPath() + ":" + s.line());
                }
            }
        }
        if (!unnamed.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, "CREATE INDEX CONCURRENTLY without an index name at " + String.join(", ", unnamed)
                    + ": name the index (CREATE INDEX CONCURRENTLY name ON ...), so that a retry after a failure finds and repairs "
                    + "the index instead of building a second one beside it");
        }
    }

    static RollbackPlan rollbackPlan(Migrator migrator, List<MigrationScript> scripts, String to) {
        if (!Versions.valid(to)) {
            throw new PgshiftException(ExitCode.CONFIG, "bad version '" + to + "' for --to: " + Versions.EXPECTED);
        }
        Set<String> applied = migrator.appliedVersions();
        if (!applied.contains(to) && !to.equals("0")) {
            throw new PgshiftException(ExitCode.CONFIG, "--to " + to + " is not an applied version; applied: " + applied.stream().sorted().toList());
        }
        List<MigrationScript> undo = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        Set<String> known = new HashSet<>();
        for (MigrationScript s : scripts) {
            known.add(s.version());
            if (applied.contains(s.version()) && Versions.compare(s.version(), to) > 0) {
                if (s.rollback() == null) {
                    missing.add(s.version() + " (" + s.file().displayPath() + ": no rollback script beside it)");
                } else {
                    undo.add(0, s);
                }
            }
        }
        for (String v : applied) {
            if (!known.contains(v) && Versions.compare(v, to) > 0) {
                missing.add(v + " (applied, but its file is gone)");
            }
        }
        return new RollbackPlan(to, undo, missing);
    }
}
