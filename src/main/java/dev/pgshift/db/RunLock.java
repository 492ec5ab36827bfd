package dev.pgshift.db;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import org.jboss.logging.Logger;

/**
 * One pgshift run per database at a time: a session-level advisory lock on a dedicated connection that stays idle
 * outside any transaction. It is taken by polling pg_try_advisory_lock, never by a blocking pg_advisory_lock: a session
 * blocked inside pg_advisory_lock holds a snapshot, and CREATE INDEX CONCURRENTLY in the run that holds the lock would
 * wait for it (golang-migrate/migrate#960). A session-level lock also dies with its session, so a killed pod leaves no
 * lock row behind (liquibase/liquibase#6538).
 */
public final class RunLock implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RunLock.class);

    /** The advisory lock key: "pgshift" in ASCII, so a DBA can recognise it in pg_locks (objid/classid). */
    public static final long KEY = 0x0070677368696674L;

    private final Connection connection;

    private RunLock(Connection connection) {
        this.connection = connection;
    }

    /**
     * Polls until the lock is ours or {@code wait} has passed (then exit 75). {@code connection} becomes the lock's
     * and is closed with it.
     */
    public static RunLock acquire(Connection connection, Duration wait, StopSignal stop) {
        long deadline = System.nanoTime() + wait.toNanos();
        long pollMs = 200;
        boolean logged = false;
        try {
            connection.setAutoCommit(true);
            while (true) {
                if (tryLock(connection)) {
                    if (logged) {
                        LOG.info("run lock acquired");
                    }
                    return new RunLock(connection);
                }
                String holder = holder(connection);
                if (System.nanoTime() > deadline || stop.stopped()) {
                    closeQuietly(connection);
                    throw new PgshiftException(ExitCode.TEMPORARY, "another pgshift run holds the run lock (" + holder
                            + ") and did not release it within " + wait.toSeconds() + "s (--lock-wait)");
                }
                if (!logged) {
                    LOG.infof("waiting for the run lock held by another run (%s); polling, up to %ds", holder, wait.toSeconds());
                    logged = true;
                }
                DatabaseWaiter.sleepQuietly(pollMs);
                pollMs = Math.min(pollMs * 2, 2_000);
            }
        } catch (SQLException e) {
            closeQuietly(connection);
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot take the run lock: " + DatabaseWaiter.describe(e), e);
        }
    }

    private static boolean tryLock(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select pg_try_advisory_lock(?)")) {
            ps.setLong(1, KEY);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** Who holds the lock: pid, application and since when; for the log line a waiting operator reads. */
    static String holder(Connection c) throws SQLException {
        String sql = "select a.pid, a.application_name, a.backend_start from pg_locks l join pg_stat_activity a on a.pid = l.pid "
                + "where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database()) "
                + "and ((l.classid::bigint << 32) | l.objid::bigint) = ? limit 1";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, KEY);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return "pid " + rs.getInt(1) + ", application_name '" + rs.getString(2) + "', connected since " + rs.getTimestamp(3);
                }
            }
        }
        return "holder not visible to this user";
    }

    @Override
    public void close() {
        try (PreparedStatement ps = connection.prepareStatement("select pg_advisory_unlock(?)")) {
            ps.setLong(1, KEY);
            ps.execute();
        } catch (SQLException e) {
            // Closing the session below releases a session-level lock anyway.
            LOG.debugf("unlock failed, closing the session releases it: %s", e.getMessage());
        }
        closeQuietly(connection);
    }

    static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            // nothing left to do
        }
    }
}
