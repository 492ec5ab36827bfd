package dev.pgshift.report;

import dev.pgshift.Json;
import dev.pgshift.config.OwnTables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

/**
 * pgshift's own history of runs in the database (pgshift.run_history, report as jsonb): it outlives the pod and the
 * hook Job that Helm deletes. Written in its own transaction, so a failed migration's rollback does not take the row
 * with it. It lives in a schema of its own: a table in the application's schema would make Flyway refuse a first
 * migration ("non-empty schema without history") after a run that failed before creating Flyway's history.
 */
public final class HistoryTable {

    private String table() {
        return OwnTables.SCHEMA + "." + OwnTables.RUN_HISTORY;
    }

    public void write(Connection c, Report r) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
            st.execute("create schema if not exists " + OwnTables.SCHEMA);
            st.execute("create table if not exists " + table() + " (run_id uuid primary key, command text not null, started_at timestamptz not null, "
                    + "finished_at timestamptz not null, outcome text not null, exit_code int not null, report jsonb not null)");
            // Columns added since the first release: a table an older pgshift created gets them here, its rows keep nulls.
            st.execute("alter table " + table() + " add column if not exists pgshift_version text, add column if not exists host text, "
                    + "add column if not exists os_user text, add column if not exists reason text");
            try (PreparedStatement ps = c.prepareStatement("insert into " + table() + " (run_id, command, started_at, finished_at, outcome, "
                    + "exit_code, report, pgshift_version, host, os_user, reason) values (?::uuid, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?)")) {
                ps.setString(1, r.runId());
                ps.setString(2, r.command());
                ps.setTimestamp(3, Timestamp.from(r.startedAt()));
                ps.setTimestamp(4, Timestamp.from(r.finishedAt()));
                ps.setString(5, r.outcome());
                ps.setInt(6, r.exitCode());
                ps.setString(7, Json.MAPPER.writeValueAsString(r));
                ps.setString(8, r.pgshiftVersion());
                ps.setString(9, r.host());
                ps.setString(10, r.osUser());
                ps.setString(11, r.reason());
                ps.executeUpdate();
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /**
     * One past run, newest first in {@link #list}; read from the report, so the rows an older pgshift wrote show too.
     *
     * @param versions the versions the run applied (or rolled back, adopted, repaired), comma-separated; "" for none
     * @param backup   the backup file it made, "restore point NAME", or null
     */
    public record Entry(String runId, String command, Timestamp startedAt, Timestamp finishedAt, String outcome, int exitCode,
            String versions, String backup, String pgshiftVersion, String host, String osUser, String reason, String report) {
    }

    /**
     * The backup record (JSON) of the newest run whose backup was a restore point, or the one named {@code name}; null
     * when there is none (or no history at all).
     */
    public String restorePoint(Connection c, String name) throws SQLException {
        if (!exists(c)) {
            return null;
        }
        try (PreparedStatement ps = c.prepareStatement("select (report->'backup')::text from " + table() + " where jsonb_typeof(report->'backup'->'restorePoint') = 'object' "
                + "and (?::text is null or report->'backup'->'restorePoint'->>'name' = ?) order by started_at desc limit 1")) {
            ps.setString(1, name);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** The names of the newest {@code limit} restore points in the history, newest first. */
    public List<String> restorePointNames(Connection c, int limit) throws SQLException {
        List<String> out = new ArrayList<>();
        if (!exists(c)) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement("select report->'backup'->'restorePoint'->>'name' from " + table() + " where "
                + "jsonb_typeof(report->'backup'->'restorePoint') = 'object' order by started_at desc limit ?")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private boolean exists(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select to_regclass('" + table() + "') is not null")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    public List<Entry> list(Connection c, int limit) throws SQLException {
        List<Entry> out = new ArrayList<>();
        if (!exists(c)) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement("select run_id, command, started_at, finished_at, outcome, exit_code, "
                + "coalesce((select string_agg(m->>'version', ',') from jsonb_array_elements(report->'migrations') m), ''), "
                + "coalesce(report->'backup'->>'file', 'restore point ' || (report->'backup'->'restorePoint'->>'name')), report->>'pgshiftVersion', report->>'host', report->>'osUser', report->>'reason', "
                + "report::text from " + table() + " order by started_at desc limit ?")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Entry(rs.getString(1), rs.getString(2), rs.getTimestamp(3), rs.getTimestamp(4), rs.getString(5), rs.getInt(6),
                            rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10), rs.getString(11), rs.getString(12),
                            rs.getString(13)));
                }
            }
        }
        return out;
    }
}
