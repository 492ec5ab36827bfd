package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.Database;
import dev.pgshift.db.RunLock;
import dev.pgshift.db.StopSignal;
import dev.pgshift.source.MigrationScript;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * pgshift's apply loop: the pending migrations Flyway's view of the history lists, in its order, on one session, each
 * one's history row written as Flyway writes it ({@link HistoryRows#recordApplied}). Flyway's own loop spends about a
 * dozen round trips per migration on bookkeeping this run does not need (its history table re-read and row-locked, its
 * advisory lock taken and released, the role and schema set and restored several times); this one spends four beyond
 * the migration's statements: the session reset, the run lock check, the history row and the commit.
 * <p>
 * What it keeps from Flyway's: Flyway's advisory lock on the history table, held for the whole loop, so a Flyway (or an
 * older pgshift) migrating the same schema waits for it and it for them; a transactional migration's history row in its
 * own transaction; a file with its own transactions that committed part of itself recorded as failed, with how far it
 * got, in the transaction of each commit (the next run resumes there); a concurrent step that failed left unrecorded
 * (it resumes); a backfill recorded applied in the transaction of its last batch ({@link BackfillRunner}).
 */
final class ApplyLoop {
    private static final Logger LOG = Logger.getLogger(Migrator.class); // the migrate stage speaks for it
    /** Flyway's PostgreSQL advisory lock: this number plus the hash of the history table's quoted name. */
    private static final long FLYWAY_LOCK_BASE = 77431708279161L;

    private final Database db;
    private final String schema;
    private final StopSignal stop;
    private final Duration lockWait;
    private final Consumer<String> started;
    /** For a file with its own transactions an earlier run left part-way: how many of its statements it committed; else null. */
    private final java.util.function.Function<String, Long> resume;
    /** Told how each backfill this loop completed went. */
    private final java.util.function.BiConsumer<String, BackfillStats> backfilled;

    /**
     * @param lockWait how long Flyway's lock on the history may be held by another session (polled once a second, as
     *                 Flyway does), and how long a step waits for an index build of a dead run
     * @param started  told each version whose execution begins, in order
     */
    ApplyLoop(Database db, String schema, StopSignal stop, Duration lockWait, Consumer<String> started,
            java.util.function.Function<String, Long> resume, java.util.function.BiConsumer<String, BackfillStats> backfilled) {
        this.resume = resume;
        this.backfilled = backfilled;
        this.db = db;
        this.schema = schema;
        this.stop = stop;
        this.lockWait = lockWait;
        this.started = started;
    }

    /** Another session kept Flyway's lock on the history for the whole --lock-wait: exit 75, naming it. */
    static PgshiftException historyLockHeld(Database db, String schema, long seconds) {
        return new PgshiftException(ExitCode.TEMPORARY, "another session holds the migration history's lock, "
                + RunLock.holder(db, flywayLockKey(schema)) + ", and kept it for " + seconds + "s (--lock-wait): "
                + "another migration tool (or an earlier run's session) is migrating this schema. Nothing more was applied; run "
                + "again once it is done.");
    }

    /** The advisory lock Flyway takes on {@code schema}'s history table (its key for that table). */
    static long flywayLockKey(String schema) {
        return FLYWAY_LOCK_BASE + HistoryRows.table(schema).hashCode();
    }

