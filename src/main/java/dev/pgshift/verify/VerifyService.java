package dev.pgshift.verify;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.VerifySettings;
import dev.pgshift.migrate.Failures;
import dev.pgshift.migrate.Migrator;
import dev.pgshift.source.MigrationFile;
import dev.pgshift.source.MigrationLocations;
import dev.pgshift.source.MigrationScript;
import dev.pgshift.source.QualifiedName;
import dev.pgshift.source.SqlStatement;
import dev.pgshift.source.SqlTokenizer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * The post-migration checks: applied checksums match the files, no failed rows in the history, no INVALID index among
 * those the migrations made (others are warned about unless allowed), no constraint left NOT VALID unless allowed, the
 * expected version reached, and the project's verify scripts return no rows.
 */
public final class VerifyService {
    private static final Logger LOG = Logger.getLogger(VerifyService.class);

    private final Connection connection;
    private final Migrator migrator;
    private final List<MigrationScript> scripts;
    private final VerifySettings settings;
    private final String schema;

    public VerifyService(Connection connection, Migrator migrator, List<MigrationScript> scripts, VerifySettings settings, String schema) {
        this.connection = connection;
        this.migrator = migrator;
        this.scripts = scripts;
        this.settings = settings;
        this.schema = schema;
    }

    /** @param expectedVersion the version the run should have reached (phase-aware), or null for no expectation */
    public List<CheckResult> verify(String expectedVersion) {
        List<CheckResult> out = new ArrayList<>();
        out.add(check("checksums", () -> {
            List<String> problems = migrator.checksumProblems();
            return problems.isEmpty() ? pass("applied migrations match their files") : fail(String.join("; ", problems));
        }));
        out.add(check("failed-migrations", () -> {
            List<String> failed = migrator.failedRows(connection);
            return failed.isEmpty() ? pass("none") : fail("failed rows in the history: " + String.join(", ", failed));
        }));
        out.add(check("invalid-indexes", this::invalidIndexes));
        out.add(check("not-valid-constraints", this::notValidConstraints));
        Migrator.Applied now = migrator.applied();
        out.add(check("expected-version", () -> {
            String current = now.currentVersion();
            if (expectedVersion == null) {
                return new Outcome(CheckResult.Status.SKIPPED, "no expected version");
            }
            String at = current == null ? "no migration applied" : "at " + current;
            return expectedVersion.equals(current) ? pass(at) : fail(at + ", expected " + expectedVersion);
        }));
        Set<String> applied = new HashSet<>(now.versions());
        for (VerifyScript vs : verifyScripts()) {
            out.add(check("verify-script:" + vs.name(), () -> runScript(vs, applied)));
        }
        for (CheckResult r : out) {
            if (r.status() == CheckResult.Status.FAILED) {
                LOG.errorf("check %s FAILED: %s", r.name(), r.detail());
            } else if (r.status() == CheckResult.Status.WARNED) {
                LOG.warnf("check %s: %s", r.name(), r.detail());
            }
        }
        return out;
    }

