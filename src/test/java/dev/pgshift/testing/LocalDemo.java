package dev.pgshift.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The README's first command: starts a throwaway local PostgreSQL (data kept in target/demo-pg, so a second run shows
 * nothing pending), runs {@code pgshift run} with the bundled Character Creation Platform migrations against it, prints
 * the outcome and stops the server. Extra arguments go to pgshift (e.g. {@code -Dexec.args="plan"}).
 */
public final class LocalDemo {

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of("target/demo-pg").toAbsolutePath();
        boolean fresh = !Files.exists(dataDir.resolve("PG_VERSION"));
        System.err.println("[demo] starting a throwaway PostgreSQL in " + dataDir + (fresh ? " (new)" : " (kept from the last run)"));
        PgServer server = PgServer.start(0, dataDir);
        int code;
        try {
            String password = "demo-password";
            try (Connection c = server.admin("postgres"); Statement st = c.createStatement()) {
                if (fresh || !st.executeQuery("select 1 from pg_roles where rolname = 'platform'").next()) {
                    st.execute("create role platform login password '" + password + "'");
                    st.execute("create database platform owner platform");
                }
            }
            TestDb db = new TestDb(server, "platform", "platform", password);
            List<String> pgshiftArgs = new ArrayList<>(args.length == 0 ? List.of("run") : List.of(args));
            List<String> cmd = PgshiftProcess.command();
            cmd.addAll(pgshiftArgs);
            System.err.println("[demo] " + String.join(" ", pgshiftArgs) + " against postgresql://platform@localhost:" + server.port() + "/platform");
            ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
            pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
            pb.environment().putAll(db.env());
            pb.environment().put("JAVA_HOME", System.getProperty("java.home")); // the launcher's JVM: the one that built it
            pb.environment().putIfAbsent("PGSHIFT_BACKUP_DIR", Path.of("target/demo-backups").toAbsolutePath().toString());
            code = pb.start().waitFor();
            System.err.println("[demo] pgshift exited " + code + "; stopping PostgreSQL (delete " + dataDir + " to start from an empty database)");
        } finally {
            server.stop();
        }
        System.exit(code);
    }
}
