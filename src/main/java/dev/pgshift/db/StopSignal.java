package dev.pgshift.db;

import dev.pgshift.EarlyStop;
import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;
import org.postgresql.PGConnection;

/**
 * The run context every phase shares: the run's id (its sessions carry it in application_name), the stop request
 * (SIGTERM, SIGINT), the sessions and child processes the run opened, the run lock it holds, and the last session seen
 * blocking it. Kubernetes sends SIGTERM at activeDeadlineSeconds and when Helm deletes a running hook Job: the run must
 * cancel its running statements (so the server rolls the transaction back instead of finishing it unobserved), end
 * pg_dump / pg_restore, release its lock and exit 75. The default JVM handler would run shutdown hooks and exit under
 * our feet instead. Every wait of the run ({@link #sleep}) ends within moments of a stop.
 */
public final class StopSignal {
    private static final Logger LOG = Logger.getLogger(StopSignal.class);

    private final String runId = UUID.randomUUID().toString();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final Set<Process> children = ConcurrentHashMap.newKeySet();
    private final Set<StopSignal> runs = ConcurrentHashMap.newKeySet();
    private boolean inner;
    private final Object wakeUp = new Object();
    private volatile String stoppedBy;
    private volatile RunLock runLock;
    private volatile String lastBlocker;

