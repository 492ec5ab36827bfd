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

    /**
     * A file with its own BEGIN/COMMIT runs in autocommit as psql runs it. On a failure inside one of its transaction
     * blocks that block is rolled back; what committed before stays, and the message says so.
     */
    void runOwnTransactions(Connection c, Iterable<SqlStatement> statements, Runnable beforeFirstCommit) throws SQLException {
        try {
            runOwnTransactionsOf(c, statements, beforeFirstCommit);
        } finally {
            stop.applying(null);
        }
    }

    private void runOwnTransactionsOf(Connection c, Iterable<SqlStatement> statements, Runnable beforeFirstCommit) throws SQLException {
        c.setAutoCommit(true);
        SqlStatement lastCommitted = null;
        boolean inBlock = false;
        boolean marked = false;
        for (SqlStatement s : statements) {
            try {
                checkStop(s); // a stop between statements after a commit leaves the file part-applied, like a failure
                if (!marked && commits(s, inBlock)) {
                    beforeFirstCommit.run();
                    marked = true;
                }
                run(c, s, ExecutionMode.OWN);
            } catch (PgshiftException e) {
                if (inBlock) {
                    try (Statement st = c.createStatement()) {
                        st.execute("rollback");
                    } catch (SQLException ignored) {
                        // the connection is gone: the server rolled the block back
                    }
                }
                if (lastCommitted == null) {
                    throw new PgshiftException(e.exitCode(), e.getMessage() + "\n  nothing of this file was committed", e.getCause());
                }
                throw new PartlyCommitted(e.exitCode(), e.getMessage() + "\n  Statements up to line " + lastCommitted.line()
                        + " were committed by the file's own transactions and stay applied: the file cannot simply run again");
            }
            if (s.kind() == SqlStatement.Kind.TRANSACTION_CONTROL) {
                String w = s.words().get(0);
                inBlock = w.equals("BEGIN") || w.equals("START") || w.equals("SAVEPOINT") || w.equals("RELEASE") || inBlock && w.equals("ROLLBACK")
                        && s.words().contains("TO");
                if (w.equals("COMMIT") || w.equals("END")) {
                    lastCommitted = s;
                }
            } else if (!inBlock) {
                lastCommitted = s;
            }
        }
    }

    /** Whether {@code s}, run in autocommit, commits: a COMMIT ending a block, or any statement outside a block but BEGIN. */
    private static boolean commits(SqlStatement s, boolean inBlock) {
        if (s.kind() != SqlStatement.Kind.TRANSACTION_CONTROL) {
            return !inBlock;
        }
        String w = s.words().get(0);
        return inBlock ? w.equals("COMMIT") || w.equals("END") : !(w.equals("BEGIN") || w.equals("START"));
    }

    /**
     * A file with its own transactions failed after committing part of itself: never retried (no SQLSTATE travels with
     * it), and its failed record stops the next run until someone decides what the database should hold.
     */
    static final class PartlyCommitted extends PgshiftException {
        PartlyCommitted(ExitCode code, String message) {
            super(code, message);
        }
    }

    /** Runs one statement; the run's progress log (SessionMonitor) names it while it runs. */
    void run(Connection c, SqlStatement s, ExecutionMode mode) {
        stop.applying(new StopSignal.Applying(file.displayPath(), s.line(), ++statements, started, System.nanoTime()));
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
