package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.StopSignal;
import dev.pgshift.source.Backfill;
import dev.pgshift.source.MigrationFile;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Runs a backfill file ({@link Backfill}) in batches along its table's key. The range is fixed when the backfill begins
 * (its largest key then; rows inserted later are the application's to write right). Each batch is one transaction:
 * the next key bound (the key {@code size} rows on), the statement restricted to the keys after the last batch's and up
 * to that bound, and the progress row ({@link BackfillProgress}); the last batch also writes what {@code finish} writes
 * (the history row), so the file is recorded applied in the transaction that completes it. Between batches: a pause,
 * the size adapted toward the target batch time, a wait while a replica lags. A lock timeout, a statement timeout, a
 * deadlock or a serialization failure rolls the batch back, halves the size and retries it; a stop or a lost
 * connection loses only the batch in flight.
 */
final class BackfillRunner {
    private static final Logger LOG = Logger.getLogger(Migrator.class); // the migrate stage speaks for it
    private static final long LOG_EVERY_NANOS = Duration.ofSeconds(10).toNanos();

    /** In the transaction of the last batch, before it commits. */
    @FunctionalInterface
    interface Finish {
        void inLastBatch(Connection c) throws SQLException;
    }

    private final MigrationFile file;
    private final Backfill backfill;
    private final StopSignal stop;
    private final String schema;
    private final String version;
    private final String direction;
    /** Whether the role was found unable to see the replicas' lag (said once). */
    private boolean lagHidden;
    /** Replicas whose replay the role sees, at the last look. */
    private long replicas;
    /** This run's committed batches not yet replayed by every replica: WAL position and System.nanoTime() of the commit. */
    private final java.util.ArrayDeque<long[]> unreplayed = new java.util.ArrayDeque<>();

    BackfillRunner(MigrationFile file, Backfill backfill, StopSignal stop, String schema, String version, String direction) {
        this.file = file;
        this.backfill = backfill;
        this.stop = stop;
        this.schema = schema;
        this.version = version;
        this.direction = direction;
    }

    /** Runs (or resumes) the backfill on {@code c}, in autocommit on entry and on return. */
    BackfillStats run(Connection c, Finish finish) throws SQLException {
        long started = System.nanoTime();
        c.setAutoCommit(true);
        BackfillTarget t = BackfillTarget.resolve(c, backfill, file.displayPath());
        BackfillProgress.ensureTable(c);
        String sha = BackfillProgress.sha256(backfill.statement().text());
        BackfillProgress.Row row = unfinished(c, t, file, backfill, schema, version, direction);
        boolean resumed = row != null;
        List<String> end;
        List<String> last;
        long rows = 0;
        long batches = 0;
        if (resumed) {
            end = row.rangeEnd();
            last = row.lastKey();
            rows = row.rows();
            batches = row.batches();
            LOG.infof("resuming backfill %s of %s after key %s: %d row(s) in %d batch(es) done by an earlier run; its range ends at key %s, "
                    + "fixed when it began (rows inserted since beyond it are the application's to write)", version, t.name(), t.describe(last),
                    rows, batches, t.describe(end));
        } else {
            end = t.largestKey(c);
            last = null;
            BackfillProgress.begin(c, schema, version, direction, file.displayPath(), sha, t, end);
        }
        long estimate = Math.max(t.estimatedRows(c), rows);
        LOG.infof("backfill %s: %s by key (%s), about %d row(s), %s", version, t.name(), String.join(", ", t.columns()), estimate,
                backfill.options());
        Backfill.Options o = backfill.options();
        int size = o.batch();
        int max = (int) Math.min(1_000_000L, o.batch() * 50L);
        long retries = 0;
        long lagWaits = 0;
        long pausedNanos = 0;
        int failedInARow = 0;
        long newRows = 0;
        long logged = System.nanoTime();
        boolean finished = end == null;
        if (finished) {
            inTransaction(c, () -> {
                BackfillProgress.batchDone(c, schema, version, direction, null, 0, 0, true);
                finish.inLastBatch(c);
            });
        }
        while (!finished) {
            stop.checkStop("before batch " + (batches + 1) + " of backfill " + version + " (" + file.displayPath() + "); " + done(rows, batches));
            long waited = waitForReplicas(c, o.maxLag());
            if (waited > 0) {
                lagWaits++;
                pausedNanos += waited;
            }
            long begun = System.nanoTime();
            stop.applying(new StopSignal.Applying(file.displayPath(), backfill.statement().line(), batches + 1, started, begun));
            List<String> upper;
            long n;
            c.setAutoCommit(false);
            try {
                try (Statement st = c.createStatement()) {
                    st.execute("set local lock_timeout = " + o.lockTimeout().toMillis() + "; set local statement_timeout = "
                            + o.statementTimeout().toMillis());
                }
                upper = t.boundAfter(c, last, end, size);
                boolean lastBatch = upper == null || upper.equals(end);
                upper = lastBatch ? end : upper;
                try (Statement st = c.createStatement()) {
                    n = st.executeUpdate(backfill.batchSql(t.range(backfill.qualifier(), last, upper)));
                }
                BackfillProgress.batchDone(c, schema, version, direction, upper, n, failedInARow, lastBatch);
                if (lastBatch) {
                    finish.inLastBatch(c);
                }
                stop.checkRunLock("before committing batch " + (batches + 1) + " of backfill " + version + "; that batch rolled back");
                c.commit();
                finished = lastBatch;
                committedAt(c, o.maxLag());
            } catch (SQLException e) {
                rollbackQuietly(c);
                String state = Failures.sqlState(e);
                boolean timeout = "57014".equals(state) && !stop.stopped();
                if (stop.stopped()) {
                    throw stop.stoppedException("during batch " + (batches + 1) + " of backfill " + version + " (" + file.displayPath()
                            + "): " + StopSignal.CANCELLED + " and that batch rolled back; " + done(rows, batches));
                }
                if (!(timeout || Failures.lockConflict(state) || "40001".equals(state))) {
                    throw failure(e, rows, batches);
                }
                failedInARow++;
                retries++;
                if (failedInARow > o.retries()) {
                    throw new PgshiftException(ExitCode.TEMPORARY, "backfill " + version + " (" + file.displayPath() + "): batch " + (batches + 1)
                            + " gave up after " + failedInARow + " attempts (retries=" + o.retries() + "): " + Failures.describe(e) + ". "
                            + done(rows, batches) + ". Run again once the table is quieter, or raise the directive's lock-timeout, "
                            + "statement-timeout or retries."); // no cause: the migrate stage's retry of a whole migration is not for this
                }
                int halved = Math.max(1, size / 2);
                long backoff = Math.min(100L << Math.min(failedInARow, 7), 10_000L);
                LOG.warnf("backfill %s: batch %d %s after %.1f s; rolled back, retrying with %d row(s) in %d ms (attempt %d of %d)", version,
                        batches + 1, timeout ? "hit statement-timeout" : "hit a lock conflict (" + state + ")", (System.nanoTime() - begun) / 1e9,
                        halved, backoff, failedInARow + 1, o.retries() + 1);
                size = halved;
                stop.sleep(backoff);
                continue;
            } catch (RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            } finally {
                stop.applying(null);
                c.setAutoCommit(true);
            }
            long took = System.nanoTime() - begun;
            failedInARow = 0;
            last = upper;
            rows += n;
            newRows += n;
            batches++;
            if (!o.target().isZero()) {
                double factor = Math.max(0.5, Math.min(2.0, (double) o.target().toNanos() / Math.max(took, 1)));
                size = (int) Math.max(1, Math.min(max, Math.round(size * factor)));
            } else {
                size = Math.min(o.batch(), size * 2); // a fixed size, halved by a lock conflict, comes back
            }
            if (System.nanoTime() - logged >= LOG_EVERY_NANOS) {
                logged = System.nanoTime();
                double rate = newRows / Math.max(1e-9, (logged - started) / 1e9);
                LOG.infof("backfill %s: %d of about %d row(s) (%d%%), %d batch(es), %.0f rows/s, last batch %d ms, next %d row(s)", version, rows,
                        Math.max(estimate, rows), 100 * rows / Math.max(1, Math.max(estimate, rows)), batches, rate, took / 1_000_000, size);
            }
            if (!finished && !o.pause().isZero()) {
                long p = System.nanoTime();
                stop.sleep(o.pause().toMillis());
                pausedNanos += System.nanoTime() - p;
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        LOG.infof("backfill %s done: %d row(s) in %d batch(es) (%d this run, in %.1f s), %d retried, %d wait(s) for replicas", version, rows,
                batches, newRows, took.toMillis() / 1000.0, retries, lagWaits);
        return new BackfillStats(t.name(), rows, batches, retries, lagWaits, Duration.ofNanos(pausedNanos), resumed);
    }

    /**
     * The progress an earlier run left of this backfill on this very table, to go on from; null when there is none to go
     * on from (none, finished, or of a table since dropped: a table of that name made again is a new one, walked whole).
     *
     * @throws PgshiftException exit 3 when the statement changed since that progress was made
     */
    static BackfillProgress.Row unfinished(Connection c, BackfillTarget t, MigrationFile file, Backfill backfill, String schema,
            String version, String direction) throws SQLException {
        BackfillProgress.Row row = BackfillProgress.read(c, schema, version, direction);
        if (row == null || row.finished()) {
            return null;
        }
        if (row.tableOid() != t.oid()) {
            LOG.warnf("backfill %s: the progress an earlier run left (%d row(s)) was of a table %s since dropped; %s now is another "
                    + "table, walked from its start", version, row.rows(), row.tableName(), t.name());
            return null;
        }
        if (!row.statementSha256().equals(BackfillProgress.sha256(backfill.statement().text()))) {
            throw new PgshiftException(ExitCode.CONFIG, file.displayPath() + ":" + backfill.statement().line() + ": the statement changed since an "
                    + "earlier run backfilled " + row.rows() + " row(s) of " + t.name() + " with it (" + row.batches() + " batch(es), up to key "
                    + t.describe(row.lastKey()) + "). Restore the statement to go on where it stopped; or, to run the new one over the whole "
                    + "table, first " + Repair.command("--rolled-back", version) + ", which forgets the progress. (Until the backfill is "
                    + "applied, the directive's options may change between runs.)");
        }
        return row;
    }

    private interface Work {
        void run() throws SQLException;
    }

    private static void inTransaction(Connection c, Work w) throws SQLException {
        c.setAutoCommit(false);
        try {
            w.run();
            c.commit();
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /**
     * Waits while a replica lags more than {@code maxLag} (0: never waits): while pg_stat_replication's replay_lag says so,
     * or while a batch this run committed longer ago than that is not replayed on every replica yet (replay_lag is
     * measured only once a replica reports, so it says nothing yet of the batch just committed). Returns how long it
     * waited, in nanoseconds.
     */
    private long waitForReplicas(Connection c, Duration maxLag) throws SQLException {
        if (maxLag.isZero()) {
            return 0;
        }
        long begun = System.nanoTime();
        long said = 0;
        while (true) {
            double reported;
            long replayed;
            try (PreparedStatement ps = c.prepareStatement("select coalesce(extract(epoch from max(replay_lag)), 0)::float8, "
                    + "count(*) filter (where state is null), min(replay_lsn)::text, count(*) from pg_stat_replication");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                reported = rs.getDouble(1);
                if (rs.getLong(2) > 0 && !lagHidden) {
                    lagHidden = true; // the role sees that replicas stream, not how far behind they are
                    LOG.warnf("backfill %s cannot see how far its %d replica(s) lag: pg_stat_replication shows their progress only to "
                            + "roles with pg_monitor or pg_read_all_stats (GRANT pg_monitor TO the role pgshift connects as). It does not wait "
                            + "for them (max-lag=%d ms)", version, rs.getLong(2), maxLag.toMillis());
                }
                replicas = rs.getLong(4) - rs.getLong(2);
                replayed = rs.getString(3) == null ? Long.MAX_VALUE : lsn(rs.getString(3));
            }
            while (!unreplayed.isEmpty() && unreplayed.peekFirst()[0] <= replayed) {
                unreplayed.pollFirst();
            }
            double own = unreplayed.isEmpty() ? 0 : (System.nanoTime() - unreplayed.peekFirst()[1]) / 1e9;
            double lag = Math.max(reported, own);
            if (lag * 1000 <= maxLag.toMillis()) {
                return said == 0 ? 0 : System.nanoTime() - begun;
            }
            if (System.nanoTime() - said >= LOG_EVERY_NANOS) {
                said = System.nanoTime();
                LOG.infof("backfill %s waits: a replica replays %.1f s behind (max-lag=%d ms)", version, lag, maxLag.toMillis());
            }
            stop.sleep(200);
            stop.checkStop("while backfill " + version + " waited for a lagging replica");
        }
    }

    /** After a batch's commit, where there are replicas to wait for: its WAL position and when, to see it replayed. */
    private void committedAt(Connection c, Duration maxLag) throws SQLException {
        if (maxLag.isZero() || replicas == 0) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("select pg_current_wal_lsn()::text"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            unreplayed.addLast(new long[] {lsn(rs.getString(1)), System.nanoTime()});
        }
    }

    /** A WAL position ({@code 16/B374D848}) as a number. */
    static long lsn(String text) {
        int slash = text.indexOf('/');
        return Long.parseLong(text.substring(0, slash), 16) << 32 | Long.parseLong(text.substring(slash + 1), 16);
    }

    private PgshiftException failure(SQLException e, long rows, long batches) {
        return Failures.ofStatement(file, backfill.statement(), e, stop, "that batch (" + (batches + 1) + ") was rolled back; "
                + done(rows, batches) + ". If the statement cannot succeed as written, fix the data "
                + "or, to change the statement, " + Repair.command("--rolled-back", version) + " first (it forgets the progress)");
    }

    private static String done(long rows, long batches) {
        return batches == 0 ? "no batch of it committed yet"
                : rows + " row(s) in the " + batches + " batch(es) committed before stay done, and the next run goes on after them";
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the session is gone: the server rolled the batch back
        }
    }
}