    /**
     * Replaces the JVM's SIGTERM and SIGINT handlers with {@link #stop(String)}; a signal that came while pgshift was
     * starting ({@link EarlyStop}) stops the run now.
     */
    public void install() {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> stop("SIG" + sig.getName()));
            } catch (IllegalArgumentException e) {
                LOG.debugf("cannot handle SIG%s here: %s", name, e.getMessage());
            }
        }
        String early = EarlyStop.claim();
        if (early != null) {
            stop(early + " (while pgshift was starting)");
        }
    }

    /**
     * The signal of a run inside this process's work (a fleet's tenant): a run id of its own, stopped when this one is
     * (SIGTERM reaches every tenant running); its own lost connection stops only itself. {@link #release} it when done.
     */
    public StopSignal child() {
        StopSignal run = new StopSignal();
        run.inner = true;
        runs.add(run);
        if (stopped()) {
            run.stop(stoppedBy);
        }
        return run;
    }

    public void release(StopSignal run) {
        runs.remove(run);
    }

    /** The run's id: its report, history row, backup name and every session's application_name carry it. */
    public String runId() {
        return runId;
    }

    /** What each of this run's sessions and child processes show in pg_stat_activity: {@code pgshift/<run id prefix>}. */
    public String applicationName() {
        return Database.APPLICATION_NAME + "/" + runId.substring(0, 8);
    }

    /**
     * Marks the run as stopped, cancels whatever statement each of our sessions is running, ends the child processes and
     * wakes every wait.
     */
    public void stop(String reason) {
        if (!markStopped(reason)) {
            return;
        }
        runs.forEach(r -> r.stop(reason));
        if (!inner) {
            LOG.warnf("received %s: cancelling the running statement and stopping", reason); // once, not per run inside
        }
        // The cancel requests go out on a thread of their own: each opens a connection, which a dead network holds for
        // seconds. Where the server has not answered within the grace period (a half-open connection: no cancel arrives,
        // no reply comes), the run's sockets are closed, so a read stuck on one ends and the run reports and exits 75.
        daemon("pgshift-cancel", this::cancelAll);
        daemon("pgshift-stop-grace", () -> {
            try {
                Thread.sleep(STOP_GRACE.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            unanswered = true; // connections opened from now on (to record the run) get one short try
            if (abortAll() > 0) {
                LOG.warnf("the server did not answer the cancel within %ds: closed the run's connections", STOP_GRACE.toSeconds());
            }
        });
        endChildren();
    }

    /** How long after SIGTERM the run's connections are closed where their statement has not ended (a half-open connection). */
    static final java.time.Duration STOP_GRACE = java.time.Duration.ofSeconds(5);

    /**
     * The server answered nothing for the network timeout (a half-open connection, a partitioned network): the run is
     * stopped as by a signal, its sockets closed at once (a cancel would not arrive either) and its child processes ended.
     */
    public void lost(String reason) {
        if (!markStopped(reason)) {
            return;
        }
        lost = true;
        unanswered = true;
        LOG.errorf("%s: closing the run's connections and stopping", reason);
        abortAll();
        endChildren();
    }

    private volatile boolean lost;
    private volatile boolean unanswered;

    /** Whether the server left the run unanswered: lost, or a statement still running when the stop's grace ran out. */
    public boolean unanswered() {
        return unanswered;
    }

    /** Whether the run stopped because the server stopped answering ({@link #lost}), not because it was asked to. */
    public boolean lostConnection() {
        return lost;
    }

    private synchronized boolean markStopped(String reason) {
        if (stoppedBy != null) {
            return false;
        }
        stoppedBy = reason;
        return true;
    }

    private void endChildren() {
        for (Process p : children) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        synchronized (wakeUp) {
            wakeUp.notifyAll();
        }
    }

    private static void daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
    }

    /** Closes the socket of every open session of the run (Connection.abort): a read blocked on one fails at once. */
    private int abortAll() {
        int n = 0;
        for (Connection c : connections) {
            try {
                if (!c.isClosed()) {
                    c.abort(Runnable::run);
                    n++;
                }
            } catch (SQLException | RuntimeException e) {
                LOG.debugf("abort failed: %s", e.getMessage());
            }
        }
        return n;
    }

    private void cancelAll() {
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

    /** The failure of a stopped run: exit 75 and outcome STOPPED. {@code where} says what was stopped ("before V3 ..."). */
    public Stopped stoppedException(String where) {
        String w = where == null ? "" : where;
        if (unanswered) {
            // no cancel reached the server: what became of the statement is for the next run to find out
            w = w.replace(CANCELLED, "the connection was lost while a statement ran; the next run finds out how far it got and goes on");
        }
        return new Stopped((lost ? "" : "stopped by ") + stoppedBy + (w.isEmpty() ? "" : " " + w));
    }

    /** How a failure says that the run's statement was cancelled by the stop. */
    public static final String CANCELLED = "the running statement was cancelled";

    /** Throws {@link #stoppedException} when the run was asked to stop. */
    public void checkStop(String where) {
        if (stopped()) {
            throw stoppedException(where);
        }
    }

    /** The failure of a run that was stopped: its own type, so no one reads an outcome out of a message. */
    public static final class Stopped extends PgshiftException {
        Stopped(String message) {
            super(ExitCode.TEMPORARY, message);
        }
    }

    /** Sleeps up to {@code ms}, returning at once when the run is stopped (the caller checks {@link #stopped()}). */
    public void sleep(long ms) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        synchronized (wakeUp) {
            long left;
            while (!stopped() && (left = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(wakeUp, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** A session this run opened: SIGTERM cancels its statement ({@link Database} opens none for work after the stop). */
    void register(Connection connection) {
        connections.removeIf(StopSignal::isClosed); // a run of many files opens and closes many sessions
        connections.add(connection);
    }

    private static boolean isClosed(Connection c) {
        try {
            return c.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }

    /** The sessions registered and not yet seen closed (for the tests of the registry's bound). */
    int registeredSessions() {
        return connections.size();
    }

    /** A child process (pg_dump, pg_restore) this run started: SIGTERM ends it; {@link #forget} once it has exited. */
    public void register(Process process) {
        children.add(process);
        if (stopped()) {
            process.destroy();
        }
    }

    public void forget(Process process) {
        children.remove(process);
    }

    /** The run lock this run holds, checked before each migration and before each commit ({@link #checkRunLock}). */
    void holding(RunLock lock) {
        this.runLock = lock;
    }

    /** Stops the run (exit 75) when it holds a run lock that it has lost; a run that holds none has nothing to check. */
    public void checkRunLock(String before) {
        RunLock lock = runLock;
        if (lock != null) {
            lock.check(before);
        }
    }

    /**
     * The statement the run is sending, for the progress log of a long file or a long statement: its file, line, number
     * in the file, and when the file and the statement started (System.nanoTime). Never its text.
     */
    public record Applying(String file, int line, long statement, long fileStarted, long statementStarted) {
    }

    private volatile Applying applying;

    public void applying(Applying now) {
        this.applying = now;
    }

    /** The statement being sent, or null before the first. */
    public Applying applying() {
        return applying;
    }

    private volatile long statementFailedAfter;

    /** How long the run's last failed statement ran before it failed (nanoseconds; 0: none failed since the last began). */
    public void statementFailedAfter(long nanos) {
        this.statementFailedAfter = nanos;
    }

    public long statementFailedAfter() {
        return statementFailedAfter;
    }

    /** The session last seen blocking this run's statements (pid, application, state, query), for the final error. */
    public void blockedBy(String description) {
        this.lastBlocker = description;
    }

    public String lastBlocker() {
        return lastBlocker;
    }
}
