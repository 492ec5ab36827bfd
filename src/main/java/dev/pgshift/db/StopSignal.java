package dev.pgshift.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;
import org.postgresql.PGConnection;

/**
 * SIGTERM handling. Kubernetes sends SIGTERM at activeDeadlineSeconds and when Helm deletes a running hook Job: the
 * run must cancel its running statement (so the server rolls the transaction back instead of finishing it unobserved),
 * release its lock and exit 75. The default JVM handler would run shutdown hooks and exit under our feet instead.
 */
public final class StopSignal {
    private static final Logger LOG = Logger.getLogger(StopSignal.class);

    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private volatile String stoppedBy;

    /** Replaces the JVM's SIGTERM and SIGINT handlers with {@link #stop(String)}. */
    public void install() {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> stop("SIG" + sig.getName()));
            } catch (IllegalArgumentException e) {
                LOG.debugf("cannot handle SIG%s here: %s", name, e.getMessage());
            }
        }
    }

    /** Marks the run as stopped and cancels whatever statement each of our sessions is running. */
    public void stop(String reason) {
        if (stoppedBy != null) {
            return;
        }
        stoppedBy = reason;
        LOG.warnf("received %s: cancelling the running statement and stopping", reason);
        for (Connection c : connections) {
            try {
                if (!c.isClosed()) {
                    c.unwrap(PGConnection.class).cancelQuery();
                }
            } catch (SQLException e) {
                LOG.debugf("cancel failed: %s", e.getMessage());
            }
        }
    }

    public boolean stopped() {
        return stoppedBy != null;
    }

    /** The signal that stopped the run, or null. */
    public String stoppedBy() {
        return stoppedBy;
    }

    void register(Connection connection) {
        connections.add(connection);
    }
}
