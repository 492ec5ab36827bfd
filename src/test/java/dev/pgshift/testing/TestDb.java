package dev.pgshift.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** One test's database: its own role with a password, and helpers to read what a user would check. */
public record TestDb(PgServer server, String name, String user, String password) {

    public String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + server.port() + "/" + name;
    }

    /** Environment for a pgshift process: libpq variables, the password in PGPASSWORD. */
    public Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGHOST", "localhost");
        env.put("PGPORT", String.valueOf(server.port()));
        env.put("PGDATABASE", name);
        env.put("PGUSER", user);
        env.put("PGPASSWORD", password);
        env.put("PGSSLMODE", "disable");
        return env;
    }

    /** The password in a 0600 file, for --password-file. */
    public Path passwordFile(Path dir) {
        try {
            Path f = dir.resolve(name + ".pw");
            Files.writeString(f, password + "\n");
            PgServer.restrict(f);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Flags that connect pgshift to this database (password through a file). */
    public List<String> flags(Path dir) {
        return new ArrayList<>(List.of("--url", jdbcUrl() + "?sslmode=disable", "--user", user,
                "--password-file", passwordFile(dir).toString(), "--connect-timeout", "5s"));
    }

    public Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("sslmode", "disable");
        return DriverManager.getConnection(jdbcUrl(), p);
    }

    public void execute(String sql) {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Rows of {@code sql}, each as a list of strings. */
    public List<List<String>> query(String sql) {
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            List<List<String>> rows = new ArrayList<>();
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                rows.add(row);
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public String scalar(String sql) {
        List<List<String>> rows = query(sql);
        return rows.isEmpty() ? null : rows.get(0).get(0);
    }

    /** Successful versions in Flyway's history, in order. */
    public List<String> appliedVersions() {
        if (scalar("select to_regclass('public.flyway_schema_history')") == null) {
            return List.of();
        }
        return query("select version from flyway_schema_history where success and version is not null order by installed_rank")
                .stream().map(r -> r.get(0)).toList();
    }

    /**
     * Tables, indexes (with validity), constraints and columns of the public schema: what "exactly as before" means.
     */
    public String catalogSnapshot() {
        return query("select 'table ' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                + "where n.nspname = 'public' and c.relkind = 'r' "
                + "union all select 'index ' || i.indexrelid::regclass || ' valid=' || i.indisvalid from pg_index i "
                + "join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' "
                + "union all select 'constraint ' || conname || ' validated=' || convalidated from pg_constraint co "
                + "join pg_namespace n on n.oid = co.connamespace where n.nspname = 'public' "
                + "union all select 'column ' || table_name || '.' || column_name || ' ' || data_type from information_schema.columns "
                + "where table_schema = 'public' order by 1").toString();
    }

    /** Waits until a pgshift session runs a statement containing {@code fragment}. */
    public void awaitActive(String fragment) throws InterruptedException {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(60).toNanos();
        while (query("select 1 from pg_stat_activity where application_name like 'pgshift%' and state = 'active' and query like '%"
                + fragment.replace("'", "''") + "%'").isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("pgshift never ran " + fragment);
            }
            Thread.sleep(50);
        }
    }

    /**
     * What a build stopped half-way leaves: runs {@code sql} on {@code st} (another thread), waits until it is parked on a
     * lock (behind an open writer or an old snapshot the caller holds), then cancels it.
     */
    public void interruptWhenParked(Statement st, String sql) throws Exception {
        int pid;
        try (ResultSet rs = st.executeQuery("select pg_backend_pid()")) {
            rs.next();
            pid = rs.getInt(1);
        }
        Thread t = new Thread(() -> {
            try {
                st.execute(sql);
            } catch (SQLException e) {
                // cancelled, as intended
            }
        });
        t.start();
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
        while (query("select 1 from pg_stat_activity where pid = " + pid + " and wait_event_type = 'Lock'").isEmpty()) {
            if (System.nanoTime() > deadline || !t.isAlive()) {
                throw new AssertionError("never parked behind the open transaction: " + sql);
            }
            Thread.sleep(20);
        }
        execute("select pg_cancel_backend(" + pid + ")");
        t.join(10_000);
    }
}
