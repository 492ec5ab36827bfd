package dev.pgshift.fleet;

import dev.pgshift.config.OwnTables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A fleet's tables in the control database (schema pgshift): the release, frozen once with its settings, and one row
 * per tenant with its wave, shard and how its runs went. Every pod of the release reads and writes them; none holds a
 * password.
 */
final class ControlTable {
    static final String RELEASES = OwnTables.SCHEMA + "." + OwnTables.FLEET_RELEASE;
    static final String TENANTS = OwnTables.SCHEMA + "." + OwnTables.FLEET_TENANT;

    /** Tenant statuses: retry is a temporary failure (75) the shard's next attempt runs again; succeeded and failed are final. */
    static final String PENDING = "pending";
    static final String RUNNING = "running";
    static final String SUCCEEDED = "succeeded";
    static final String FAILED = "failed";
    static final String RETRY = "retry";

    /** A frozen release. */
    record Release(String id, int shards, String waves, int haltAfter, String target, String digest, int tenants, Instant createdAt,
            Instant haltedAt, String haltReason) {
    }

    /** One tenant's row. */
    record Tenant(String name, int position, int wave, int shard, String url, String status, String versionBefore, String versionAfter,
            String errorClass, String error, Integer exitCode, int attempt, String pod, Instant startedAt, Instant finishedAt) {
        boolean done() {
            return status.equals(SUCCEEDED) || status.equals(FAILED);
        }
    }

    private ControlTable() {
    }

    static boolean exists(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select to_regclass('" + TENANTS + "') is not null")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** Creates the tables if missing; call inside the freezing transaction (its advisory lock serialises concurrent pods). */
    static void create(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("create schema if not exists " + OwnTables.SCHEMA);
            st.execute("create table if not exists " + RELEASES + " (release text primary key, created_at timestamptz not null default now(), "
                    + "shards int not null, waves text not null, halt_after int not null, target_version text not null, migrations_sha256 text not null, "
                    + "tenants int not null, halted_at timestamptz, halt_reason text)");
            st.execute("create table if not exists " + TENANTS + " (release text not null references " + RELEASES + " on delete cascade, "
                    + "tenant text not null, position int not null, wave int not null, shard int not null, url text not null, "
                    + "status text not null default 'pending', version_before text, version_after text, error_class text, error text, "
                    + "exit_code int, attempt int not null default 0, pod text, run_id uuid, started_at timestamptz, finished_at timestamptz, "
                    + "primary key (release, tenant))");
        }
    }

    /** The release, or null when it is not frozen (or no release ever was). */
    static Release release(Connection c, String id) throws SQLException {
        if (!exists(c)) {
            return null;
        }
        try (PreparedStatement ps = c.prepareStatement("select release, shards, waves, halt_after, target_version, migrations_sha256, tenants, "
                + "created_at, halted_at, halt_reason from " + RELEASES + " where release = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                return new Release(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getInt(4), rs.getString(5), rs.getString(6), rs.getInt(7),
                        instant(rs.getTimestamp(8)), instant(rs.getTimestamp(9)), rs.getString(10));
            }
        }
    }

    static void insert(Connection c, Release r, List<Tenant> tenants) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("insert into " + RELEASES + " (release, shards, waves, halt_after, target_version, "
                + "migrations_sha256, tenants) values (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, r.id());
            ps.setInt(2, r.shards());
            ps.setString(3, r.waves());
            ps.setInt(4, r.haltAfter());
            ps.setString(5, r.target());
            ps.setString(6, r.digest());
            ps.setInt(7, r.tenants());
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("insert into " + TENANTS + " (release, tenant, position, wave, shard, url) "
                + "values (?, ?, ?, ?, ?, ?)")) {
            for (Tenant t : tenants) {
                ps.setString(1, r.id());
                ps.setString(2, t.name());
                ps.setInt(3, t.position());
                ps.setInt(4, t.wave());
                ps.setInt(5, t.shard());
                ps.setString(6, t.url());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** The release's tenants in order; {@code shard} null for all of them. */
    static List<Tenant> tenants(Connection c, String release, Integer shard) throws SQLException {
        List<Tenant> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select tenant, position, wave, shard, url, status, version_before, version_after, "
                + "error_class, error, exit_code, attempt, pod, started_at, finished_at from " + TENANTS + " where release = ? "
                + "and (?::int is null or shard = ?) order by position")) {
            ps.setString(1, release);
            ps.setObject(2, shard, java.sql.Types.INTEGER);
            ps.setObject(3, shard, java.sql.Types.INTEGER);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Tenant(rs.getString(1), rs.getInt(2), rs.getInt(3), rs.getInt(4), rs.getString(5), rs.getString(6),
                            rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10), (Integer) rs.getObject(11), rs.getInt(12),
                            rs.getString(13), instant(rs.getTimestamp(14)), instant(rs.getTimestamp(15))));
                }
            }
        }
        return out;
    }

    /** Marks a tenant running for this pod; returns its attempt number. */
    static int claim(Connection c, String release, String tenant, String pod, String runId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("update " + TENANTS + " set status = 'running', attempt = attempt + 1, pod = ?, "
                + "run_id = ?::uuid, started_at = now(), finished_at = null where release = ? and tenant = ? returning attempt")) {
            ps.setString(1, pod);
            ps.setString(2, runId);
            ps.setString(3, release);
            ps.setString(4, tenant);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Records how a tenant's run ended. */
    static void finish(Connection c, String release, String tenant, String status, String before, String after, String errorClass,
            String error, int exitCode) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("update " + TENANTS + " set status = ?, version_before = ?, version_after = ?, "
                + "error_class = ?, error = ?, exit_code = ?, finished_at = now() where release = ? and tenant = ?")) {
            ps.setString(1, status);
            ps.setString(2, before);
            ps.setString(3, after);
            ps.setString(4, errorClass);
            ps.setString(5, error);
            ps.setInt(6, exitCode);
            ps.setString(7, release);
            ps.setString(8, tenant);
            ps.executeUpdate();
        }
    }

    /** Halts the release (the first reason stays); returns the reason that holds. */
    static String halt(Connection c, String release, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("update " + RELEASES + " set halted_at = coalesce(halted_at, now()), "
                + "halt_reason = coalesce(halt_reason, ?) where release = ? returning halt_reason")) {
            ps.setString(1, reason);
            ps.setString(2, release);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** Tenants of the release that failed with {@code errorClass}, in order. */
    static List<String> failedWith(Connection c, String release, String errorClass) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select tenant from " + TENANTS + " where release = ? and status = 'failed' "
                + "and error_class = ? order by position")) {
            ps.setString(1, release);
            ps.setString(2, errorClass);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /** Of {@code shards}, those whose lock (fleet run's, for its pod's life) no session holds: their pod is gone. */
    static List<Integer> shardsWithoutPod(Connection c, String release, List<Integer> shards) throws SQLException {
        List<Integer> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select not exists (select 1 from pg_locks where locktype = 'advisory' and objsubid = 2 "
                + "and database = (select oid from pg_database where datname = current_database()) and classid = hashtext('pgshift.fleet/' || ?)::oid "
                + "and objid = ?::oid and granted)")) {
            for (int shard : shards) {
                ps.setString(1, release);
                ps.setInt(2, shard);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        out.add(shard);
                    }
                }
            }
        }
        return out;
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
