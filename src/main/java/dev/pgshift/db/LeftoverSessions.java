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
import org.jboss.logging.Logger;

/**
 * Sessions an earlier pgshift run left working on this database. A run that was killed (SIGKILL, OOM, a node lost) can
 * leave a statement running on the server with its locks: the server ends it within seconds when it notices the client
 * is gone (every pgshift session asks for that check, {@link Database}), but a server that cannot check (not Linux), a
 * pg_dump of a release before this one, or a statement in a non-interruptible step can keep going. A run that holds the
 * run lock waits for them before it migrates, naming them, up to --lock-wait, then exits 75. It never ends them.
 */
public final class LeftoverSessions {
    private static final Logger LOG = Logger.getLogger(LeftoverSessions.class);

    private LeftoverSessions() {
    }

    /** Waits until no session of another pgshift run is busy on this database, up to {@code wait} (then exit 75). */
    public static void awaitGone(Connection c, StopSignal stop, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        List<String> seen = List.of();
        try {
            while (true) {
                List<String> now = busy(c, stop.applicationName());
                if (now.isEmpty()) {
                    if (!seen.isEmpty()) {
                        LOG.info("the earlier run's sessions have ended");
                    }
                    return;
                }
                if (seen.isEmpty()) {
                    LOG.warnf("waiting (up to %ds, --lock-wait) for %d session(s) of an earlier pgshift run still busy on this database, "
                            + "which may hold locks this run needs: %s", wait.toSeconds(), now.size(), String.join("; ", now));
                }
                seen = now;
                stop.checkStop("while waiting for an earlier run's sessions to end");
                if (System.nanoTime() > deadline) {
                    throw new PgshiftException(ExitCode.TEMPORARY, "sessions of an earlier pgshift run are still busy on this database "
                            + "after " + wait.toSeconds() + "s (--lock-wait): " + String.join("; ", now) + ". Nothing was changed. Run again "
                            + "once they are over, or end them (select pg_terminate_backend(pid)) if you know their run is dead.");
                }
                stop.sleep(1000);
            }
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot look for an earlier run's sessions: " + DatabaseWaiter.describe(e), e);
        }
    }

    /** pgshift sessions of other runs (and of releases without run ids) that are not idle, described for a log line. */
    static List<String> busy(Connection c, String ownApplication) throws SQLException {
        String sql = "select " + ForeignSession.COLUMNS + " from pg_stat_activity a "
                + "where a.datname = current_database() and a.pid <> pg_backend_pid() and " + Database.isPgshift("a.application_name")
                + " and a.application_name <> ? and a.state is distinct from 'idle' order by a.pid";
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, ownApplication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(ForeignSession.describe(rs, 1));
                }
            }
        }
        return out;
    }
}
