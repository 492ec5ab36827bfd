package dev.pgshift.config;

import java.nio.file.Path;

/** Where and how to connect; {@link #toString()} never shows the password. */
public record ConnectionSettings(
        String host,
        int port,
        String database,
        String user,
        String password,
        String sslMode,
        Path sslRootCert) {

    /** The same server and credentials, another database (a scratch or restore target). */
    public ConnectionSettings withDatabase(String other) {
        return new ConnectionSettings(host, port, other, user, password, sslMode, sslRootCert);
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
