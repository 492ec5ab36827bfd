package dev.pgshift.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Watches pgshift's own sessions from a separate one while migrations run: names each session that blocks them (pid,
 * {@link ForeignSession}, from pg_blocking_pids) once, and logs the phase and percentage of index builds
 * (pg_stat_progress_create_index) that take longer than the progress interval.
 */
public final class SessionMonitor implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(SessionMonitor.class);

    private final Database dataSource;
    private final String own;
    private final Duration progressInterval;
    private final Thread thread;
    private final Set<String> reported = new HashSet<>();
    private volatile boolean running = true;

    private SessionMonitor(Database dataSource, Duration progressInterval) {
        this.dataSource = dataSource;
        this.own = dataSource.stopSignal().applicationName();
        this.progressInterval = progressInterval;
        this.thread = new Thread(this::loop, "pgshift-session-monitor");
        this.thread.setDaemon(true);
    }

    public static SessionMonitor start(Database dataSource, Duration progressInterval) {
        SessionMonitor m = new SessionMonitor(dataSource, progressInterval);
        m.thread.start();
        return m;
    }

    private void loop() {
        try (Connection c = dataSource.getConnection(); PreparedStatement blockers = c.prepareStatement(BLOCKERS);
                PreparedStatement progress = c.prepareStatement(PROGRESS)) {
            c.setAutoCommit(true);
            blockers.setString(1, own);
            blockers.setString(2, own);
            progress.setString(1, own);
            long nextProgress = System.nanoTime() + progressInterval.toNanos();
            StopSignal stop = dataSource.stopSignal();
            while (running && !stop.stopped()) { // a stopped run reports on its own: nothing more to watch
                blockers(blockers);
                if (System.nanoTime() >= nextProgress) {
                    progress(progress);
                    applying();
                    nextProgress = System.nanoTime() + progressInterval.toNanos();
                }
                stop.sleep(500); // close() interrupts it
            }
        } catch (SQLException e) {
            if (running) {
                LOG.debugf("session monitor stopped: %s", e.getMessage());
            }
        }
    }

    /**
     * This run's sessions (application_name) and who blocks them: never this run's own sessions (this one's short
     * queries hold a snapshot a concurrent build waits out for a moment; that is not what an operator needs to hear of).
     */
    private static final String BLOCKERS = "select w.pid, " + ForeignSession.COLUMNS + " "
            + "from pg_stat_activity w cross join lateral unnest(pg_blocking_pids(w.pid)) as bp(pid) "
            + "join pg_stat_activity a on a.pid = bp.pid where w.application_name = ? and w.pid <> pg_backend_pid() "
            + "and a.pid <> pg_backend_pid() and a.application_name is distinct from ?";

    private static final String PROGRESS = "select p.pid, p.index_relid::regclass, p.relid::regclass, p.phase, p.blocks_done, "
            + "p.blocks_total, p.tuples_done, p.tuples_total, p.lockers_done, p.lockers_total from pg_stat_progress_create_index p "
            + "join pg_stat_activity a on a.pid = p.pid where a.application_name = ?";

    private void blockers(PreparedStatement st) throws SQLException {
        try (ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
                String blocker = ForeignSession.describe(rs, 2);
                dataSource.stopSignal().blockedBy(blocker);
                String key = rs.getInt(1) + ">" + rs.getInt(2);
                if (reported.add(key)) {
                    LOG.warnf("pgshift session pid %d is blocked by %s", rs.getInt(1), blocker);
                }
            }
        }
    }

    private void progress(PreparedStatement st) throws SQLException {
        try (ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
                String pct = percent(rs.getLong(5), rs.getLong(6), "blocks");
                if (pct.isEmpty()) {
                    pct = percent(rs.getLong(7), rs.getLong(8), "tuples");
                }
                if (pct.isEmpty()) {
                    pct = percent(rs.getLong(9), rs.getLong(10), "old transactions waited for");
                }
                LOG.infof("index build on %s (pid %d, index %s): %s%s", rs.getString(3), rs.getInt(1), rs.getString(2), rs.getString(4),
                        pct.isEmpty() ? "" : ", " + pct);
            }
        }
    }

    /**
     * A migration that has been running longer than the progress interval: which file, which statement and line, for
     * how long (a 50 MB data file ran for minutes without a word). Not the statement's text: it may hold anything.
     */
    private void applying() {
        StopSignal.Applying a = dataSource.stopSignal().applying();
        long now = System.nanoTime();
        if (a != null && now - a.fileStarted() >= progressInterval.toNanos()) {
            LOG.infof("still applying %s: statement %d (line %d), the file for %ds, this statement for %ds", a.file(), a.statement(), a.line(),
                    (now - a.fileStarted()) / 1_000_000_000L, (now - a.statementStarted()) / 1_000_000_000L);
        }
    }

    private static String percent(long done, long total, String what) {
        return total > 0 ? String.format("%d%% of %s (%d/%d)", done * 100 / total, what, done, total) : "";
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
