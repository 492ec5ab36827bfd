package dev.pgshift.db;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Waits for the database to accept connections: in Kubernetes the job often starts beside a database that is still
 * coming up. Retries with backoff up to a deadline and then gives up with exit 75 (Kubernetes may retry the Job).
 * Errors that waiting cannot fix (bad password, unknown database, TLS verification) stop at once with exit 3.
 */
public final class DatabaseWaiter {
    private static final Logger LOG = Logger.getLogger(DatabaseWaiter.class);

    /** SQLSTATEs that no amount of waiting fixes. */
    private static final Set<String> PERMANENT = Set.of("28P01", "28000", "3D000", "42501");

    private final Database database;
    private final StopSignal stopSignal;

    public DatabaseWaiter(Database database, StopSignal stopSignal) {
        this.database = database;
        this.stopSignal = stopSignal;
    }

    public Connection connect(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long backoffMs = 250;
        int attempt = 0;
        while (true) {
            attempt++;
            try {
                Connection c = database.getConnection();
                if (attempt > 1) {
                    LOG.infof("database %s reachable after %d attempts", database.settings().describe(), attempt);
                }
                return c;
            } catch (SQLException e) {
                String reason = describe(e);
                if (noPassword(e) && database.settings().tenant() != null) {
                    throw new PgshiftException(ExitCode.CONFIG, "cannot connect to " + database.settings().describe() + " as "
                            + database.settings().user() + " (tenant '" + database.settings().tenant() + "'): the server asks for a password "
                            + "and none was given. A tenant's password comes from the file named as the tenant (or _default) in the "
                            + "directory --tenant-passwords / PGSHIFT_FLEET_TENANT_PASSWORDS names (a mounted Secret), from the control "
                            + "connection where the tenant's user and server are the same, or from a password file (PGPASSFILE, else ~/.pgpass)");
                }
                if (noPassword(e)) {
                    throw new PgshiftException(ExitCode.CONFIG, "cannot connect to " + database.settings().describe() + " as "
                            + database.settings().user() + ": the server asks for a password and none was given. pgshift takes it from "
                            + "PGPASSWORD (or password= in the --config file), from the file named by --password-file / "
                            + "PGSHIFT_PASSWORD_FILE (a mounted Secret), from the URL in PGSHIFT_URL / DATABASE_URL, or from a password file "
                            + "(PGPASSFILE, else ~/.pgpass); none of them holds one. If it comes from a Kubernetes Secret, check the "
                            + "Secret's key and the pod's env or volume.");
                }
                if (isPermanent(e)) {
                    String mode = database.settings().sslMode();
                    throw new PgshiftException(ExitCode.CONFIG, "cannot connect to " + database.settings().describe() + " as "
                            + database.settings().user() + ": " + reason + (mode != null && mode.startsWith("verify")
                                    && !String.valueOf(e.getSQLState()).startsWith("28") // an authentication failure is no certificate's
                                    ? "; sslmode " + mode + " checks the server's certificate against the CA file given by --sslrootcert, "
                                            + "PGSSLROOTCERT or the URL's sslrootcert" : ""), e);
                }
                long left = deadline - System.nanoTime();
                stopSignal.checkStop("while waiting for the database (" + reason + ")");
                String nobody = nobodyThere(e);
                if (left <= 0) {
                    throw new PgshiftException(ExitCode.TEMPORARY, nobody != null
                            ? "no server answered within " + timeout.toSeconds() + "s (" + attempt + " attempts): " + nobody + ". Check the "
                                    + (database.settings().tenant() != null ? "host and port in tenant '" + database.settings().tenant() + "''s URL (the tenant list)"
                                    : "host and port (--host, --port, PGHOST/PGPORT or the URL)") + "; if the server is only starting and needs longer, "
                                    + "raise --connect-timeout"
                            : "database " + database.settings().describe() + " not reachable within " + timeout.toSeconds() + "s (" + attempt
                                    + " attempts; last error: " + reason + "); raise --connect-timeout if it needs longer to start");
                }
                if (attempt == 1 && nobody != null) {
                    LOG.warnf("%s: waiting up to %ds for a server to start there (--connect-timeout); if one should be running, check the "
                            + "host and port", nobody, timeout.toSeconds());
                }
                long sleep = Math.min(backoffMs, left / 1_000_000 + 1);
                LOG.infof("waiting for database %s (attempt %d): %s; next try in %d ms", database.settings().describe(), attempt, reason, sleep);
                stopSignal.sleep(sleep);
                backoffMs = Math.min(backoffMs * 2, 5_000);
            }
        }
    }

    /**
     * Where no server answers at all, in words: nothing accepts connections at host:port (a server not started yet, or a
     * mistyped port), or the host name does not resolve (a Service not created yet, or a typo); null for other failures.
     */
    private String nobodyThere(SQLException e) {
        String at = database.settings().host() + ":" + database.settings().port();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException) {
                return "nothing accepts connections at " + at + " (connection refused)";
            }
            if (t instanceof java.net.UnknownHostException) {
                return "the host name " + dev.pgshift.Printable.escape(database.settings().host()) + " does not resolve";
            }
        }
        return null;
    }

    /** pgjdbc's words when the server asks for a password and the connection has none (SQLSTATE 08004). */
    static boolean noPassword(SQLException e) {
        return e.getMessage() != null && e.getMessage().contains("no password was provided");
    }

    static boolean isPermanent(SQLException e) {
        if (e.getSQLState() != null && PERMANENT.contains(e.getSQLState())) {
            return true;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException || t instanceof java.security.cert.CertificateException
                    || t instanceof java.security.GeneralSecurityException || t instanceof java.io.FileNotFoundException) {
                // a certificate that does not verify, or a CA file that is not there: waiting changes neither
                return true;
            }
            String m = t.getMessage();
            if (m != null && (m.contains("does not support SSL") || m.contains("sslrootcert") || m.contains("The hostname"))) {
                return true;
            }
        }
        return false;
    }

    /** The error and its innermost cause, which for TLS failures is the part that says what is wrong. */
    public static String describe(SQLException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = e.getMessage();
        if (root != e && root.getMessage() != null) {
            msg = msg + " (" + root.getMessage() + ")";
        }
        return msg + (e.getSQLState() != null ? " [SQLSTATE " + e.getSQLState() + "]" : "");
    }
}
