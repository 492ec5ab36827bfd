package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.StopSignal;
import dev.pgshift.source.MigrationFile;
import dev.pgshift.source.SqlStatement;
import java.io.IOException;
import java.sql.SQLException;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * The one translation of a failure the database reported into the failure pgshift reports: the exit code from the
 * SQLSTATE's class, never from a message's text (08xxx connection exceptions, 57P01-57P03 a terminated session or a
 * server shutting down, and a session pgjdbc found closed or broken are temporary: 75; so are 55P03 and 40P01, a lock
 * timeout and a deadlock, which reach here only once their retries are spent or where none are made; anything else is
 * 5), where it happened (file:line), the statement, the server's message, detail, hint and the line it pointed at, and
 * what the failure left. Every path that runs SQL of the user's goes through here: transactional files, files with
 * their own transactions, concurrent steps, rollbacks, verify scripts, and pgshift's bookkeeping around them.
 */
public final class Failures {

    private Failures() {
    }

    /** 08xxx (connection exceptions) and 57P01-57P03 (the server shut down or terminated the session). */
    static boolean lostConnection(String state) {
        return state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03"));
    }

    /** 55P03 (lock_timeout) and 40P01 (deadlock): the statement may succeed when run again. */
    static boolean lockConflict(String state) {
        return "55P03".equals(state) || "40P01".equals(state);
    }

    /** The first SQLSTATE in {@code t}'s causes, or null. */
    public static String sqlState(Throwable t) {
        for (; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null) {
                return s.getSQLState();
            }
        }
        return null;
    }

    /** The exit code a database failure gets: 75 where running again can succeed, 5 otherwise. */
    public static ExitCode exitCode(Throwable t) {
        String state = sqlState(t);
        if (lostConnection(state) || lockConflict(state)) {
            return ExitCode.TEMPORARY;
        }
        if (state == null) {
            for (Throwable c = t; c != null; c = c.getCause()) {
                if (c instanceof IOException) {
                    return ExitCode.TEMPORARY; // the socket broke under pgjdbc or Flyway
                }
            }
        }
        return ExitCode.MIGRATION;
    }

    /**
     * A statement of {@code file} failed: file:line, the statement, the server's words, and what it left.
     *
     * @param left what the failure left, told when the connection stands (e.g. "its transaction was rolled back: ..."), or ""
     */
    static PgshiftException ofStatement(MigrationFile file, SqlStatement s, SQLException e, StopSignal stop, String left) {
        String where = file.displayPath() + ":" + s.line();
        if (stop.stopped()) {
            return stop.stoppedException("during " + where + ": " + StopSignal.CANCELLED);
        }
        StringBuilder m = new StringBuilder(where).append(": ").append(s.excerpt(100)).append("\n  failed: ").append(describe(e));
        ServerErrorMessage server = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
        if (server != null && server.getPosition() > 0 && server.getPosition() <= s.text().length() + 1) {
            m.append("\n  at ").append(file.displayPath()).append(':').append(s.line() + newlines(s.text(), server.getPosition() - 1));
        }
        ExitCode code = exitCode(e);
        if (lostConnection(sqlState(e)) || code == ExitCode.TEMPORARY && sqlState(e) == null) {
            m.append("\n  the database connection was lost; run again");
        } else if (!left.isEmpty()) {
            m.append("\n  ").append(left);
        }
        return new PgshiftException(code, m.toString(), e);
    }

    /** A failure around the user's SQL (pgshift's bookkeeping, Flyway's): {@code context}, then the server's words. */
    public static PgshiftException of(String context, Throwable e, StopSignal stop) {
        if (stop != null && stop.stopped()) {
            return stop.stoppedException(context + ": " + StopSignal.CANCELLED);
        }
        ExitCode code = exitCode(e);
        String text = e instanceof SQLException s ? describe(s) : oneLine(e.getMessage());
        return new PgshiftException(code, context + ": " + text + (code == ExitCode.TEMPORARY && !lockConflict(sqlState(e))
                ? "; the database connection was lost; run again" : ""), e);
    }

    /** The server's message with its SQLSTATE, detail and hint; pgjdbc's own message for a failure of the client side. */
    public static String describe(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        ServerErrorMessage server = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
        if (server == null) {
            return (state.isEmpty() ? "" : state + ": ") + oneLine(e.getMessage());
        }
        StringBuilder m = new StringBuilder();
        m.append(server.getSeverity() == null ? "ERROR" : server.getSeverity()).append(' ').append(state).append(": ").append(server.getMessage());
        if (server.getDetail() != null) {
            m.append("\n  detail: ").append(server.getDetail());
        }
        if (server.getHint() != null) {
            m.append("\n  hint: ").append(server.getHint());
        }
        return m.toString();
    }

    /** A message on one line, Flyway's rulers left out. */
    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").replaceAll("-{5,}", "").trim();
    }

    private static int newlines(String text, int upTo) {
        int count = 0;
        for (int k = 0; k < Math.min(upTo, text.length()); k++) {
            if (text.charAt(k) == '\n') {
                count++;
            }
        }
        return count;
    }
}
