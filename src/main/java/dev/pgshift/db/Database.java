package dev.pgshift.db;

import dev.pgshift.config.ConnectionSettings;
import dev.pgshift.config.Settings;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Opens pgshift's sessions from resolved settings at run time (a datasource fixed when Quarkus starts could not see
 * command-line settings). Every session carries application_name {@code pgshift/<run id>}, so a DBA (and the next run)
 * sees which run holds what, and is registered with the run's {@link StopSignal} so SIGTERM can cancel its statement.
 * Every session also asks the server to notice a vanished client within seconds (client_connection_check_interval): a
 * killed run's statement ends instead of running on with its locks; and to never end the session for idleness
 * (idle_session_timeout, idle_in_transaction_session_timeout set on the database or role do not apply to it): the run
 * lock's session is idle by design. TCP keepalives are on, probing after 30 s of silence on both ends
 * ({@link KeepaliveSocketFactory}, tcp_keepalives_* and tcp_user_timeout on the server's side). Once the run is stopped no new session is opened, except the
 * ones that record what happened ({@link #cleanupConnection()}).
 */
public final class Database implements DataSource {
    public static final String APPLICATION_NAME = "pgshift";
    /** SQL: the session named in {@code column} is one of pgshift's, of any run (also of releases before run ids). */
    public static String isPgshift(String column) {
        return "(" + column + " = 'pgshift' or " + column + " like 'pgshift/%')";
    }
    /** How soon the server notices that a run's process is gone while its statement runs (PostgreSQL 14+, Linux servers). */
    static final int CONNECTION_CHECK_MS = 2_000;
    /**
     * The most one connection attempt may take, startup and authentication included (the network timeout where
     * shorter): a waiting run tries again, and a stopped run's attempt to record itself ends within Kubernetes' grace.
     */
    static final int LOGIN_TIMEOUT_SECONDS = 15;
    /** The same, once the server has left the run unanswered ({@link StopSignal#unanswered()}). */
    static final int UNANSWERED_LOGIN_TIMEOUT_SECONDS = 3;

    private final ConnectionSettings settings;
    private final StopSignal stopSignal;
    private final PGSimpleDataSource delegate;
    private final java.time.Duration networkTimeout;
    private final java.time.Duration slotWait;
    /** Whether this view opens sessions after a stop too ({@link #afterStop()}). */
    private final boolean afterStop;
    /** The session {@link #lend} gives this thread's next {@link #getConnection()} instead of a new one. */
    private final ThreadLocal<Connection> lent = new ThreadLocal<>();

    private Database(Database of) {
        this.settings = of.settings;
        this.stopSignal = of.stopSignal;
        this.delegate = of.delegate;
        this.networkTimeout = of.networkTimeout;
        this.slotWait = of.slotWait;
        this.afterStop = true;
    }

    /** The database the resolved settings name, with their lock_timeout: what every command connects to. */
    public static Database of(Settings settings, StopSignal stopSignal) {
        return new Database(settings.connection(), settings.lockTimeout(), settings.networkTimeout(), settings.connectTimeout(), stopSignal);
    }

    public Database(ConnectionSettings settings, java.time.Duration lockTimeout, StopSignal stopSignal) {
        this(settings, lockTimeout, java.time.Duration.ofSeconds(60), java.time.Duration.ofSeconds(60), stopSignal);
    }

    /** How long a server may answer nothing before the run gives up on it (--network-timeout). */
    public java.time.Duration networkTimeout() {
        return networkTimeout;
    }

    /**
     * @param lockTimeout the session's lock_timeout: ordinary DDL waiting longer for a lock gives up instead of queueing
     *                    every query of the application behind it. Concurrent builds switch it off on their session.
     */
    /**
     * @param slotWait how long a new session waits for a free connection slot (SQLSTATE 53300: too many clients, the
     *                 role's or the database's connection limit): the connect timeout, as for a server not up yet
     */
    public Database(ConnectionSettings settings, java.time.Duration lockTimeout, java.time.Duration networkTimeout, java.time.Duration slotWait,
            StopSignal stopSignal) {
        this.settings = settings;
        this.networkTimeout = networkTimeout;
        this.slotWait = slotWait;
        this.stopSignal = stopSignal;
        this.delegate = new PGSimpleDataSource();
        this.afterStop = false;
        delegate.setServerNames(new String[] {settings.host()});
        delegate.setPortNumbers(new int[] {settings.port()});
        delegate.setDatabaseName(settings.database());
        delegate.setUser(settings.user());
        if (settings.password() != null) {
            delegate.setPassword(settings.password());
        }
        delegate.setSslMode(settings.sslMode());
        if (settings.sslRootCert() != null) {
            delegate.setSslRootCert(settings.sslRootCert().toString());
        }
        if (settings.searchPath() != null) {
            // Sent at connection start: the session's default, as Prisma sets it. Each schema quoted, so that ?schema=MyApp is
            // the schema "MyApp" the history goes in, not myapp (the server folds an unquoted name).
            delegate.setCurrentSchema(java.util.Arrays.stream(settings.searchPath().split(",")).map(String::strip)
                    .map(x -> x.equals("$user") ? x : Identifiers.quote(x)).collect(java.util.stream.Collectors.joining(", ")));
        }
        delegate.setApplicationName(stopSignal.applicationName());
        // application_name (and extra_float_digits) in the startup packet, not in a SET after it: one round trip less per
        // session. Every server pgshift supports is far newer than 9.0, where the startup packet learned them.
        delegate.setAssumeMinServerVersion("9.0");
        delegate.setConnectTimeout(10);
        // A connection the server never completes (a proxy that accepts and forwards nothing) fails instead of hanging.
        delegate.setLoginTimeout((int) Math.max(1, Math.min(networkTimeout.toSeconds(), LOGIN_TIMEOUT_SECONDS)));
        delegate.setTcpKeepAlive(true);
        delegate.setSocketFactory(KeepaliveSocketFactory.class.getName());
        delegate.setOptions(serverOptions(lockTimeout));
        // Server-side notices must not be mistaken for errors; keep pgjdbc's defaults otherwise.
    }

    /** The settings every session of the run starts with (also given to pg_dump and pg_restore in PGOPTIONS). */
    public static String serverOptions(java.time.Duration lockTimeout) {
        return "-c lock_timeout=" + lockTimeout.toMillis() + " -c client_connection_check_interval=" + CONNECTION_CHECK_MS
                + " -c idle_session_timeout=0 -c idle_in_transaction_session_timeout=0"
                // the server's side of a dead connection: keepalive probes, and unacknowledged data given up on after a minute
                + " -c tcp_keepalives_idle=" + KeepaliveSocketFactory.IDLE_SECONDS + " -c tcp_keepalives_interval="
                + KeepaliveSocketFactory.INTERVAL_SECONDS + " -c tcp_keepalives_count=" + KeepaliveSocketFactory.COUNT
                + " -c tcp_user_timeout=60000";
    }

    /**
     * Starts this database's heartbeat ({@link Heartbeat}): a session of its own that notices a dead server within the
     * network timeout and stops the run; closing it ends the heartbeat.
     */
    public Beat heartbeat() {
        return Heartbeat.start(this);
    }

    /** A running heartbeat; closing it ends it. */
    public interface Beat extends AutoCloseable {
        @Override
        void close();
    }

    public StopSignal stopSignal() {
        return stopSignal;
    }

    public ConnectionSettings settings() {
        return settings;
    }

    /** A new session; none once the run was stopped (SQLSTATE 57014, as a cancelled statement). */
    @Override
    public Connection getConnection() throws SQLException {
        Connection session = lent.get();
        if (session != null) {
            lent.remove(); // lent once: a second session asked for in the same loan is a new one
            return new LentConnection(session);
        }
        if (stopSignal.stopped() && !afterStop) {
            throw new SQLException("stopped by " + stopSignal.stoppedBy() + ": no new session is opened", "57014");
        }
        Connection c = cleanupConnection();
        if (stopSignal.stopped() && !afterStop) {
            // A stop that came while the session was opening cancelled the run's sessions before this one was registered.
            closeQuietly(c);
            throw new SQLException("stopped by " + stopSignal.stoppedBy() + ": no new session is opened", "57014");
        }
        return c;
    }

    /**
     * Runs {@code body} with {@code session} as what this thread's {@link #getConnection()} returns, closing it only
     * ending the loan: a library given this datasource (Flyway) then works on a session the run has open already, without
     * a session of its own (each new one costs the server a process and the client a SCRAM exchange). The session must
     * be idle and out of any transaction; the library must leave it as it found it (Flyway restores role and search_path).
     */
    public <T> T lend(Connection session, java.util.function.Supplier<T> body) {
        lent.set(session);
        try {
            return body.get();
        } finally {
            lent.remove();
        }
    }

    /** The same database as a datasource that opens sessions after a stop too: for reading what a stopped run did. */
    public Database afterStop() {
        return new Database(this);
    }

    /** Closes {@code c} (null: nothing), ignoring a session that is gone already. */
    public static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                // the session is gone already
            }
        }
    }

    /** A new session also after a stop: for recording what the run did and removing what it half made. */
    public Connection cleanupConnection() throws SQLException {
        if (stopSignal.unanswered()) {
            delegate.setLoginTimeout(UNANSWERED_LOGIN_TIMEOUT_SECONDS); // the server did not answer the run: one short try
        }
        Connection connection = withASlot();
        // Registered for SIGTERM; closed sessions are skipped there, so no wrapper (and no reflection) is needed.
        stopSignal.register(connection);
        return connection;
    }

    /**
     * A new session, waiting (up to the connect timeout) while the server has no connection slot for it: SQLSTATE
     * 53300 is a passing condition (another Job's pool, a burst of clients), not a failure of the run.
     */
    private Connection withASlot() throws SQLException {
        long deadline = System.nanoTime() + slotWait.toNanos();
        boolean said = false;
        while (true) {
            try {
                return delegate.getConnection();
            } catch (SQLException e) {
                if (!"53300".equals(e.getSQLState()) || System.nanoTime() > deadline || stopSignal.stopped()) {
                    throw e;
                }
                if (!said) {
                    org.jboss.logging.Logger.getLogger(Database.class).warnf("no free connection slot on %s for a new session (%s): waiting up "
                            + "to %ds (--connect-timeout)", settings.describe(), e.getMessage(), slotWait.toSeconds());
                    said = true;
                }
                stopSignal.sleep(500);
            }
        }
    }

    /** A session no stop cancels nor closes: the {@link Heartbeat}'s own. */
    Connection unregisteredConnection() throws SQLException {
        return delegate.getConnection();
    }

    @Override
    public Connection getConnection(String username, String password) {
        throw new UnsupportedOperationException("pgshift connects with its resolved settings only");
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
    }

    @Override
    public void setLoginTimeout(int seconds) {
    }

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("not a wrapper for " + iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }
}
