package dev.pgshift.db;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * One pgshift run per database at a time: a session-level advisory lock on a dedicated connection that stays idle
 * outside any transaction. It is taken by polling pg_try_advisory_lock, never by a blocking pg_advisory_lock: a session
 * blocked inside pg_advisory_lock holds a snapshot, and CREATE INDEX CONCURRENTLY in the run that holds the lock would
 * wait for it (golang-migrate/migrate#960). A session-level lock also dies with its session, so a killed pod leaves no
 * lock row behind (liquibase/liquibase#6538). The lock's session is its own, idle between checks, never ended for
 * idleness by the server ({@link Database}); the run checks before each migration and each commit that the lock is still
 * its own ({@link #check}) and stops with exit 75 when it is not.
 */
public final class RunLock implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RunLock.class);

    /** The advisory lock key: "pgshift" in ASCII, so a DBA can recognise it in pg_locks (objid/classid). */
    public static final long KEY = 0x0070677368696674L;

    private final Connection connection;
    private final StopSignal stop;

    private RunLock(Connection connection, StopSignal stop) {
        this.connection = connection;
        this.stop = stop;
    }

    /**
     * Stops the run with exit 75 unless this session still holds the lock: the session may have been ended (by a
     * DBA, a failover, a proxy) while the run went on, and another run may have taken the lock since.
     */
    public synchronized void check(String before) {
        String why;
        try (PreparedStatement ps = connection.prepareStatement("select count(*) from pg_locks where pid = pg_backend_pid() "
                + "and locktype = 'advisory' and granted and ((classid::bigint << 32) | objid::bigint) = ?")) {
            ps.setLong(1, KEY);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getInt(1) > 0) {
                    return;
                }
                why = "its session no longer holds it";
            }
        } catch (SQLException e) {
            why = "its session was lost: " + DatabaseWaiter.describe(e);
        }
        if (stop.stopped()) {
            throw stop.stoppedException(before);
        }
        throw new PgshiftException(ExitCode.TEMPORARY, "lost the run lock (" + why + "), so another run may be migrating this "
                + "database now: stopped " + before + ". What this run applied so far stays applied; run again.");
    }

    /**
     * Polls until the lock is ours or {@code wait} has passed (then exit 75), on a session of its own that is closed
     * with it. The run's {@link StopSignal} checks it from then on.
     */
    public static RunLock acquire(Database db, Duration wait, StopSignal stop) {
        Connection connection;
        try {
            connection = db.getConnection();
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot open the run lock's session: " + DatabaseWaiter.describe(e), e);
        }
        try {
            connection.setAutoCommit(true);
            boolean[] waited = {false};
            if (!take(connection, KEY, wait, stop, "while waiting for the run lock", holder -> {
                LOG.infof("waiting for the run lock, held by %s; polling, up to %ds (--lock-wait)", holder, wait.toSeconds());
                waited[0] = true;
            })) {
                throw new PgshiftException(ExitCode.TEMPORARY, "another session holds the run lock, " + holder(connection, KEY)
                        + ", and did not release it within " + wait.toSeconds() + "s (--lock-wait)");
            }
            if (waited[0]) {
                LOG.info("run lock acquired");
            }
            RunLock lock = new RunLock(connection, stop);
            stop.holding(lock);
            return lock;
        } catch (SQLException e) {
            Database.closeQuietly(connection);
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot take the run lock: " + DatabaseWaiter.describe(e), e);
        } catch (RuntimeException e) {
            Database.closeQuietly(connection);
            throw e;
        }
    }

    /**
     * The one way pgshift takes a session-level advisory lock (the run lock, Flyway's lock on the history): polling
     * pg_try_advisory_lock({@code key}) on {@code c}, never a blocking pg_advisory_lock (see above), after 200 ms and then
     * less often, up to once a second, until it is granted (true) or {@code wait} has passed (false). {@code waiting} is
     * told the holder at the first miss; a stop ends the wait (exit 75, {@code during} and the holder named).
     */
    public static boolean take(Connection c, long key, Duration wait, StopSignal stop, String during, Consumer<String> waiting)
            throws SQLException {
        long deadline = System.nanoTime() + wait.toNanos();
        long pollMs = 200;
        boolean told = false;
        try (PreparedStatement ps = c.prepareStatement("select pg_try_advisory_lock(?)")) {
            ps.setLong(1, key);
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return true;
                    }
                }
                if (stop.stopped()) {
                    throw stop.stoppedException(during + ", held by " + holder(c, key));
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                if (!told) {
                    waiting.accept(holder(c, key));
                    told = true;
                }
                stop.sleep(Math.min(pollMs, Math.max(1, left / 1_000_000)));
                pollMs = Math.min(pollMs * 2, 1_000);
            }
        }
    }

    /** The sessions other than {@code c}'s that hold the advisory lock {@code key}, as {@link ForeignSession} names them. */
    private static List<String> holders(Connection c, long key) throws SQLException {
        String sql = "select " + ForeignSession.COLUMNS + " from pg_locks l join pg_stat_activity a on a.pid = l.pid "
                + "where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database()) "
                + "and ((l.classid::bigint << 32) | l.objid::bigint) = ? and a.pid <> pg_backend_pid()";
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(ForeignSession.describe(rs, 1));
                }
            }
        }
        return out;
    }

    /** Who holds the advisory lock {@code key} other than {@code c}'s session, for a message. */
    static String holder(Connection c, long key) throws SQLException {
        List<String> h = holders(c, key);
        return h.isEmpty() ? "holder not visible to this user" : String.join("; ", h);
    }

    /** {@link #holder(Connection, long)} on a session of its own (the run may have lost or be using its own). */
    public static String holder(Database db, long key) {
        try (Connection c = db.cleanupConnection()) {
            return holder(c, key);
        } catch (SQLException e) {
            return "holder not visible: " + DatabaseWaiter.describe(e);
        }
    }

    /** Whether a session other than this process's holds the advisory lock {@code key} now; false when that cannot be seen. */
    public static boolean heldElsewhere(Database db, long key) {
        try (Connection c = db.cleanupConnection()) {
            return !holders(c, key).isEmpty();
        } catch (SQLException e) {
            return false;
        }
    }

    @Override
    public synchronized void close() {
        stop.holding(null);
        try (PreparedStatement ps = connection.prepareStatement("select pg_advisory_unlock(?)")) {
            ps.setLong(1, KEY);
            ps.execute();
        } catch (SQLException e) {
            // Closing the session below releases a session-level lock anyway.
            LOG.debugf("unlock failed, closing the session releases it: %s", e.getMessage());
        }
        Database.closeQuietly(connection);
    }

}
