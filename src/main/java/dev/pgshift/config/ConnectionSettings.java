package dev.pgshift.config;

import java.nio.file.Path;

/**
 * Where and how to connect; {@link #toString()} never shows the password.
 *
 * @param searchPath the session's search_path from the URL's {@code schema} (Prisma) or {@code currentSchema} (JDBC)
 *                   parameter; null: the role's and the database's own
 * @param tenant     the fleet tenant this connection is to (its URL from the tenant list, its password from the fleet's
 *                   password directory), for messages that say where to fix it; null for pgshift's own connection settings
 */
public record ConnectionSettings(
        String host,
        int port,
        String database,
        String user,
        String password,
        String sslMode,
        Path sslRootCert,
        String searchPath,
        String tenant) {

    /** The same server and credentials, another database (a scratch or restore target). */
    public ConnectionSettings withDatabase(String other) {
        return new ConnectionSettings(host, port, other, user, password, sslMode, sslRootCert, searchPath, tenant);
    }

    /** Host, port and database for logs and reports: no user, no password. */
    public String describe() {
        return host + ":" + port + "/" + database;
    }

    @Override
    public String toString() {
        return "ConnectionSettings[" + describe() + ", user=" + user + ", password=" + (password == null ? "<none>" : "<redacted>")
                + ", sslmode=" + sslMode + "]";
    }
}
