package dev.pgshift.testing;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * The pg_dump (with pg_restore beside it) the tests give pgshift: of the server's major or newer, since pg_dump refuses a
 * server newer than itself. {@code .ci/pg-clients.sh --server <pg.version>} fetches it into a cache and names it in
 * target/pg-clients.properties; the build runs that before the integration tests.
 */
public final class PgClients {
    private static final Path FILE = Path.of("target/pg-clients.properties");
    private static Properties properties;

    private PgClients() {
    }

    private static synchronized Properties properties() {
        if (properties == null) {
            String version = System.getProperty("pg.version", "15.14.0");
            if (!Files.exists(FILE)) {
                throw new IllegalStateException(FILE + " missing: the build writes it before the integration tests (./mvnw verify), "
                        + "or write it yourself with .ci/pg-clients.sh --server " + version + " " + FILE);
            }
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(FILE)) {
                p.load(r);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            String major = version.replaceFirst("\\..*", "");
            if (!major.equals(p.getProperty("server.major"))) {
                throw new IllegalStateException(FILE + " names the clients for a PostgreSQL " + p.getProperty("server.major")
                        + " server, but the tests run PostgreSQL " + version + ": run .ci/pg-clients.sh --server " + version + " " + FILE);
            }
            properties = p;
        }
        return properties;
    }

    /** The pg_dump for the suite's server (PgServer.get()): its major, or the nearest newer one there is. */
    public static Path pgDump() {
        return Path.of(properties().getProperty("pg_dump"));
    }

    /** pg_basebackup of the same major as {@link #pgDump}: of the server's major or newer, which it needs. */
    public static Path pgBasebackup() {
        return pgDump().resolveSibling("pg_basebackup");
    }

    public static Path pgRestore() {
        return pgDump().resolveSibling("pg_restore");
    }

    /** A real pg_dump of a major older than the suite's server, where one is at hand (for servers 16 to 18). */
    public static Optional<Path> olderPgDump() {
        return Optional.ofNullable(properties().getProperty("older.pg_dump")).map(Path::of);
    }

    /**
     * Whether the suite's pg_restore can restore into a server of {@code serverMajor}: pg_restore 17 and later cannot
     * into a server before 17, and pgshift refuses that (exit 4). It happens for a server 16, for which Debian has no
     * client 16 any more: the tests get pg_dump 17, which backs it up but cannot restore into it.
     */
    public static boolean restoresInto(int serverMajor) {
        return major(pgDump()) < 17 || serverMajor >= 17;
    }

    /** Why a test that restores is skipped where {@link #restoresInto} says no. */
    public static String noRestoreReason(int serverMajor) {
        return "no pg_restore here can restore into PostgreSQL " + serverMajor + " (pg_restore " + major(pgDump())
                + " sets transaction_timeout, unknown before 17, and pgshift refuses it; BackupIT tests that refusal)";
    }

    /** The major of a pg_dump, from its --version. */
    public static int major(Path pgDump) {
        try {
            Process p = new ProcessBuilder(pgDump.toString(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            if (p.waitFor() != 0 || !out.matches("(?s).*\\(PostgreSQL\\) \\d+.*")) {
                throw new IllegalStateException(pgDump + " --version: " + out);
            }
            return Integer.parseInt(out.replaceFirst("(?s).*\\(PostgreSQL\\) (\\d+).*", "$1"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