    /**
     * Takes the history's lock, then applies what {@code pending} gives (asked once the lock is held) in order; the first
     * failure stops the loop, what committed before it stays applied.
     */
    void apply(Supplier<List<MigrationScript>> pending) {
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(true);
            String installedBy = lockHistory(c);
            try {
                for (MigrationScript m : pending.get()) {
                    applyOne(c, m, installedBy);
                }
            } finally {
                unlockHistory(c);
            }
        } catch (SQLException e) {
            throw Failures.of("while applying migrations", e, stop);
        }
    }

    /** Takes Flyway's lock on the history, waiting up to {@link #lockWait}; returns the role the rows are recorded under. */
    private String lockHistory(Connection c) throws SQLException {
        if (!RunLock.take(c, flywayLockKey(schema), lockWait, stop, "while waiting for the migration history's lock; nothing was applied",
                holder -> LOG.infof("waiting for the migration history's lock, held by %s (another migration tool?); up to %ds (--lock-wait)",
                        holder, lockWait.toSeconds()))) {
            throw historyLockHeld(db, schema, lockWait.toSeconds());
        }
        try (PreparedStatement ps = c.prepareStatement("select current_user"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getString(1);
        }
    }

    private void unlockHistory(Connection c) {
        try (PreparedStatement ps = c.prepareStatement("select pg_advisory_unlock(?)")) {
            ps.setLong(1, flywayLockKey(schema));
            ps.execute();
        } catch (SQLException ignored) {
            // the session is gone, and its lock with it
        }
    }

    private void applyOne(Connection c, MigrationScript m, String installedBy) throws SQLException {
        String where = m.version() + " (" + m.file().displayPath() + ")";
        stop.checkStop("before " + where);
        started.accept(m.version());
        LOG.infof("applying %s: %s (%s)", m.version(), m.file().displayPath(), m.mode().label());
        StatementRunner runner = new StatementRunner(m.file(), stop);
        long start = System.nanoTime();
        switch (m.mode()) {
            case TRANSACTION -> {
                // The run lock is checked before the commit: a run that lost it commits nothing more.
                c.setAutoCommit(false);
                try {
                    StatementRunner.sessionAsPsqlGivesIt(c);
                    runner.runAll(c, m.statements(), m.mode());
                    StatementRunner.resetIdentity(c);
                    PrismaAdoption.recordApplied(c, schema, m);
                    HistoryRows.recordApplied(c, schema, m, millisSince(start), true, installedBy);
                    stop.checkRunLock("before committing " + where + "; rolled back");
                    c.commit();
                } catch (RuntimeException | SQLException e) {
                    rollbackQuietly(c);
                    throw e;
                }
                c.setAutoCommit(true);
            }
            case OWN -> {
                stop.checkRunLock("before " + where);
                StatementRunner.sessionAsPsqlGivesIt(c);
                Long resumeAt = resume.apply(m.version());
                if (resumeAt != null) {
                    LOG.infof("resuming %s after its first %d statement(s), which an earlier run committed", where, resumeAt);
                }
                boolean[] recorded = {resumeAt != null};
                try {
                    runner.runOwnTransactions(c, m.statements(), resumeAt == null ? 0 : resumeAt, (session, done) -> {
                        // In the transaction about to commit: its work and the record of it commit together.
                        stop.checkRunLock("before committing part of " + where + "; that part rolled back");
                        HistoryRows.recordProgress(session, schema, m, done, installedBy, recorded[0]);
                        recorded[0] = true;
                    });
                } catch (StatementRunner.PartlyCommitted e) {
                    throw new StatementRunner.PartlyCommitted(e.exitCode(), e.getMessage().replace(" VERSION ", " " + m.version() + " "),
                            e.getCause());
                }
                StatementRunner.resetIdentity(c);
                c.setAutoCommit(false);
                try {
                    PrismaAdoption.recordApplied(c, schema, m);
                    if (recorded[0]) {
                        HistoryRows.recordSucceeded(c, schema, m, millisSince(start));
                    } else {
                        HistoryRows.recordApplied(c, schema, m, millisSince(start), true, installedBy);
                    }
                    c.commit();
                } catch (RuntimeException | SQLException e) {
                    rollbackQuietly(c);
                    throw e;
                }
                c.setAutoCommit(true);
            }
            case BACKFILL -> {
                stop.checkRunLock("before " + where);
                StatementRunner.sessionAsPsqlGivesIt(c);
                backfilled.accept(m.version(), new BackfillRunner(m.file(), m.backfill(), stop, schema, m.version(), "migrate").run(c, session -> {
                    // in the last batch's transaction: the file is recorded applied as its last rows commit
                    PrismaAdoption.recordApplied(session, schema, m);
                    HistoryRows.recordApplied(session, schema, m, millisSince(start), true, installedBy);
                }));
            }
            case OUTSIDE -> {
                stop.checkRunLock("before " + where);
                new ConcurrentStep(m.file(), m.statements(), stop, lockWait).run(c);
                StatementRunner.resetIdentity(c);
                PrismaAdoption.recordApplied(c, schema, m);
                HistoryRows.recordApplied(c, schema, m, millisSince(start), true, installedBy);
            }
        }
    }

    private static int millisSince(long start) {
        return (int) ((System.nanoTime() - start) / 1_000_000);
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
            c.setAutoCommit(true);
        } catch (SQLException ignored) {
            // the session is gone: the server rolled the transaction back
        }
    }
}
