package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.StopSignal;
import dev.pgshift.source.ExecutionMode;
import dev.pgshift.source.MigrationFile;
import dev.pgshift.source.QualifiedName;
import dev.pgshift.source.SqlStatement;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.jboss.logging.Logger;

/**
 * Runs a non-transactional migration (CREATE INDEX CONCURRENTLY and the like) statement by statement in autocommit,
 * so that it survives its own failure modes:
 * <ul>
 * <li>the session sets client_connection_check_interval, so the server stops a build whose client was killed instead of
 * finishing an index nobody records;</li>
 * <li>lock_timeout and statement_timeout are off for the build: a concurrent build waits for every older snapshot, and
 * cutting that wait leaves an INVALID index (strelov1/freehire#2365). The run's own deadline bounds it;</li>
 * <li>each statement is idempotent against what a dead or failed run left: an INVALID index of the same name is
 * dropped concurrently and built again (IF NOT EXISTS would keep it), a VALID one of the same definition counts as
 * built (PostgreSQL compares the two definitions, see {@link IndexCatalog#sameDefinition}), one of another definition
 * stops the run; an index still being built by a dead run's backend is waited for;
 * REINDEX CONCURRENTLY's _ccnew/_ccold leftovers are dropped; an interrupted DETACH CONCURRENTLY is FINALIZEd;</li>
 * <li>after a build, indisvalid is checked; a failed build drops the INVALID index it left and fails the step.</li>
 * </ul>
 * So a failed or killed run resumes at the right statement on the next run, without a manual repair.
 */
final class ConcurrentStep {
    private static final Logger LOG = Logger.getLogger(ConcurrentStep.class);

    private final MigrationFile file;
    private final Iterable<SqlStatement> statements;
    private final StopSignal stop;
    private final Duration builderWait;
    private final StatementRunner runner;

    /** @param file the migration (or rollback script) whose {@code statements} run, for messages */
    ConcurrentStep(MigrationFile file, Iterable<SqlStatement> statements, StopSignal stop, Duration builderWait) {
        this.file = file;
        this.statements = statements;
        this.stop = stop;
        this.builderWait = builderWait;
        this.runner = new StatementRunner(file, stop);
    }

