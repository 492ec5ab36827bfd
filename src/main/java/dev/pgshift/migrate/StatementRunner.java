package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.StopSignal;
import dev.pgshift.source.ExecutionMode;
import dev.pgshift.source.MigrationFile;
import dev.pgshift.source.SqlStatement;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.postgresql.PGConnection;

/**
 * The one place where migration SQL reaches the server: every script, forward or rollback, transactional or not, runs
 * its statements through here. COPY ... FROM stdin gets its data through pgjdbc's CopyManager; a stop request is
 * honoured between statements; a failure is reported in pgshift's words: file:line, the statement (shortened), the
 * SQLSTATE and the server's message, detail, hint and the line the server pointed at.
 */
final class StatementRunner {
    private final MigrationFile file;
    private final StopSignal stop;

    private final long started = System.nanoTime();
    private long statements;

    StatementRunner(MigrationFile file, StopSignal stop) {
        this.file = file;
        this.stop = stop;
    }

    /**
     * Migrations see the session psql would give them: the role and the search_path the role, the database and the
     * connection set, whatever an earlier migration on this session SET (as Flyway restored them between migrations;
     * SET SESSION AUTHORIZATION, which Flyway refuses to restore, is reset too).
     * One round trip.
     */
    static void sessionAsPsqlGivesIt(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(RESET_IDENTITY + "; reset search_path");
        }
    }

    /** The role and session user the connection started with, whatever a migration SET (SET ROLE, SET SESSION AUTHORIZATION). */
    private static final String RESET_IDENTITY = "reset session authorization; reset role";

    /**
     * Back to the connection's own identity after a migration's statements, before pgshift writes its bookkeeping (the
     * history row): a migration that SET ROLE to a role without rights on the history table must not break it. Flyway
     * restores the role at the same point.
     */
    static void resetIdentity(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(RESET_IDENTITY);
        }
    }

    /** Runs {@code statements} on {@code c} as they are (in whatever transaction state {@code c} is), stop checked before each. */
    void runAll(Connection c, Iterable<SqlStatement> statements, ExecutionMode mode) {
        try {
            for (SqlStatement s : statements) {
                checkStop(s);
                run(c, s, mode);
            }
        } finally {
            stop.applying(null);
        }
    }

    /** Told, inside each transaction of a file with its own transactions, right before it commits, how many of the file's statements it completes. */
    @FunctionalInterface
    interface Progress {
        void committing(Connection c, long done) throws SQLException;
    }

    /**
     * A file with its own BEGIN/COMMIT runs as psql runs it, one transaction at a time, and resumably: right before each
     * COMMIT that ends one of its blocks, {@code progress} records (on the same session, in the same transaction) how
     * many of the file's statements are then done, so the record and the work commit together or not at all. A
     * statement outside any block, which psql runs in a transaction of its own, runs in one of pgshift's with its record
     * (a statement that refuses a transaction block, VACUUM say, runs alone and is recorded right after it). The first
     * {@code skip} statements, committed by an earlier run, are not run again. On a failure inside a block that block is
     * rolled back; what committed before stays, and the next run resumes after it. {@code progress} null: nothing is
     * recorded and nothing resumes (a rollback script).
     */
    void runOwnTransactions(Connection c, Iterable<SqlStatement> statements, long skip, Progress progress) throws SQLException {
        try {
            runOwnTransactionsOf(c, statements, skip, progress);
        } finally {
            stop.applying(null);
        }
    }

    private void runOwnTransactionsOf(Connection c, Iterable<SqlStatement> statements, long skip, Progress progress) throws SQLException {
        c.setAutoCommit(true);
        SqlStatement lastCommitted = null;
        long committed = skip;
        long index = 0;
        boolean inBlock = false;
        // Resuming: the session settings the committed part made (SET ROLE, SET search_path ...) are made again, so the
        // rest runs in the session an uninterrupted run would have given it.
        List<SqlStatement> settings = new java.util.ArrayList<>();
        int blockSettings = 0;
        for (SqlStatement s : statements) {
            if (++index <= skip) {
                if (s.kind() == SqlStatement.Kind.TRANSACTION_CONTROL) {
                    String w = s.words().get(0);
                    boolean chained = chains(s);
                    if (inBlock && w.equals("ROLLBACK") && !s.words().contains("TO")) {
                        settings.subList(settings.size() - blockSettings, settings.size()).clear(); // undone with the block
                    }
                    if (!inBlock || !chained && (w.equals("COMMIT") || w.equals("END") || w.equals("ROLLBACK") && !s.words().contains("TO"))) {
                        blockSettings = 0;
                    }
                    inBlock = opensOrKeeps(s, inBlock);
                } else if (sessionSetting(s)) {
                    settings.add(s);
                    blockSettings += inBlock ? 1 : 0;
                }
                continue;
            }
            if (index == skip + 1 && !settings.isEmpty()) {
                for (SqlStatement set : settings) {
                    run(c, set, ExecutionMode.OWN);
                }
                LOG.infof("made again the %d session setting(s) (SET, SET ROLE, RESET) of the part an earlier run committed", settings.size());
            }
            boolean wrapped = false;
            try {
                checkStop(s); // a stop between statements after a commit leaves the file part-applied, like a failure
                if (s.kind() == SqlStatement.Kind.TRANSACTION_CONTROL) {
                    String w = s.words().get(0);
                    boolean ends = inBlock && (w.equals("COMMIT") || w.equals("END"));
                    if (ends) {
                        record(c, progress, s, index);
                    }
                    run(c, s, ExecutionMode.OWN);
                    inBlock = opensOrKeeps(s, inBlock);
                    if (ends) {
                        committed = index;
                        lastCommitted = s;
                    }
                } else if (inBlock) {
                    run(c, s, ExecutionMode.OWN);
                } else {
                    wrapped = true;
                    runInItsOwnTransaction(c, s, index, progress);
                    wrapped = false;
                    committed = index;
                    lastCommitted = s;
                }
            } catch (PgshiftException e) {
                if (inBlock || wrapped) {
                    try (Statement st = c.createStatement()) {
                        st.execute("rollback");
                    } catch (SQLException ignored) {
                        // the connection is gone: the server rolled the block back
                    }
                }
                if (committed == 0) {
                    // a lost connection may have taken a COMMIT with it: the history, written in that commit, will tell
                    throw new PgshiftException(e.exitCode(), e.getMessage() + (e.exitCode() == ExitCode.TEMPORARY && progress != null
                            ? "\n  the next run reads in the history how far the file got and goes on from there"
                            : "\n  nothing of this file was committed"), e.getCause());
                }
                String done = lastCommitted == null ? "The statements an earlier run committed"
                        : "The statements up to line " + lastCommitted.line() + ", committed by the file's own transactions,";
                String after = e.exitCode() == ExitCode.TEMPORARY ? "the statements after them" : "the part that failed";
                throw new PartlyCommitted(e.exitCode(), e.getMessage() + "\n  " + done + (progress == null
                        ? " stay applied: the file cannot simply run again"
                        : " stay applied; the next run resumes with " + after + "." + (e.exitCode() == ExitCode.TEMPORARY ? ""
                                : " If that part cannot succeed as written, bring the database to where it was before the file and run ")
                                + (e.exitCode() == ExitCode.TEMPORARY ? "" : Repair.command("--rolled-back", "VERSION") + "; or finish the file "
                                        + "by hand and run " + Repair.command("--applied", "VERSION"))), e.getCause());
            }
        }
    }

    /**
     * Whether the session is in a transaction block after {@code s} (transaction control) ran, {@code inBlock} before:
     * BEGIN/START open one, SAVEPOINT/RELEASE/ROLLBACK TO stay in it, COMMIT/END/ROLLBACK AND CHAIN start the next at once.
     */
    private static boolean opensOrKeeps(SqlStatement s, boolean inBlock) {
        String w = s.words().get(0);
        return w.equals("BEGIN") || w.equals("START") || w.equals("SAVEPOINT") || w.equals("RELEASE")
                || inBlock && w.equals("ROLLBACK") && s.words().contains("TO") || inBlock && chains(s);
    }

    /** COMMIT AND CHAIN, END AND CHAIN, ROLLBACK AND CHAIN: the block ends and a new one begins with the same characteristics. */
    private static boolean chains(SqlStatement s) {
        return s.containsSequence("AND", "CHAIN") && !s.containsSequence("AND", "NO", "CHAIN");
    }

    /** A session-level setting: SET (not SET LOCAL), SET ROLE, SET SESSION AUTHORIZATION, RESET. */
    private static boolean sessionSetting(SqlStatement s) {
        List<String> w = s.words();
        return !w.isEmpty() && (w.get(0).equals("RESET") || w.get(0).equals("SET") && !(w.size() > 1 && (w.get(1).equals("LOCAL")
                || w.get(1).equals("CONSTRAINTS") || w.get(1).equals("TRANSACTION"))));
    }

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(Migrator.class);

    /** Progress recorded inside the transaction about to commit: a failure to record rolls the transaction back. */
    private void record(Connection c, Progress progress, SqlStatement s, long done) {
        if (progress == null) {
            return;
        }
        try {
            progress.committing(c, done);
        } catch (SQLException e) {
            throw Failures.of("recording the progress of " + where(s) + " in the migration history", e, stop);
        }
    }

    /** A statement outside the file's blocks, in a transaction with the record of it (alone, and recorded after it, where it refuses one). */
    private void runInItsOwnTransaction(Connection c, SqlStatement s, long done, Progress progress) {
        try (Statement st = c.createStatement()) {
            st.execute("begin");
        } catch (SQLException e) {
            throw failure(s, e, ExecutionMode.OWN);
        }
        try {
            run(c, s, ExecutionMode.OWN);
        } catch (PgshiftException e) {
            if (!"25001".equals(Failures.sqlState(e))) {
                throw e;
            }
            try (Statement st = c.createStatement()) {
                st.execute("rollback"); // it cannot run inside a transaction block: alone, as psql runs it
            } catch (SQLException r) {
                throw failure(s, r, ExecutionMode.OWN);
            }
            run(c, s, ExecutionMode.OWN);
            record(c, progress, s, done);
            return;
        }
        record(c, progress, s, done);
        try (Statement st = c.createStatement()) {
            st.execute("commit");
        } catch (SQLException e) {
            throw failure(s, e, ExecutionMode.OWN);
        }
    }

    /**
     * A file with its own transactions failed after committing part of itself. Its row in the history records how far
     * it got; the next run (or this run's retry after a lock timeout) resumes there.
     */
    static final class PartlyCommitted extends PgshiftException {
        PartlyCommitted(ExitCode code, String message, Throwable cause) {
            super(code, message, cause);
        }
    }

    /** Runs one statement; the run's progress log (SessionMonitor) names it while it runs. */
    void run(Connection c, SqlStatement s, ExecutionMode mode) {
        long begun = System.nanoTime();
        stop.applying(new StopSignal.Applying(file.displayPath(), s.line(), ++statements, started, begun));
        stop.statementFailedAfter(0);
        try {
            if (s.copyData() != null) {
                c.unwrap(PGConnection.class).getCopyAPI().copyIn(s.text(), new StringReader(s.copyData()));
            } else if (s.startsWith("COPY") && s.containsSequence("TO", "STDOUT")) {
                c.unwrap(PGConnection.class).getCopyAPI().copyOut(s.text(), OutputStream.nullOutputStream());
            } else {
                try (Statement st = c.createStatement()) {
                    st.execute(s.text());
                }
            }
        } catch (SQLException e) {
            stop.statementFailedAfter(System.nanoTime() - begun);
            throw failure(s, e, mode);
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.MIGRATION, where(s) + ": COPY data could not be read: " + e.getMessage(), e);
        }
    }

    private void checkStop(SqlStatement s) {
        stop.checkStop("before " + where(s));
    }

    String where(SqlStatement s) {
        return file.displayPath() + ":" + s.line();
    }

    /** A failed statement in pgshift's words ({@link Failures}): a lost connection is temporary (exit 75), anything else exit 5. */
    PgshiftException failure(SqlStatement s, SQLException e, ExecutionMode mode) {
        return Failures.ofStatement(file, s, e, stop, mode == ExecutionMode.TRANSACTION
                ? "its transaction was rolled back: nothing of " + file.displayPath() + " is applied" : "");
    }
}
