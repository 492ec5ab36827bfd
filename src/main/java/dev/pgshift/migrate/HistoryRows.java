package dev.pgshift.migrate;

import dev.pgshift.config.OwnTables;
import dev.pgshift.db.Identifiers;
import dev.pgshift.source.MigrationScript;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.flywaydb.core.api.CoreMigrationType;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.internal.util.AbbreviationUtils;

/**
 * Every statement pgshift itself runs on Flyway's history table (Flyway's own reads and its baseline stay Flyway's), so
 * the table's name and columns are written in one place: rows as Flyway writes them, the progress of a file with its
 * own transactions, failed rows, repair's changes, rollback's removal.
 */
final class HistoryRows {
    private HistoryRows() {
    }

    /** The quoted, schema-qualified name of Flyway's history table in {@code schema}: the one way it is written. */
    static String table(String schema) {
        return Identifiers.quote(schema) + "." + Identifiers.quote(OwnTables.MIGRATION_HISTORY);
    }

    static boolean exists(Connection c, String schema) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select to_regclass(?) is not null")) {
            ps.setString(1, table(schema));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** Whether this session's role may insert, update and delete rows (checked one privilege a call: a list is true when any is held). */
    static boolean writable(Connection c, String schema) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select has_table_privilege(?, 'INSERT') and has_table_privilege(?, 'UPDATE') "
                + "and has_table_privilege(?, 'DELETE')")) {
            for (int i = 1; i <= 3; i++) {
                ps.setString(i, table(schema));
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** A failed row: its version, script name, execution time (a file's progress, {@link #progress}) and checksum. */
    record Failed(String version, String script, int executionTime, int checksum) {
    }

    static List<Failed> failed(Connection c, String schema) throws SQLException {
        List<Failed> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select version, script, execution_time, checksum from "
                + table(schema) + " where not success order by installed_rank")) {
            while (rs.next()) {
                out.add(new Failed(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getInt(4)));
            }
        }
        return out;
    }

    /** Removes the failed rows of {@code versions}; returns how many. */
    static int deleteFailed(Connection c, String schema, Collection<String> versions) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("delete from " + table(schema) + " where not success and version = any (?)")) {
            ps.setArray(1, c.createArrayOf("text", versions.toArray()));
            return ps.executeUpdate();
        }
    }

    /** Removes Flyway's baseline marker when it is the only row (a run killed between creating the table and removing it). */
    static boolean deleteLoneBaseline(Connection c, String schema) throws SQLException {
        try (Statement st = c.createStatement()) {
            return st.executeUpdate("delete from " + table(schema) + " where type = 'BASELINE' and version = '0' and not exists "
                    + "(select 1 from " + table(schema) + " where type <> 'BASELINE')") > 0;
        }
    }

    /** Removes Flyway's baseline marker from a table just created: the history holds only migrations. */
    static void deleteBaseline(Connection c, String schema) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.executeUpdate("delete from " + table(schema) + " where type = 'BASELINE'");
        }
    }

    /**
     * Rows pgshift 0.1 wrote where Flyway would have written others get Flyway's, so both tools read the history as their
     * own (in the run's session, before Flyway reads the history): Flyway files whose names have characters other than
     * letters, digits and "_" carried pgshift's own description and script name ("add b v2", V1__add_b_v2.sql for
     * V1__add-b.v2.sql), and files with a byte order mark past their first line pgshift's own checksum. Returns how many
     * rows were changed.
     */
    static int upgradeLegacyRows(Connection c, String schema, List<MigrationScript> scripts) throws SQLException {
        String table = table(schema);
        int changed = 0;
        try (PreparedStatement names = c.prepareStatement("update " + table + " set description = ?, script = ? "
                + "where version = ? and type = 'SQL' and description = ? and script = ?");
                PreparedStatement sums = c.prepareStatement("update " + table + " set checksum = ? where version = ? and type = 'SQL' "
                        + "and checksum = ?")) {
            for (MigrationScript m : scripts) {
                String version = MigrationVersion.fromVersion(m.version()).toString();
                if (m.scheme() == MigrationScript.Scheme.FLYWAY && FlywayBridge.isLegacyNamed(m)) {
                    names.setString(1, FlywayBridge.recordedDescription(m));
                    names.setString(2, AbbreviationUtils.abbreviateScript(FlywayBridge.script(m)));
                    names.setString(3, version);
                    names.setString(4, AbbreviationUtils.abbreviateDescription(FlywayBridge.legacyDescription(m)));
                    names.setString(5, AbbreviationUtils.abbreviateScript(m.flywayName()));
                    changed += names.executeUpdate();
                }
                int legacy = FlywayBridge.legacyChecksum(m.file().content());
                if (legacy != FlywayBridge.checksum(m.file().content())) {
                    sums.setInt(1, FlywayBridge.checksum(m.file().content()));
                    sums.setString(2, version);
                    sums.setInt(3, legacy);
                    changed += sums.executeUpdate();
                }
            }
        }
        return changed;
    }

    /**
     * Writes {@code m}'s row in Flyway's history table as Flyway's own history writes it: the next installed rank, the
     * version as Flyway prints it, the description and script name abbreviated as Flyway abbreviates them, type SQL,
     * the checksum, the role that ran the migration, the execution time in ms, and whether it succeeded (installed_on
     * is the table's default, now()). Flyway reads the rows back as its own: MigrateIT compares them with Flyway's.
     */
    static void recordApplied(Connection c, String schema, MigrationScript m, int millis, boolean success, String installedBy)
            throws SQLException {
        String table = table(schema);
        try (PreparedStatement ps = c.prepareStatement("insert into " + table + " (installed_rank, version, description, type, script, "
                + "checksum, installed_by, execution_time, success) select coalesce(max(installed_rank), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ? from "
                + table)) {
            ps.setString(1, MigrationVersion.fromVersion(m.version()).toString());
            ps.setString(2, FlywayBridge.recordedDescription(m));
            ps.setString(3, CoreMigrationType.SQL.name());
            ps.setString(4, AbbreviationUtils.abbreviateScript(FlywayBridge.script(m)));
            ps.setInt(5, FlywayBridge.checksum(m.file().content()));
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
        try (PreparedStatement ps = c.prepareStatement("update " + table(schema) + " set execution_time = ? "
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
        try (PreparedStatement ps = c.prepareStatement("update " + table(schema) + " set success = true, execution_time = ?, "
                + "installed_on = now() where version = ? and not success")) {
            ps.setInt(1, millis);
            ps.setString(2, MigrationVersion.fromVersion(m.version()).toString());
            if (ps.executeUpdate() != 1) {
                throw new SQLException("the failed row written before " + m.file().displayPath() + " committed is gone from the history");
            }
        }
    }

    /** An applied row's checksum (null: recorded without one). */
    record Applied(Integer checksum) {
    }

    /** Applied {@code version}'s row; null when it is not recorded as applied. */
    static Applied applied(Connection c, String schema, String version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select checksum from " + table(schema) + " where version = ? and success")) {
            ps.setString(1, version);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Applied((Integer) rs.getObject(1)) : null;
            }
        }
    }

    /** repair --accept-checksum: applied {@code version} now records {@code checksum}; returns the rows changed. */
    static int acceptChecksum(Connection c, String schema, String version, int checksum) throws SQLException {
        return update(c, "update " + table(schema) + " set checksum = ? where version = ? and success", checksum, version);
    }

    /** repair --applied: failed {@code version} is recorded as applied, with {@code checksum}; returns the rows changed. */
    static int markApplied(Connection c, String schema, String version, int checksum) throws SQLException {
        return update(c, "update " + table(schema) + " set success = true, checksum = ? where version = ? and not success", checksum, version);
    }

    /** repair --rolled-back: failed {@code version}'s row removed; returns the rows removed. */
    static int deleteFailed(Connection c, String schema, String version) throws SQLException {
        return deleteFailed(c, schema, List.of(version));
    }

    /** rollback: applied {@code version}'s row removed, in the rollback script's transaction. */
    static void deleteApplied(Connection c, String schema, String version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("delete from " + table(schema) + " where version = ?")) {
            ps.setString(1, version);
            if (ps.executeUpdate() != 1) {
                throw new SQLException("no history row for version " + version);
            }
        }
    }

    private static int update(Connection c, String sql, int checksum, String version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setInt(1, checksum);
            ps.setString(2, version);
            return ps.executeUpdate();
        }
    }
}
