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
 * command-line settings). Every session carries application_name=pgshift, so a DBA sees who holds what, and is
 * registered with the {@link StopSignal} so SIGTERM can cancel its statement.
 */
public final class Database implements DataSource {
    public static final String APPLICATION_NAME = "pgshift";

    private final ConnectionSettings settings;
    private final StopSignal stopSignal;
    private final PGSimpleDataSource delegate = new PGSimpleDataSource();

    /** The database the resolved settings name, with their lock_timeout: what every command connects to. */
    public static Database of(Settings settings, StopSignal stopSignal) {
        return new Database(settings.connection(), settings.lockTimeout(), stopSignal);
    }

    /**
     * @param lockTimeout the session's lock_timeout: ordinary DDL waiting longer for a lock gives up instead of queueing
     *                    every query of the application behind it. Concurrent builds switch it off on their session.
     */
    public Database(ConnectionSettings settings, java.time.Duration lockTimeout, StopSignal stopSignal) {
        this.settings = settings;
        this.stopSignal = stopSignal;
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
            delegate.setCurrentSchema(settings.searchPath()); // sent at connection start: the session's default, as Prisma sets it
        }
        delegate.setApplicationName(APPLICATION_NAME);
        delegate.setConnectTimeout(10);
        delegate.setOptions("-c lock_timeout=" + lockTimeout.toMillis());
        // Server-side notices must not be mistaken for errors; keep pgjdbc's defaults otherwise.
    }

    public ConnectionSettings settings() {
        return settings;
    }

    @Override
    public Connection getConnection() throws SQLException {
        Connection connection = delegate.getConnection();
        // Registered for SIGTERM; closed sessions are skipped there, so no wrapper (and no reflection) is needed.
        stopSignal.register(connection);
        return connection;
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