    private Outcome invalidIndexes() throws SQLException {
        Set<Long> ours = Migrator.indexesMadeBy(connection, scripts);
        List<String> mine = new ArrayList<>();
        List<String> others = new ArrayList<>();
        // Every schema's, not only the search_path's: a migration may build in a schema the session does not search.
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("select i.indexrelid::bigint, "
                + "i.indexrelid::regclass::text, c.relname from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n "
                + "on n.oid = c.relnamespace where not i.indisvalid and n.nspname not in ('pg_catalog', 'information_schema') "
                + "and n.nspname !~ '^pg_(toast|temp_)' order by 2")) {
            while (rs.next()) {
                if (ours.contains(rs.getLong(1))) {
                    mine.add(rs.getString(2));
                } else if (!settings.allowInvalidIndexes().contains(rs.getString(3)) && !settings.allowInvalidIndexes().contains(rs.getString(2))) {
                    others.add(rs.getString(2));
                }
            }
        }
        if (!mine.isEmpty()) {
            return fail("INVALID indexes made by the migrations: " + String.join(", ", mine) + " (the application gets sequential scans)");
        }
        if (!others.isEmpty()) {
            return new Outcome(CheckResult.Status.WARNED, "INVALID indexes not made by the migrations: " + String.join(", ", others)
                    + " (allow them with --allow-invalid-index)");
        }
        return pass("none");
    }

    private Outcome runScript(VerifyScript vs, Set<String> applied) throws SQLException {
        if (vs.afterVersion() != null && !applied.contains(vs.afterVersion())) {
            return new Outcome(CheckResult.Status.SKIPPED, "runs once " + vs.afterVersion() + " is applied");
        }
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        List<SqlStatement> statements = SqlTokenizer.split(vs.file().content());
        for (SqlStatement s : statements) {
            if (s.kind() == SqlStatement.Kind.PSQL_META) {
                return fail(vs.file().displayPath() + ":" + s.line() + ": psql meta-command '" + s.excerpt(40) + "' is not SQL");
            }
        }
        try (Statement st = connection.createStatement()) {
            st.execute("set transaction read only");
            st.setMaxRows(5);
            List<String> rows = new ArrayList<>();
            for (SqlStatement s : statements) {
                if (!st.execute(s.text())) {
                    continue;
                }
                try (ResultSet rs = st.getResultSet()) {
                    int n = rs.getMetaData().getColumnCount();
                    while (rs.next() && rows.size() < 5) {
                        List<String> row = new ArrayList<>();
                        for (int c = 1; c <= n; c++) {
                            row.add(rs.getMetaData().getColumnLabel(c) + "=" + rs.getString(c));
                        }
                        rows.add("(" + String.join(", ", row) + ")");
                    }
                }
            }
            return rows.isEmpty() ? pass("no rows") : fail(vs.file().displayPath() + " returned rows, first ones: " + String.join(" ", rows));
        } catch (SQLException e) {
            if (Failures.exitCode(e) == ExitCode.TEMPORARY) {
                throw Failures.of("verify script " + vs.file().displayPath(), e, null); // not the database's verdict: run again
            }
            return fail(vs.file().displayPath() + ": " + Failures.describe(e).replace("\n", ";"));
        } finally {
            connection.rollback();
            connection.setAutoCommit(autoCommit);
        }
    }

    private List<VerifyScript> verifyScripts() {
        List<MigrationFile> files = new ArrayList<>();
        if (settings.bundledScripts()) {
            files.addAll(MigrationLocations.bundled(Thread.currentThread().getContextClassLoader(), "db/verify"));
        }
        for (Path dir : settings.scriptDirs()) {
            files.addAll(MigrationLocations.directory(dir));
        }
        return files.stream().filter(f -> f.relativePath().endsWith(".sql")).map(VerifyScript::of).toList();
    }

    /**
     * Constraints left NOT VALID fail the check, except those allowed (--allow-not-valid) and those a migration of the
     * set adds NOT VALID and none validates: that is the safe way to add a constraint to a large table (validated by a
     * later release), so it is reported, naming the migration, and is no failure. One made by hand, or whose
     * VALIDATE CONSTRAINT never ran, still fails.
     */
    private Outcome notValidConstraints() throws SQLException {
        List<String[]> rows = new ArrayList<>();
        // Every schema: one off the search_path counts where a migration of the set made its constraint NOT VALID (a
        // constraint of another application's schema is none of this run's business).
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("select co.conname, co.conrelid::regclass::text, "
                + "co.conrelid::bigint, n.nspname = any (current_schemas(false)) from pg_constraint co join pg_namespace n "
                + "on n.oid = co.connamespace where not co.convalidated and n.nspname <> 'information_schema' and n.nspname !~ '^pg_' "
                + "order by 2, 1")) {
            while (rs.next()) {
                rows.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3), String.valueOf(rs.getBoolean(4))});
            }
        }
        // Read from the migrations only when something is NOT VALID: a pass over every statement (a large file is
        // tokenized again) is no cost a run with nothing to explain should pay.
        List<LeftNotValid> deliberate = rows.isEmpty() ? List.of() : leftNotValid(scripts);
        List<String> failing = new ArrayList<>();
        List<String> reported = new ArrayList<>();
        for (String[] row : rows) {
            if (settings.allowNotValid().contains(row[0])) {
                continue;
            }
            LeftNotValid by = null;
            for (LeftNotValid d : deliberate) {
                if (d.constraint().equals(row[0]) && String.valueOf(tableOid(d.table())).equals(row[2])) {
                    by = d;
                }
            }
            if (by == null && row[3].equals("false")) {
                continue;
            }
            if (by != null) {
                reported.add(row[0] + " on " + row[1] + " (left NOT VALID by " + by.version() + "; validate it in a later migration)");
            } else {
                failing.add(row[0] + " on " + row[1]);
            }
        }
        if (!failing.isEmpty()) {
            return fail("constraints left NOT VALID: " + String.join(", ", failing) + "; VALIDATE them in a migration or allow them "
                    + "with --allow-not-valid" + (reported.isEmpty() ? "" : "; and, as the migrations leave them: " + String.join(", ", reported)));
        }
        return reported.isEmpty() ? pass("none (allowed: " + settings.allowNotValid() + ")")
                : new Outcome(CheckResult.Status.WARNED, String.join(", ", reported));
    }

    /** A constraint a migration adds NOT VALID (ALTER TABLE t ADD CONSTRAINT c ... NOT VALID) that no migration of the set validates. */
    public record LeftNotValid(QualifiedName table, String constraint, String version) {
    }

    public static List<LeftNotValid> leftNotValid(List<MigrationScript> scripts) {
        List<LeftNotValid> out = new ArrayList<>();
        for (MigrationScript m : scripts) {
            for (SqlStatement s : m.statements()) {
                QualifiedName table = s.alteredTable();
                if (table == null) {
                    continue;
                }
                List<String> w = s.words();
                for (int i = 0; i + 2 < w.size(); i++) {
                    if (w.get(i + 1).equals("CONSTRAINT") && (w.get(i).equals("ADD") || w.get(i).equals("VALIDATE")) && s.nameAt(i + 2) != null) {
                        String c = QualifiedName.truncate(s.nameAt(i + 2));
                        out.removeIf(d -> d.constraint().equals(c)); // validated, or added again
                        if (w.get(i).equals("ADD") && s.containsSequence("NOT", "VALID")) {
                            out.add(new LeftNotValid(table.truncated(), c, m.version()));
                        }
                    }
                }
            }
        }
        return out;
    }

    /** The table's oid as the migration session resolves its name; 0 when it does not exist. */
    private long tableOid(QualifiedName table) throws SQLException {
        try (java.sql.PreparedStatement ps = connection.prepareStatement("select coalesce(to_regclass(?)::oid::bigint, 0)")) {
            ps.setString(1, table.sql());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private List<String> column(String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private record Outcome(CheckResult.Status status, String detail) {
    }

    private static Outcome pass(String detail) {
        return new Outcome(CheckResult.Status.PASSED, detail);
    }

    private static Outcome fail(String detail) {
        return new Outcome(CheckResult.Status.FAILED, detail);
    }

    @FunctionalInterface
    private interface Body {
        Outcome run() throws SQLException;
    }

    private static CheckResult check(String name, Body body) {
        long start = System.nanoTime();
        Outcome o;
        try {
            o = body.run();
        } catch (PgshiftException e) {
            throw e;
        } catch (SQLException e) {
            if (Failures.exitCode(e) == ExitCode.TEMPORARY) {
                throw Failures.of("check " + name, e, null);
            }
            o = fail("check could not run: " + Failures.describe(e).replace("\n", ";"));
        } catch (RuntimeException e) {
            o = fail("check could not run: " + e.getMessage());
        }
        return new CheckResult(name, o.status(), Duration.ofNanos(System.nanoTime() - start), o.detail());
    }
}
