package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.Database;
import dev.pgshift.db.Identifiers;
import dev.pgshift.source.ExecutionMode;
import dev.pgshift.source.MigrationScript;
import dev.pgshift.source.SqlStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.jboss.logging.Logger;

/**
 * Flyway's history table as pgshift keeps it before and between Flyway's reads: created empty where there is none (with
 * the privileges it needs asked first), failed rows a concurrent step left cleared, rows of an own-transactions file left
 * part-way kept as where it resumes, rows an older pgshift wrote its own way upgraded. Its name is written one way,
 * {@link #table}.
 */
final class HistoryGuard {
    private static final Logger LOG = Logger.getLogger(Migrator.class); // the migrate stage speaks for it

    private final Database db;
    private final String schema;
    private final Map<String, MigrationScript> byVersion;
    /**
     * Files with their own transactions that an earlier run left part-way, with how many of their statements it
     * committed (their failed row says so, {@link HistoryRows#recordProgress}): they resume there.
     */
    private final Map<String, Long> resumable = new java.util.concurrent.ConcurrentHashMap<>();

    HistoryGuard(Database db, String schema, Map<String, MigrationScript> byVersion) {
        this.db = db;
        this.schema = schema;
        this.byVersion = byVersion;
    }

    /** How many statements of {@code version}'s file an earlier run committed, where it resumes; null if it does not. */
    Long resumesAfter(String version) {
        return resumable.get(version);
    }

    Map<String, Long> resumable() {
        return resumable;
    }

    /** The failed rows of the history, "version (script)", in the order they were installed. */
    List<String> failedRows(Connection c) throws SQLException {
        if (!HistoryRows.exists(c, schema)) {
            return List.of();
        }
        return HistoryRows.failed(c, schema).stream().map(f -> f.version() + " (" + f.script() + ")").toList();
    }

    /**
     * A failed non-transactional migration leaves a failed row in Flyway's history, which Flyway would refuse until a
     * manual repair. pgshift's concurrent steps are idempotent against what the failed run left, so the row is
     * removed and the migration runs again from its first statement. (A transactional migration that fails is rolled
     * back whole and leaves no row.) A file with its own transactions that committed part of itself resumes after what
     * committed; one whose row records no such point, or that was edited since, stops the run (exit 3) with what to do.
     * Runs on the run's session {@code c} (in autocommit); {@code clear} false only looks (plan).
     *
     * @return whether the history changed (Flyway's view of it must be read again)
     */
    boolean clearFailedSteps(Connection c, boolean clear) {
        boolean changed = false;
        try {
            if (!HistoryRows.exists(c, schema)) {
                return false;
            }
            if (clear) {
                int upgraded = HistoryRows.upgradeLegacyRows(c, schema, List.copyOf(byVersion.values()));
                if (upgraded > 0) {
                    changed = true;
                    LOG.infof("gave %d history row(s) that an earlier pgshift recorded its own way the description, script name or "
                            + "checksum Flyway records for their files: Flyway and pgshift now read them alike", upgraded);
                }
            }
            List<String> versions = new ArrayList<>();
            resumable.clear();
            for (HistoryRows.Failed failed : HistoryRows.failed(c, schema)) {
                String v = failed.version();
                MigrationScript script = byVersion.get(v);
                if (script != null && script.mode() == ExecutionMode.OWN) {
                    Long done = HistoryRows.progress(failed.executionTime());
                    boolean unchanged = failed.checksum() == FlywayBridge.checksum(script.file().content());
                    if (done != null && unchanged) {
                        resumable.put(v, done);
                        LOG.infof("%s committed %d of its statements in an earlier run (up to line %d): it %s after them",
                                script.file().displayPath(), done, lineAfter(script, done), clear ? "resumes" : "would resume");
                        continue;
                    }
                    throw new PgshiftException(ExitCode.CONFIG, script.file().displayPath() + " failed in an earlier run after its own "
                            + "transactions had committed part of it, " + (done != null ? "and it was edited since (pgshift resumes a file "
                                    + "only as it was: restore it to have the run go on after what committed)" : "and that run recorded no "
                                    + "point to resume from (an older pgshift)") + ". Otherwise bring the database to where it was "
                            + "before the file, then run: " + Repair.command("--rolled-back", v) + " (the file runs again on the next run); "
                            + "or finish what the file does by hand, then run: " + Repair.command("--applied", v));
                }
                versions.add(v);
                LOG.warnf("migration %s (%s) failed in an earlier run: it will run again, resuming after what that run completed", v,
                        failed.script());
            }
            if (!versions.isEmpty() && clear) {
                HistoryRows.deleteFailed(c, schema, versions);
                changed = true;
            }
            return changed;
        } catch (SQLException e) {
            if ("42501".equals(e.getSQLState())) {
                throw notWritable();
            }
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read the migration history: " + e.getMessage(), e);
        }
    }

