package dev.pgshift.db;

import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * How pgshift names a session that is not its own (a blocker, a lock holder, an earlier run's busy session): pid, user,
 * application, state, what it waits for and for how long in that state. Never its query text: the last statement of
 * another session can hold anything (an {@code ALTER ROLE ... PASSWORD '...'}), and the description reaches the log, the
 * report, the termination message and the history table.
 */
final class ForeignSession {

    private ForeignSession() {
    }

    /** The columns {@link #describe} reads, from pg_stat_activity as {@code a}. */
    static final String COLUMNS = "a.pid, coalesce(a.usename::text, ''), coalesce(a.application_name, ''), coalesce(a.state, ''), "
            + "coalesce(a.wait_event_type || ':' || a.wait_event, ''), "
            + "coalesce(extract(epoch from now() - coalesce(a.state_change, a.backend_start))::bigint, 0)";

    /** The session whose {@link #COLUMNS} start at column {@code first} of {@code rs}. */
    static String describe(ResultSet rs, int first) throws SQLException {
        String wait = rs.getString(first + 4);
        return "pid " + rs.getInt(first) + " (user '" + rs.getString(first + 1) + "', application_name '" + rs.getString(first + 2)
                + "', state '" + rs.getString(first + 3) + "'" + (wait.isEmpty() ? "" : ", waiting on " + wait) + ", for "
                + rs.getLong(first + 5) + "s)";
    }
}