    /** Runs the statements on {@code c}, in autocommit. */
    void run(Connection c) throws SQLException {
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
            st.execute("set lock_timeout = 0");
            st.execute("set statement_timeout = 0");
        }
        StatementRunner.sessionAsPsqlGivesIt(c);
        RuntimeException failure = null;
        try {
            for (SqlStatement s : statements) {
                stop.checkStop("before " + where(s));
                run(c, s);
            }
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        } finally {
            stop.applying(null);
            try (Statement st = c.createStatement()) {
                st.execute("reset lock_timeout; reset statement_timeout");
            } catch (SQLException e) {
                if (failure == null) {
                    throw e;
                }
                failure.addSuppressed(e); // the session is gone: the first failure is the one to report
            }
        }
    }

    private void run(Connection c, SqlStatement s) {
        try {
            dispatch(c, s);
        } catch (SQLException e) {
            throw Failures.ofStatement(file, s, e, stop, "");
        }
    }

    private void dispatch(Connection c, SqlStatement s) throws SQLException {
        if (s.isCreateIndexConcurrently()) {
            createIndex(c, s);
        } else if (s.isDropIndexConcurrently()) {
            QualifiedName name = ConcurrentStatements.droppedIndex(s);
            if (name != null && IndexCatalog.index(c, name) == null && !relationExists(c, name)) {
                LOG.infof("%s: index %s is already gone (an earlier run dropped it): skipped", where(s), name);
                return;
            }
            runner.run(c, s, ExecutionMode.OUTSIDE);
        } else if (s.isReindexConcurrently()) {
            for (IndexCatalog.IndexState leftover : IndexCatalog.reindexLeftovers(c, ConcurrentStatements.reindex(s))) {
                LOG.warnf("%s: dropping %s, an INVALID leftover of an interrupted REINDEX CONCURRENTLY", where(s), leftover.name());
                execute(c, "drop index concurrently if exists " + leftover.sql());
            }
            runner.run(c, s, ExecutionMode.OUTSIDE);
        } else if (s.isDetachPartition()) {
            ConcurrentStatements.Detach d = ConcurrentStatements.detach(s);
            IndexCatalog.Partition p = IndexCatalog.partition(c, d.partition());
            if (p.state() == IndexCatalog.PartitionState.MISSING) {
                throw new PgshiftException(ExitCode.MIGRATION, where(s) + ": there is no table " + p.name() + " to detach from " + d.table()
                        + " (not attached, not detached: it does not exist). Check the partition's name in the migration.");
            } else if (p.state() == IndexCatalog.PartitionState.DETACHED) {
                LOG.infof("%s: partition %s is already detached: skipped", where(s), p.name());
            } else if (p.state() == IndexCatalog.PartitionState.DETACH_PENDING && !d.finalizes()) {
                LOG.warnf("%s: an earlier DETACH CONCURRENTLY of %s was interrupted: finishing it with FINALIZE", where(s), p.name());
                execute(c, "alter table " + p.parentSql() + " detach partition " + p.sql() + " finalize");
            } else {
                runner.run(c, s, ExecutionMode.OUTSIDE);
            }
        } else {
            runner.run(c, s, ExecutionMode.OUTSIDE);
        }
    }

    /** Whether {@code name} resolves to a relation of any kind: then DROP INDEX runs and PostgreSQL says what it is. */
    private static boolean relationExists(Connection c, QualifiedName name) throws SQLException {
        try (java.sql.PreparedStatement ps = c.prepareStatement("select to_regclass(?) is not null")) {
            ps.setString(1, name.sql());
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private void createIndex(Connection c, SqlStatement s) throws SQLException {
        IndexCatalog.IndexState existing = awaitBuilder(c, IndexCatalog.createdIndex(c, s), s);
        String name = existing != null ? existing.name() : s.createdIndex();
        if (existing != null) {
            if (!existing.valid()) {
                LOG.warnf("%s: index %s exists but is INVALID (a failed or killed build): dropping it concurrently and building it again",
                        where(s), name);
                execute(c, "drop index concurrently if exists " + existing.sql());
            } else if (IndexCatalog.sameDefinition(c, existing, s)) {
                LOG.infof("%s: index %s was already built (VALID) by an earlier run that was not recorded: counted as done", where(s), name);
                return;
            } else {
                throw new PgshiftException(ExitCode.CONFIG, where(s) + ": an index named " + name + " already exists with another definition."
                        + "\n  existing: " + existing.definition() + "\n  migration: " + s.excerpt(300)
                        + "\nRename the index in the migration or drop the existing one.");
            }
        }
        long start = System.nanoTime();
        try {
            runner.run(c, s, ExecutionMode.OUTSIDE);
        } catch (PgshiftException e) {
            if (Failures.lostConnection(Failures.sqlState(e))) {
                LOG.warnf("%s: the session building index %s is gone; the next run drops the INVALID index it left and builds it again",
                        where(s), name);
                throw e;
            }
            boolean dropped = dropIfInvalid(c, s, e);
            if (e.exitCode() != ExitCode.MIGRATION || !dropped) {
                throw e;
            }
            throw new PgshiftException(ExitCode.MIGRATION, e.getMessage() + "\n  building index " + name + " failed; the INVALID index it "
                    + "left was dropped: fix the data or the migration and run again", e.getCause());
        }
        IndexCatalog.IndexState built = IndexCatalog.createdIndex(c, s);
        if (built == null) {
            throw new PgshiftException(ExitCode.MIGRATION, where(s) + ": the statement succeeded, but no index " + s.createdIndex() + " on "
                    + s.indexedTable() + " is in the catalog afterwards (did the migration change the search_path or drop it?)");
        }
        if (!built.valid()) {
            dropIfInvalid(c, s, null);
            throw new PgshiftException(ExitCode.MIGRATION, where(s) + ": index " + built.name() + " ended INVALID; it was dropped");
        }
        LOG.infof("%s: index %s built and VALID in %.1f s", where(s), built.name(), (System.nanoTime() - start) / 1e9);
    }

    /** Waits while a backend of a dead run is still building the index, then returns the index as it then stands. */
    private IndexCatalog.IndexState awaitBuilder(Connection c, IndexCatalog.IndexState state, SqlStatement s) throws SQLException {
        long deadline = System.nanoTime() + builderWait.toNanos();
        boolean logged = false;
        while (state != null && state.builderPid() != null) {
            stop.checkStop("while " + where(s) + " waited for an earlier run's index build");
            if (System.nanoTime() > deadline) {
                throw new PgshiftException(ExitCode.TEMPORARY, where(s) + ": backend pid " + state.builderPid() + " is still building index "
                        + state.name() + " (left by an earlier run); gave up waiting after " + builderWait.toSeconds() + "s (--lock-wait)");
            }
            if (!logged) {
                LOG.warnf("%s: backend pid %d is still building index %s (an earlier run's); waiting for it to finish", where(s),
                        state.builderPid(), state.name());
                logged = true;
            }
            stop.sleep(1000);
            state = IndexCatalog.index(c, state.oid());
        }
        return state;
    }

    /**
     * Drops the INVALID index a failed build of {@code s} left; whether there was one. A drop that fails (the session is
     * gone) is added to {@code failure} and left to the next run.
     */
    private boolean dropIfInvalid(Connection c, SqlStatement s, PgshiftException failure) {
        try {
            IndexCatalog.IndexState st = IndexCatalog.createdIndex(c, s);
            if (st != null && !st.valid() && st.builderPid() == null) {
                execute(c, "drop index concurrently if exists " + st.sql());
                LOG.warnf("%s: dropped the INVALID index %s the failed build left", where(s), st.name());
                return true;
            }
        } catch (SQLException e) {
            if (failure != null) {
                failure.addSuppressed(e);
            }
            LOG.errorf("%s: could not drop the INVALID index %s the failed build left (%s); the next run drops it", where(s),
                    s.createdIndex(), Failures.oneLine(e.getMessage()));
        }
        return false;
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private String where(SqlStatement s) {
        return file.displayPath() + ":" + s.line();
    }


}
