package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.StopSignal;
import dev.pgshift.source.ExecutionMode;
import dev.pgshift.source.MigrationScript;
import dev.pgshift.source.Rollback;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.jboss.logging.Logger;

/**
 * Runs rollback scripts newest first. A transactional script runs in one transaction together with the deletion of its
 * migration's history row, so the two cannot part. A non-transactional one (DROP INDEX CONCURRENTLY ...) runs statement
 * by statement like a concurrent migration, idempotently (an index already dropped is skipped), and its history row is
 * deleted after its last statement: a rollback killed in between is simply run again.
 */
final class RollbackRunner {
    private static final Logger LOG = Logger.getLogger(RollbackRunner.class);

    private final DataSource dataSource;
    private final String schema;
    private final StopSignal stop;
    private final Duration builderWait;

    RollbackRunner(DataSource dataSource, String schema, StopSignal stop, Duration builderWait) {
        this.dataSource = dataSource;
        this.schema = schema;
        this.stop = stop;
        this.builderWait = builderWait;
    }

    /** @param scripts newest first, each with its rollback; {@code done} receives each one rolled back */
    void rollBack(List<MigrationScript> scripts, List<AppliedMigration> done) {
        for (MigrationScript m : scripts) {
            stop.checkStop("before rolling back " + m.version());
            Rollback r = m.rollback();
            long start = System.nanoTime();
            try (Connection c = dataSource.getConnection()) {
                StatementRunner runner = new StatementRunner(r.file(), stop);
                switch (r.mode()) {
                    case TRANSACTION -> {
                        c.setAutoCommit(false);
                        try {
                            StatementRunner.sessionAsPsqlGivesIt(c);
                            runner.runAll(c, r.statements(), ExecutionMode.TRANSACTION);
                            deleteRow(c, m.version());
                            PrismaAdoption.recordRolledBack(c, schema, m);
                            c.commit();
                        } catch (SQLException | RuntimeException e) {
                            c.rollback();
                            throw e;
                        }
                    }
                    case OWN -> {
                        StatementRunner.sessionAsPsqlGivesIt(c);
                        runner.runOwnTransactions(c, r.statements(), 0, null); // a rollback script is not resumed
                        deleteRow(c, m.version());
                        PrismaAdoption.recordRolledBack(c, schema, m);
                    }
                    case BACKFILL -> {
                        StatementRunner.sessionAsPsqlGivesIt(c);
                        new BackfillRunner(r.file(), r.backfill(), stop, schema, m.version(), "rollback").run(c, session -> {
                            deleteRow(session, m.version());
                            PrismaAdoption.recordRolledBack(session, schema, m);
                        });
                    }
                    case OUTSIDE -> {
                        new ConcurrentStep(r.file(), r.statements(), stop, builderWait).run(c);
                        deleteRow(c, m.version());
                        PrismaAdoption.recordRolledBack(c, schema, m);
                    }
                }
            } catch (PgshiftException e) {
                throw new PgshiftException(e.exitCode(), "rolling back " + m.version() + " failed: " + e.getMessage()
                        + (e.exitCode() == ExitCode.MIGRATION ? "\n  " + m.version() + " stays applied" : ""), e.getCause());
            } catch (SQLException e) {
                PgshiftException f = Failures.of("rolling back " + m.version() + " with " + r.file().displayPath() + " failed", e, stop);
                throw new PgshiftException(f.exitCode(), f.getMessage()
                        + (f.exitCode() == ExitCode.MIGRATION ? "\n  " + m.version() + " stays applied" : ""), e);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            LOG.infof("rolled back %s with %s in %.2f s", m.version(), r.file().displayPath(), took.toMillis() / 1000.0);
            done.add(new AppliedMigration(m.version(), m.description(), r.file().displayPath(),
                    r.mode().label(), took));
        }
    }

    private void deleteRow(Connection c, String version) throws SQLException {
        HistoryRows.deleteApplied(c, schema, version);
    }
}
