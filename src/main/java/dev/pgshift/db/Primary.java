package dev.pgshift.db;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Migrations change the database: a standby (in recovery) or a read-only session refuses every write, which pgshift would
 * otherwise learn only from its first migration's failure and then fail to record. Asked before the run lock.
 */
public final class Primary {
    private Primary() {
    }

    /** @throws PgshiftException exit 3 naming what is read-only and where to point pgshift instead */
    public static void require(Connection c, String server) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select pg_is_in_recovery(), current_setting('transaction_read_only')")) {
            rs.next();
            if (rs.getBoolean(1)) {
                throw new PgshiftException(ExitCode.CONFIG, server + " is a standby (pg_is_in_recovery() is true): it cannot be migrated. "
                        + "Point pgshift at the primary (--host, --port or the URL). Nothing was migrated.");
            }
            if (rs.getString(2).equals("on")) {
                throw new PgshiftException(ExitCode.CONFIG, "the session on " + server + " is read-only (default_transaction_read_only is "
                        + "on for this role, database or server): it cannot be migrated. Connect as a role that may write, or to the primary. "
                        + "Nothing was migrated.");
            }
        } catch (SQLException e) {
            // the session was open a moment ago: a failure here is a lost connection
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot tell whether " + server + " is a primary: " + e.getMessage() + "; run again", e);
        }
    }
}
