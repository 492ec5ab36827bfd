package dev.pgshift.migrate;

import dev.pgshift.config.OwnTables;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;

/**
 * Where a backfill got to: one row per backfill file (migration or rollback script) in {@code pgshift.backfill_progress},
 * written in the transaction of each batch, so a batch and the record of it commit together or not at all. A rerun
 * reads the row and goes on after its last key, over the range fixed when the backfill began; a file whose statement
 * changed since is refused rather than resumed. Rows of finished backfills stay (the history of how each went).
 */
final class BackfillProgress {
    static final String TABLE = OwnTables.SCHEMA + "." + OwnTables.BACKFILL_PROGRESS;

    /**
     * @param lastKey  the key of the last row done (each column as text), or null before the first batch
     * @param rangeEnd the largest key when the backfill began, or null for an empty table
     */
    record Row(String statementSha256, long tableOid, String tableName, List<String> lastKey, List<String> rangeEnd, long rows, long batches,
            long retries, boolean finished) {
    }

    private BackfillProgress() {
    }

    static void ensureTable(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("create schema if not exists " + OwnTables.SCHEMA);
            st.execute("create table if not exists " + TABLE + " (history_schema text not null, version text not null, "
                    + "direction text not null, script text not null, statement_sha256 text not null, table_oid bigint not null, table_name text not null, "
                    + "key_columns text[] not null, range_end text[], last_key text[], rows bigint not null default 0, "
                    + "batches bigint not null default 0, retries bigint not null default 0, started_at timestamptz not null default now(), "
                    + "updated_at timestamptz not null default now(), finished_at timestamptz, "
                    + "primary key (history_schema, version, direction))");
        }
    }

    /** The row of {@code version}'s backfill in {@code direction} ("migrate" or "rollback"), or null. */
    static Row read(Connection c, String schema, String version, String direction) throws SQLException {
        if (!exists(c)) {
            return null;
        }
        try (PreparedStatement ps = c.prepareStatement("select statement_sha256, table_oid, table_name, last_key, range_end, rows, batches, retries, "
                + "finished_at is not null from " + TABLE + " where history_schema = ? and version = ? and direction = ?")) {
            ps.setString(1, schema);
            ps.setString(2, version);
            ps.setString(3, direction);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                return new Row(rs.getString(1), rs.getLong(2), rs.getString(3), list(rs.getArray(4)), list(rs.getArray(5)), rs.getLong(6),
                        rs.getLong(7), rs.getLong(8), rs.getBoolean(9));
            }
        }
    }

    static boolean exists(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select to_regclass(?) is not null")) {
            ps.setString(1, TABLE);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** The row of a backfill that begins: its range fixed, nothing done. Replaces a finished row of an earlier application. */
    static void begin(Connection c, String schema, String version, String direction, String script, String sha, BackfillTarget table,
            List<String> rangeEnd) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("insert into " + TABLE + " (history_schema, version, direction, script, "
                + "statement_sha256, table_oid, table_name, key_columns, range_end) values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (history_schema, "
                + "version, direction) do update set script = excluded.script, statement_sha256 = excluded.statement_sha256, "
                + "table_oid = excluded.table_oid, table_name = excluded.table_name, key_columns = excluded.key_columns, "
                + "range_end = excluded.range_end, last_key = null, rows = 0, batches = 0, retries = 0, started_at = now(), "
                + "updated_at = now(), finished_at = null")) {
            ps.setString(1, schema);
            ps.setString(2, version);
            ps.setString(3, direction);
            ps.setString(4, script);
            ps.setString(5, sha);
            ps.setLong(6, table.oid());
            ps.setString(7, table.name());
            ps.setArray(8, c.createArrayOf("text", table.columns().toArray()));
            ps.setArray(9, rangeEnd == null ? null : c.createArrayOf("text", rangeEnd.toArray()));
            ps.executeUpdate();
        }
    }

    /** In a batch's transaction: the batch is done up to {@code lastKey}; {@code finished} when it was the last. */
    static void batchDone(Connection c, String schema, String version, String direction, List<String> lastKey, long rows, long retries,
            boolean finished) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("update " + TABLE + " set last_key = ?, rows = rows + ?, batches = batches + 1, "
                + "retries = retries + ?, updated_at = now(), finished_at = case when ? then now() end "
                + "where history_schema = ? and version = ? and direction = ?")) {
            ps.setArray(1, lastKey == null ? null : c.createArrayOf("text", lastKey.toArray()));
            ps.setLong(2, rows);
            ps.setLong(3, retries);
            ps.setBoolean(4, finished);
            ps.setString(5, schema);
            ps.setString(6, version);
            ps.setString(7, direction);
            if (ps.executeUpdate() != 1) {
                throw new SQLException("the progress row of backfill " + version + " is gone from " + TABLE + " (deleted by hand?)", "P0002");
            }
        }
    }

    /** Forgets an unfinished backfill of {@code version} (repair --rolled-back, a rollback): it starts over when it runs again. */
    static int forget(Connection c, String schema, String version, boolean unfinishedOnly) throws SQLException {
        if (!exists(c)) {
            return 0;
        }
        try (PreparedStatement ps = c.prepareStatement("delete from " + TABLE + " where history_schema = ? and version = ?"
                + (unfinishedOnly ? " and direction = 'migrate' and finished_at is null" : ""))) {
            ps.setString(1, schema);
            ps.setString(2, version);
            return ps.executeUpdate();
        }
    }

    /**
     * What identifies a backfill's statement: the SHA-256 of its text with line endings made \n (a file checked out with
     * CRLF is the same statement); the directive's options are not part of it.
     */
    static String sha256(String statement) {
        String text = statement.replace("\r\n", "\n").replace('\r', '\n');
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> list(Array a) throws SQLException {
        return a == null ? null : List.of((String[]) a.getArray());
    }
}
