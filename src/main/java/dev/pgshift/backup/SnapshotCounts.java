package dev.pgshift.backup;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.Database;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.jboss.logging.Logger;

/** Row counts of every table taken in the snapshot that pg_dump then dumps, so a restore can be compared exactly. */
final class SnapshotCounts implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(SnapshotCounts.class);
    private final Connection connection;
    private final String id;
    private final Map<String, Long> counts;

    private SnapshotCounts(Connection connection, String id, Map<String, Long> counts) {
        this.connection = connection;
        this.id = id;
        this.counts = counts;
    }

    /** The session holding the exported snapshot stays open until {@link #close}; on any failure it is closed here. */
    static SnapshotCounts take(Database db) {
        Connection c = null;
        try {
            c = db.getConnection();
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            String id;
            try (Statement st = c.createStatement(); var rs = st.executeQuery("select pg_export_snapshot()")) {
                rs.next();
                id = rs.getString(1);
            }
            return new SnapshotCounts(c, id, RowCounts.of(c));
        } catch (SQLException | RuntimeException e) {
            Database.closeQuietly(c); // ends the transaction and its snapshot with the session
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new PgshiftException(ExitCode.BACKUP, "cannot take the snapshot to back up: " + e.getMessage(), e);
        }
    }

    String id() {
        return id;
    }

    Map<String, Long> counts() {
        return counts;
    }

    @Override
    public void close() {
        try {
            connection.rollback();
            connection.close();
        } catch (SQLException e) {
            LOG.debugf("closing the snapshot session: %s", e.getMessage());
        }
    }
}
