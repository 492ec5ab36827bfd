package dev.pgshift.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Asks the server a trivial question every few seconds, on a session of its own, for as long as the run works with
 * the database. Where no answer has come for the network timeout (--network-timeout), the server is unreachable in a
 * way TCP does not tell: a proxy or load balancer that stopped forwarding without closing, a network partition the
 * keepalives have not noticed yet. Then the run is stopped as lost ({@link StopSignal#lost}): its sockets are closed,
 * so a read stuck on one ends, and it exits 75; the next run recovers as after a kill. A long statement of the run does
 * not stop the heartbeat's answers, so it is never cut.
 */
final class Heartbeat implements Database.Beat {
    private static final Logger LOG = Logger.getLogger(Heartbeat.class);

    private final Database database;
    private final Duration timeout;
    private final Thread thread;
    private volatile boolean running = true;

    private Heartbeat(Database database) {
        this.database = database;
        this.timeout = database.networkTimeout();
        this.thread = new Thread(this::loop, "pgshift-heartbeat");
        this.thread.setDaemon(true);
    }

    /** Starts beating for {@code database}'s run; close ends it. */
    static Heartbeat start(Database database) {
        Heartbeat h = new Heartbeat(database);
        h.thread.start();
        return h;
    }

    /** Between questions: a sixth of the timeout, 1 to 10 s. */
    Duration period() {
        return Duration.ofMillis(Math.max(1_000, Math.min(10_000, timeout.toMillis() / 6)));
    }

    private void loop() {
        StopSignal stop = database.stopSignal();
        long lastAnswer = System.nanoTime();
        Connection c = null;
        String lastError = null;
        while (running && !stop.stopped()) {
            try {
                if (c == null) {
                    c = database.unregisteredConnection();
                    c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
                }
                try (Statement st = c.createStatement()) {
                    st.execute("select 1");
                }
                lastAnswer = System.nanoTime();
                lastError = null;
            } catch (SQLException | RuntimeException e) {
                lastError = e.getMessage();
                Database.closeQuietly(c);
                c = null;
            }
            if (!running || stop.stopped()) {
                break;
            }
            long silent = System.nanoTime() - lastAnswer;
            if (silent >= timeout.toNanos()) {
                stop.lost("the database connection was lost: the server answered nothing for " + TimeUnit.NANOSECONDS.toSeconds(silent)
                        + "s (--network-timeout " + timeout.toSeconds() + "s" + (lastError == null ? "" : "; last error: " + lastError) + ")");
                break;
            }
            stop.sleep(period().toMillis());
        }
        if (c != null) {
            try {
                c.abort(Runnable::run); // never wait on a server that may not answer
            } catch (SQLException e) {
                LOG.debugf("heartbeat session: %s", e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
