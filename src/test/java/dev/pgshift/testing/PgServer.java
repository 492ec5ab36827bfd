package dev.pgshift.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL server for the tests (zonky embedded binaries of the major given by -Dpg.version), one per test JVM.
 * Password authentication (scram) for every role but the superuser, TLS on with a certificate from a test CA, so that
 * tests see what production sees. Each test class gets its own role and database from {@link #newDatabase(String)}.
 */
public final class PgServer {
    private static PgServer instance;
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final EmbeddedPostgres pg;
    private final TestCerts certs;

    private PgServer(EmbeddedPostgres pg, TestCerts certs) {
        this.pg = pg;
        this.certs = certs;
    }

    public static synchronized PgServer get() {
        if (instance == null) {
            instance = start(0, null);
        }
        return instance;
    }

    /** A server of its own, e.g. on a port chosen in advance (a database that comes up late). */
    public static PgServer start(int port, Path dataDir) {
        return start(port, dataDir, java.util.Map.of());
    }

    /** A server of its own with more server settings (e.g. WAL archiving), given on its command line. */
    public static PgServer start(int port, Path dataDir, java.util.Map<String, String> config) {
        try {
            TestCerts certs = TestCerts.get();
            EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                    .setServerConfig("ssl", "on")
                    .setServerConfig("ssl_cert_file", certs.serverCert().toString())
                    .setServerConfig("ssl_key_file", certs.serverKey().toString())
                    .setServerConfig("max_connections", "100")
                    .setServerConfig("password_encryption", "scram-sha-256")
                    .setDataDirectoryCustomizer(dir -> writeHba(dir.toPath()));
            config.forEach(b::setServerConfig);
            if (port > 0) {
                b.setPort(port);
            }
            if (dataDir != null) {
                b.setDataDirectory(dataDir).setCleanDataDirectory(false);
            }
            return new PgServer(b.start(), certs);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeHba(Path dir) {
        try {
            Files.writeString(dir.resolve("pg_hba.conf"), String.join("\n",
                    "local all all trust",
                    "host all postgres 127.0.0.1/32 trust",
                    "host all postgres ::1/128 trust",
                    "host replication postgres 127.0.0.1/32 trust", // a standby of a server of the tests' own (BackfillReplicaIT)
                    "host all all 127.0.0.1/32 scram-sha-256",
                    "host all all ::1/128 scram-sha-256", ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return pg.getPort();
    }

    /** The server's major version (14 to 18). */
    public int major() {
        try (Connection c = admin("postgres"); Statement st = c.createStatement();
                var rs = st.executeQuery("select current_setting('server_version_num')::int / 10000")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public TestCerts certs() {
        return certs;
    }

    /** A superuser session on {@code database}. */
    public Connection admin(String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("sslmode", "disable");
        return DriverManager.getConnection("jdbc:postgresql://localhost:" + port() + "/" + database, p);
    }

    /** A fresh role (with a random password) and a database it owns. */
    public TestDb newDatabase(String prefix) {
        String name = (prefix + "_" + COUNTER.incrementAndGet() + "_" + UUID.randomUUID().toString().substring(0, 6)).toLowerCase();
        String password = "pw-" + UUID.randomUUID();
        try (Connection c = admin("postgres"); Statement st = c.createStatement()) {
            st.execute("create role " + name + " login password '" + password + "'");
            st.execute("create database " + name + " owner " + name);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        try (Connection c = admin(name); Statement st = c.createStatement()) {
            st.execute("alter schema public owner to " + name);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return new TestDb(this, name, name, password);
    }

    public void stop() {
        try {
            pg.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void restrict(Path p) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
    }
}
