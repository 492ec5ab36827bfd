package dev.pgshift.migrate;

import dev.pgshift.source.ExecutionMode;
import dev.pgshift.source.MigrationScript;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32;
import org.flywaydb.core.api.CoreMigrationType;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.executor.MigrationExecutor;
import org.flywaydb.core.api.resolver.MigrationResolver;
import org.flywaydb.core.api.resolver.ResolvedMigration;
import org.flywaydb.core.extensibility.MigrationType;
import org.flywaydb.core.internal.jdbc.Results;
import org.flywaydb.core.internal.util.AbbreviationUtils;

/**
 * Everything pgshift hands to Flyway and takes from it, in one class: each migration of pgshift's stream as a resolved
 * migration, and each history row pgshift's apply loop ({@link ApplyLoop}) writes. Flyway keeps the order, the history
 * table (created by Flyway) and the validation of history against files; pgshift runs every statement
 * ({@link StatementRunner}). The migrations are recorded as type SQL, under the script name, description and checksum
 * Flyway itself would have recorded for the file, so histories written before stay valid and stay Flyway's. The only
 * Flyway types used beyond its public API are named here ({@code Results} in the executor's signature,
 * {@code AbbreviationUtils} for the row's description and script); the checksum rule is Flyway's and FlywayBridgeTest
 * fails if a Flyway upgrade changes it; MigrateIT fails if the rows differ from the ones Flyway writes.
 */
final class FlywayBridge implements MigrationResolver {
    private final List<MigrationScript> scripts;

    FlywayBridge(List<MigrationScript> scripts) {
        this.scripts = scripts;
    }

    @Override
    public Collection<ResolvedMigration> resolveMigrations(MigrationResolver.Context context) {
        return scripts.stream().map(s -> (ResolvedMigration) new Resolved(s, new Executor(s))).toList();
    }

    /**
     * Flyway's checksum of a SQL migration: CRC32 over the file's lines (UTF-8, without line terminators, a byte order
     * mark at the start of the file dropped), as a signed int.
     */
    static int checksum(String content) {
        return crc(content, false);
    }

    /** The checksum pgshift 0.1 recorded: a byte order mark dropped at the start of every line (Flyway: of the first only). */
    static int legacyChecksum(String content) {
        return crc(content, true);
    }