    /** {@link #clearFailedSteps(Connection, boolean)} on a session of its own. */
    boolean clearFailedSteps() {
        try (Connection c = db.getConnection()) {
            return clearFailedSteps(c, true);
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read the migration history: " + e.getMessage(), e);
        }
    }

    /**
     * Creates the empty history table, as Flyway makes it, where there is none. Flyway would refuse a schema that holds
     * anything ("non-empty schema"), in its own words; pgshift's plan has already refused a schema that holds objects the
     * migrations could collide with, in pgshift's words, and allowed what is no collision (an empty _prisma_migrations).
     * Flyway creates the table with a baseline marker, which is removed at once: the history holds only migrations.
     *
     * @return whether rows Flyway may have read were removed (its view of the history must be read again)
     */
    boolean create(FluentConfiguration config) {
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(true);
            if (HistoryRows.exists(c, schema)) {
                if (!HistoryRows.writable(c, schema)) {
                    // before anything runs: a concurrent build or a file with its own transactions would stay applied unrecorded
                    throw notWritable();
                }
                // A run killed between Flyway's creating the table and the removal of its marker (below) left the marker
                // alone in the history: removed now, as it would have been (ChaosSoakIT, a kill 377 ms into the backup).
                return HistoryRows.deleteLoneBaseline(c, schema);
            }
            String refused = notCreatable(c);
            if (refused != null) {
                throw new PgshiftException(ExitCode.CONFIG, refused);
            }
            try (PreparedStatement ps = c.prepareStatement("select not exists (select 1 from pg_namespace where nspname = ?)")) {
                ps.setString(1, schema);
                try (ResultSet absent = ps.executeQuery()) {
                    if (absent.next() && absent.getBoolean(1)) {
                        LOG.infof("creating schema %s for the migration history (--schema)", Identifiers.quote(schema));
                    }
                }
            }
            try {
                new FluentConfiguration(Migrator.class.getClassLoader()).configuration(config).baselineVersion("0").load().baseline();
            } catch (FlywayException e) {
                if (HistoryRows.exists(c, schema)) {
                    return false; // another tool (a Flyway CLI) created it meanwhile: its lock decides who migrates
                }
                throw e;
            }
            HistoryRows.deleteBaseline(c, schema);
            return false; // empty, as Flyway's view of a schema without history has it
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot create the migration history: " + e.getMessage(), e);
        }
    }

    /** The role may not read or write the history table another role created: exit 3 with the GRANT that fixes it. */
    private PgshiftException notWritable() {
        String role = Identifiers.quote(db.settings().user());
        return new PgshiftException(ExitCode.CONFIG, "role " + role + " may not read and write the migration history "
                + HistoryRows.table(schema) + ", which another role owns; nothing was applied. Run as its owner: GRANT SELECT, INSERT, UPDATE, "
                + "DELETE ON " + HistoryRows.table(schema) + " TO " + role + "; or migrate as the owner");
    }

    /**
     * Why this session's role cannot create the history table, saying what to grant; null when it can. Asked before Flyway
     * tries: Flyway retries a failed creation ten times a second apart, then answers in its own words ("Run Flyway with
     * -X option").
     */
    private String notCreatable(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select current_user, n.oid is not null, coalesce(has_schema_privilege(n.oid, "
                + "'CREATE'), has_database_privilege(current_database(), 'CREATE')), current_database() from (select 1) one "
                + "left join pg_namespace n on n.nspname = ?")) {
            ps.setString(1, schema);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(3)) {
                    return null;
                }
                String role = Identifiers.quote(rs.getString(1));
                String name = Identifiers.quote(schema);
                return rs.getBoolean(2)
                        ? "role " + role + " may not create tables in schema " + name + ", so it cannot create the migration history "
                                + HistoryRows.table(schema) + " (PostgreSQL 15 and later let only the database owner create in public). Run as the "
                                + "owner: GRANT CREATE ON SCHEMA " + name + " TO " + role + "; or keep the history in a schema the role owns "
                                + "(--schema)"
                        : "schema " + name + " does not exist and role " + role + " may not create it in database "
                                + Identifiers.quote(rs.getString(4)) + ". Run as the owner: CREATE SCHEMA " + name + " AUTHORIZATION " + role
                                + "; or name an existing schema with --schema";
            }
        }
    }

    /** The line of the last of {@code script}'s first {@code done} statements (0 for none). */
    private static int lineAfter(MigrationScript script, long done) {
        long k = 0;
        int line = 0;
        for (SqlStatement s : script.statements()) {
            if (++k > done) {
                break;
            }
            line = s.line();
        }
        return line;
    }
}