    private static int crc(String content, boolean bomOnEveryLine) {
        CRC32 crc = new CRC32();
        try (BufferedReader r = new BufferedReader(new StringReader(content))) {
            boolean first = true;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if ((first || bomOnEveryLine) && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
                    line = line.substring(1);
                }
                first = false;
                crc.update(line.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return (int) crc.getValue();
    }

    /**
     * The description Flyway records. A Flyway file ({@code V1__add-b.v2.sql}) gets Flyway's own: the part of its name
     * after "__" with underscores as spaces, everything else as it is ("add-b.v2"), so a project Flyway migrated is taken
     * over as it is and Flyway reads what pgshift records. The other schemes have no Flyway name of their own: theirs
     * is made from a Flyway-style name with every character but letters, digits and "_" made "_" ({@link
     * MigrationScript#flywayName()}); files that ran outside a transaction keep their description as it is.
     */
    static String description(MigrationScript s) {
        if (s.scheme() == MigrationScript.Scheme.FLYWAY) {
            return s.description().replace('_', ' ');
        }
        return legacyDescription(s);
    }

    /** The description as pgshift 0.1 recorded it for every scheme: {@link #description} for the schemes but Flyway's. */
    private static String legacyDescription(MigrationScript s) {
        if (s.mode() == ExecutionMode.OUTSIDE) {
            return s.description().isEmpty() ? "migration" : s.description().replace('_', ' ');
        }
        String name = s.flywayName();
        return name.substring(name.indexOf("__") + 2, name.length() - ".sql".length()).replace('_', ' ');
    }

    /** The description as the history records it: Flyway cuts it to 200 characters ("..." at the end). */
    static String recordedDescription(MigrationScript s) {
        return AbbreviationUtils.abbreviateDescription(description(s));
    }

    /** The script name Flyway records: a Flyway file's path inside its location, as Flyway names it; the others' Flyway-style name. */
    static String script(MigrationScript s) {
        return s.scheme() == MigrationScript.Scheme.FLYWAY ? s.file().relativePath() : s.flywayName();
    }

    /**
     * Rows pgshift 0.1 wrote where Flyway would have written others get Flyway's, so both tools read the history as their
     * own (in the run's session, before Flyway reads the history): Flyway files whose names have characters other than
     * letters, digits and "_" carried pgshift's own description and script name ("add b v2", V1__add_b_v2.sql for
     * V1__add-b.v2.sql), and files with a byte order mark past their first line pgshift's own checksum. Returns how many
     * rows were changed.
     */
    static int upgradeLegacyRows(Connection c, String schema, List<MigrationScript> scripts) throws SQLException {
        String table = HistoryGuard.table(schema);
        int changed = 0;
        try (PreparedStatement names = c.prepareStatement("update " + table + " set description = ?, script = ? "
                + "where version = ? and type = 'SQL' and description = ? and script = ?");
                PreparedStatement sums = c.prepareStatement("update " + table + " set checksum = ? where version = ? and type = 'SQL' "
                        + "and checksum = ?")) {
            for (MigrationScript m : scripts) {
                String version = MigrationVersion.fromVersion(m.version()).toString();
                if (m.scheme() == MigrationScript.Scheme.FLYWAY && isLegacyNamed(m)) {
                    names.setString(1, recordedDescription(m));
                    names.setString(2, AbbreviationUtils.abbreviateScript(script(m)));
                    names.setString(3, version);
                    names.setString(4, AbbreviationUtils.abbreviateDescription(legacyDescription(m)));
                    names.setString(5, AbbreviationUtils.abbreviateScript(m.flywayName()));
                    changed += names.executeUpdate();
                }
                int legacy = legacyChecksum(m.file().content());
                if (legacy != checksum(m.file().content())) {
                    sums.setInt(1, checksum(m.file().content()));
                    sums.setString(2, version);
                    sums.setInt(3, legacy);
                    changed += sums.executeUpdate();
                }
            }
        }
        return changed;
    }

    /** Whether pgshift 0.1 recorded {@code s} under other names than Flyway's. */
    private static boolean isLegacyNamed(MigrationScript s) {
        return !legacyDescription(s).equals(description(s)) || !s.flywayName().equals(script(s));
    }

    /** Whether {@code recorded} is the description pgshift 0.1 recorded for {@code s} (a row {@link #upgradeLegacyRows} renames). */
    static boolean isLegacyDescription(MigrationScript s, String recorded) {
        return s.scheme() == MigrationScript.Scheme.FLYWAY && AbbreviationUtils.abbreviateDescription(legacyDescription(s)).equals(recorded);
    }

    /** One migration as Flyway sees it. */
    private static final class Resolved implements ResolvedMigration {
        private final MigrationScript script;
        private final Executor executor;
        private final MigrationVersion version;
        private final int checksum;

        Resolved(MigrationScript script, Executor executor) {
            this.script = script;
            this.executor = executor;
            this.version = MigrationVersion.fromVersion(script.version());
            this.checksum = checksum(script.file().content());
        }

        @Override
        public MigrationVersion getVersion() {
            return version;
        }

        @Override
        public String getDescription() {
            return description(script);
        }

        @Override
        public String getScript() {
            return script(script);
        }

        @Override
        public Integer getChecksum() {
            return checksum;
        }

        @Override
        public MigrationType getType() {
            return CoreMigrationType.SQL;
        }

        @Override
        public String getPhysicalLocation() {
            return script.file().displayPath();
        }

        @Override
        public MigrationExecutor getExecutor() {
            return executor;
        }

        @Override
        public boolean checksumMatches(Integer other) {
            return Objects.equals(other, checksum);
        }

        @Override
        public boolean checksumMatchesWithoutBeingIdentical(Integer other) {
            return false;
        }
    }

    /**
     * Flyway's executor slot. pgshift applies migrations in its own loop ({@link ApplyLoop}); Flyway runs only to adopt
     * migrations without executing them, so this is never asked to execute.
     */
    private static final class Executor implements MigrationExecutor {
        private final MigrationScript script;

        Executor(MigrationScript script) {
            this.script = script;
        }

        @Override
        public List<Results> execute(org.flywaydb.core.api.executor.Context context) {
            throw new IllegalStateException("pgshift applies " + script.version() + " in its own loop, not through Flyway's");
        }

        @Override
        public boolean canExecuteInTransaction() {
            return script.mode() == ExecutionMode.TRANSACTION;
        }

        @Override
        public boolean shouldExecute() {
            return true;
        }
    }

    /**
     * Writes {@code m}'s row in Flyway's history table as Flyway's own history writes it: the next installed rank, the
     * version as Flyway prints it, the description and script name abbreviated as Flyway abbreviates them, type SQL,
     * the checksum, the role that ran the migration, the execution time in ms, and whether it succeeded (installed_on
     * is the table's default, now()). Flyway reads the rows back as its own: MigrateIT compares them with Flyway's.
     */
    static void recordApplied(Connection c, String schema, MigrationScript m, int millis, boolean success, String installedBy)
            throws SQLException {
        String table = HistoryGuard.table(schema);
        try (PreparedStatement ps = c.prepareStatement("insert into " + table + " (installed_rank, version, description, type, script, "
                + "checksum, installed_by, execution_time, success) select coalesce(max(installed_rank), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ? from "
                + table)) {
            ps.setString(1, MigrationVersion.fromVersion(m.version()).toString());
            ps.setString(2, recordedDescription(m));
            ps.setString(3, CoreMigrationType.SQL.name());
            ps.setString(4, AbbreviationUtils.abbreviateScript(script(m)));
            ps.setInt(5, checksum(m.file().content()));
            ps.setString(6, installedBy);
            ps.setInt(7, millis);
            ps.setBoolean(8, success);
            ps.executeUpdate();
        }
    }

    /**
     * How far a file with its own transactions got: its row, failed until the file ends, with the number of its
     * statements committed as {@code -(done + 1)} in execution_time (a negative time no Flyway writes). Written on the
     * file's session inside the transaction about to commit, so the record and the work commit together.
     *
     * @param exists whether the row was written already (by an earlier commit of the file, or an earlier run)
     */
    static void recordProgress(Connection c, String schema, MigrationScript m, long done, String installedBy, boolean exists)
            throws SQLException {
        int encoded = (int) -(done + 1);
        try (java.sql.Statement st = c.createStatement()) {
            // as the connection's own role, for this transaction only: a SET ROLE of the file's stays the session's
            st.execute("set local session authorization default; set local role none");
        }
        if (!exists) {
            recordApplied(c, schema, m, encoded, false, installedBy);
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("update " + HistoryGuard.table(schema) + " set execution_time = ? "
                + "where version = ? and not success")) {
            ps.setInt(1, encoded);
            ps.setString(2, MigrationVersion.fromVersion(m.version()).toString());
            if (ps.executeUpdate() != 1) {
                throw new SQLException("the row recording how far " + m.file().displayPath() + " got is gone from the history");
            }
        }
    }

    /** The statements a failed row's file committed, from its execution_time ({@link #recordProgress}); null for any other row. */
    static Long progress(int executionTime) {
        return executionTime < 0 ? (long) -executionTime - 1 : null;
    }

    /** {@code m}'s failed row ({@link #recordProgress}) now records its success, as of now. */
    static void recordSucceeded(Connection c, String schema, MigrationScript m, int millis) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("update " + HistoryGuard.table(schema) + " set success = true, execution_time = ?, "
                + "installed_on = now() where version = ? and not success")) {
            ps.setInt(1, millis);
            ps.setString(2, MigrationVersion.fromVersion(m.version()).toString());
            if (ps.executeUpdate() != 1) {
                throw new SQLException("the failed row written before " + m.file().displayPath() + " committed is gone from the history");
            }
        }
    }

    /** Removes {@code m}'s failed row: nothing of it committed after all. */
    static void removeFailed(Connection c, String schema, MigrationScript m) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("delete from " + HistoryGuard.table(schema) + " where version = ? and not success")) {
            ps.setString(1, MigrationVersion.fromVersion(m.version()).toString());
            ps.executeUpdate();
        }
    }
}
