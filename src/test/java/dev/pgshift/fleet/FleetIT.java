package dev.pgshift.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgshift.ExitCode;
import dev.pgshift.Json;
import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.OneMajor;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * pgshift fleet against one real server holding a control database and many tenant databases, with one pgshift process
 * per shard started as an Indexed Job starts its pods (JOB_COMPLETION_INDEX=0..n-1). What a user checks: every tenant
 * migrated exactly once (its history and its data), the exit code each pod gives Kubernetes, what the roll-up says, and
 * that nothing past a halt was touched.
 */
@Tag(OneMajor.TAG)
class FleetIT {
    private static final String TENANTS_SQL = "select name, url from tenant_directory order by name";

    @TempDir
    Path tmp;

    /** A fleet on one server: a control database with a tenant directory, tenant databases owned by one role. */
    private final class Fleet {
        final PgServer server = PgServer.get();
        final TestDb control = server.newDatabase("fleetctl");
        final String role = "fleet_" + UUID.randomUUID().toString().substring(0, 8);
        final String password = "pw-" + UUID.randomUUID();
        final Map<String, String> databases = new LinkedHashMap<>(); // tenant -> database
        final Path passwords;

        Fleet() throws Exception {
            admin("postgres", "create role " + role + " login password '" + password + "'");
            control.execute("create table tenant_directory (name text primary key, url text not null)");
            passwords = Files.createDirectories(tmp.resolve("tenant-passwords"));
            Files.writeString(passwords.resolve("_default"), password + "\n");
            dev.pgshift.testing.PgServer.restrict(passwords.resolve("_default"));
        }

        /** A tenant: its database (a mixed-case name, as PostgreSQL keeps it quoted) and its row in the directory. */
        void tenant(String name, String database) throws Exception {
            admin("postgres", "create database \"" + database + "\" owner " + role);
            admin(database, "alter schema public owner to " + role);
            databases.put(name, database);
            control.execute("insert into tenant_directory values ('" + name + "', 'postgresql://" + role + "@localhost:" + server.port() + "/"
                    + database + "')");
        }

        void admin(String database, String sql) throws Exception {
            try (Connection c = server.admin(database); Statement st = c.createStatement()) {
                st.execute(sql);
            }
        }

        /** One value of a query on a tenant's database, as its role sees it. */
        String tenantScalar(String tenant, String sql) throws Exception {
            Properties p = new Properties();
            p.setProperty("user", role);
            p.setProperty("password", password);
            p.setProperty("sslmode", "disable");
            try (Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://localhost:" + server.port() + "/" + databases.get(tenant), p);
                    Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                return rs.next() ? rs.getString(1) : null;
            }
        }

        /** The applied versions of a tenant's history, one entry per row (a version twice would show twice). */
        String history(String tenant) throws Exception {
            if (tenantScalar(tenant, "select to_regclass('public.flyway_schema_history')") == null) {
                return "";
            }
            return tenantScalar(tenant, "select coalesce(string_agg(version, ',' order by installed_rank), '') from flyway_schema_history where success");
        }

        PgshiftProcess start(String command, Path migrations, Map<String, String> more, String... args) {
            List<String> a = new ArrayList<>(List.of("fleet", command));
            a.addAll(List.of(args));
            if (migrations != null) {
                a.addAll(List.of("--bundled=false", "--migrations", migrations.toString()));
            }
            Map<String, String> env = new HashMap<>(control.env());
            env.putAll(more);
            return PgshiftProcess.start(a, env);
        }

        /** The pods of an Indexed Job: one process per index, all started at once. */
        List<PgshiftProcess> pods(int shards, String release, Path migrations, String waves) {
            List<PgshiftProcess> pods = new ArrayList<>();
            for (int i = 0; i < shards; i++) {
                pods.add(pod(i, shards, release, migrations, waves));
            }
            return pods;
        }

        PgshiftProcess pod(int index, int shards, String release, Path migrations, String waves, String... args) {
            return start("run", migrations, Map.of("JOB_COMPLETION_INDEX", String.valueOf(index), "PGSHIFT_FLEET_SHARDS", String.valueOf(shards),
                    "PGSHIFT_FLEET_RELEASE", release, "PGSHIFT_FLEET_TENANTS_SQL", TENANTS_SQL, "PGSHIFT_FLEET_WAVES", waves,
                    "PGSHIFT_FLEET_TENANT_PASSWORDS", passwords.toString(), "PGSHIFT_TERMINATION_LOG", tmp.resolve("termination-" + release + "-" + index).toString()),
                    args);
        }

        List<List<String>> rows(String release) {
            return control.query("select tenant, status, attempt::text, coalesce(error_class, ''), coalesce(version_after, ''), shard::text, wave::text "
                    + "from pgshift.fleet_tenant where release = '" + release + "' order by position");
        }
    }

    /** Waits until {@code tenant} is being run by {@code pod}. */
    private static void awaitRunning(Fleet f, String tenant, PgshiftProcess pod) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (f.control.scalar("select to_regclass('pgshift.fleet_tenant')") == null || f.control.query("select 1 from pgshift.fleet_tenant "
                + "where tenant = '" + tenant + "' and status = 'running'").isEmpty()) {
            assertTrue(System.nanoTime() < deadline && pod.process().isAlive(), pod.stderrSoFar());
            Thread.sleep(100);
        }
    }

    private static String name(int i) {
        return String.format("Acme.Tenant-%02d", i);
    }

    private Path migrations() throws Exception {
        // V1 gives one tenant (its database's name ends in _dup) a duplicate e-mail: conflicting data V3's constraint refuses.
        return Fixtures.write(tmp.resolve("migrations"),
                "V1__customers.sql", "create table customer (id serial primary key, email text not null);\n"
                        + "insert into customer (email) values ('a@example.com');\n"
                        + "insert into customer (email) select 'a@example.com' where current_database() like '%\\_dup';\n"
                        + "create table ledger (id serial primary key, note text not null);\n"
                        + "insert into ledger (note) values ('v1');\n",
                "V2__ledger_note_idx.sql", "create index concurrently ledger_note_idx on ledger (note);\n",
                "V3__unique_email.sql", "alter table customer add constraint customer_email_key unique (email);\n"
                        + "insert into ledger (note) values ('v3');\n");
    }

    @Test
    void sixtyTenantsSixPodsEachMigratedOnceAndATenantWithConflictingDataFailsItsIndexAlone() throws Exception {
        Fleet f = new Fleet();
        int dup = 40;
        for (int i = 0; i < 60; i++) {
            f.tenant(name(i), "Tenant_" + String.format("%02d", i) + "_" + UUID.randomUUID().toString().substring(0, 6) + (i == dup ? "_dup" : ""));
        }
        Path migrations = migrations();

        long start = System.nanoTime();
        List<PgshiftProcess> pods = f.pods(6, "r1", migrations, "1,10%,rest");
        List<PgshiftProcess.Result> results = new ArrayList<>();
        for (PgshiftProcess p : pods) {
            results.add(p.await(Duration.ofMinutes(4)));
        }
        System.out.printf("60 tenants, 6 processes: %.1f s%n", (System.nanoTime() - start) / 1e9);

        int dupShard = dup % 6;
        for (int i = 0; i < 6; i++) {
            int expected = i == dupShard ? ExitCode.TENANTS_FAILED.code() : 0;
            assertEquals(expected, results.get(i).exitCode(), "index " + i + ":\n" + results.get(i).all());
        }
        for (int i = 0; i < 60; i++) {
            String t = name(i);
            if (i == dup) {
                assertEquals("1,2", f.history(t), "the conflicting tenant kept V1 and V2, and V3 rolled back");
                assertEquals("2", f.tenantScalar(t, "select count(*) from customer"), "its data as it was");
            } else {
                assertEquals("1,2,3", f.history(t), t + " migrated once");
                assertEquals("2", f.tenantScalar(t, "select count(*) from ledger"), t + ": each migration's rows once");
                assertEquals("1", f.tenantScalar(t, "select count(*) from pgshift.run_history where command = 'fleet run'"), t);
            }
        }
        List<List<String>> rows = f.rows("r1");
        assertEquals(60, rows.size());
        for (int i = 0; i < 60; i++) {
            List<String> r = rows.get(i);
            assertEquals(List.of(name(i), i == dup ? "failed" : "succeeded", "1", i == dup ? "23505" : "", i == dup ? "2" : "3",
                    String.valueOf(i % 6), String.valueOf(i == 0 ? 0 : i <= 6 ? 1 : 2)), r);
        }
        // The rest of the failing tenant's shard was done after it (positions 46, 52 and 58 come later in that shard).
        assertTrue(results.get(dupShard).stdout().contains(name(58)), results.get(dupShard).stdout());
        JsonNode termination = Json.MAPPER.readTree(Files.readString(tmp.resolve("termination-r1-" + dupShard)));
        assertEquals(20, termination.get("exitCode").asInt());
        assertEquals(name(dup), termination.get("notSucceeded").get(0).asText());
        assertEquals(9, termination.get("counts").get("succeeded").asInt(), termination.toString());

        PgshiftProcess.Result status = f.start("status", null, Map.of(), "--release", "r1").await(Duration.ofMinutes(1));
        assertEquals(0, status.exitCode(), status.all());
        String out = status.stdout();
        assertTrue(out.contains("failed: 1, succeeded: 59"), out);
        assertTrue(out.contains("2: 1, 3: 59"), out);
        assertTrue(out.contains("23505: 1"), out);
        assertTrue(out.matches("(?s).*duration   p50 \\d+\\.\\d\\ds, p95 \\d+\\.\\d\\ds.*"), out);
        assertTrue(out.contains(name(dup)) && out.contains("customer_email_key") && out.contains("could not create unique index"), out);
        System.out.println(out);
        assertEquals(ExitCode.TENANTS_FAILED.code(), f.start("status", null, Map.of(), "--release", "r1", "--exit-code").await(Duration.ofMinutes(1))
                .exitCode(), "a CI gate on the release");
        PgshiftProcess.Result json = f.start("status", null, Map.of(), "--release", "r1", "--json").await(Duration.ofMinutes(1));
        List<String> lines = json.stdout().lines().toList();
        assertEquals(60, lines.size(), json.all());
        for (String l : lines) {
            JsonNode n = Json.MAPPER.readTree(l);
            assertEquals("r1", n.get("release").asText());
        }

        // A failure is final for the release: the index run again (as after a 75) runs nothing and still fails the index.
        PgshiftProcess.Result again = f.pod(dupShard, 6, "r1", migrations, "1,10%,rest").await(Duration.ofMinutes(2));
        assertEquals(ExitCode.TENANTS_FAILED.code(), again.exitCode(), again.all());
        assertTrue(again.stdout().contains("no tenant run"), again.stdout());
        assertTrue(again.stderr().contains("failed in an earlier attempt and were not run again: " + name(dup)), again.stderr());
        // An operator may run them again: the succeeded tenants are skipped.
        PgshiftProcess.Result rerun = f.pod(dupShard, 6, "r1", migrations, "1,10%,rest", "--retry-failed").await(Duration.ofMinutes(2));
        assertEquals(ExitCode.TENANTS_FAILED.code(), rerun.exitCode(), rerun.all());
        assertEquals(List.of(name(dup)), rerun.stdout().lines().filter(l -> l.startsWith("  ")).map(l -> l.trim().split("\\s+")[0]).toList(),
                rerun.stdout());
        assertEquals("2", f.rows("r1").get(dup).get(2), "the failed tenant's second attempt");
        assertEquals("1", f.rows("r1").get(dup + 6).get(2), "a succeeded tenant is not run again");
    }

    @Test
    void aBadCanaryHaltsTheReleaseAndNoTenantOfTheNextWaveIsTouched() throws Exception {
        Fleet f = new Fleet();
        for (int i = 0; i < 9; i++) {
            f.tenant(name(i), "Canary_" + i + "_" + UUID.randomUUID().toString().substring(0, 6));
        }
        Path bad = Fixtures.write(tmp.resolve("bad"), "V1__ok.sql", "create table account (id int primary key);\n",
                "V2__bad.sql", "alter table account add column owner int references no_such_table (id);\n");
        List<PgshiftProcess> pods = f.pods(3, "canary", bad, "1,rest");
        for (int i = 0; i < 3; i++) {
            PgshiftProcess.Result r = pods.get(i).await(Duration.ofMinutes(2));
            assertEquals(ExitCode.HALTED.code(), r.exitCode(), "index " + i + ":\n" + r.all());
            assertTrue(r.stdout().contains("release halted: the canary wave's tenant " + name(0) + " failed (42P01)"), r.stdout());
        }
        assertEquals("1", f.history(name(0)), "the canary's failed file rolled back");
        for (int i = 1; i < 9; i++) {
            assertEquals("", f.history(name(i)), name(i) + " untouched");
            assertEquals(null, f.tenantScalar(name(i), "select to_regclass('pgshift.run_history')"), name(i) + ": no run of it");
            assertEquals(List.of("pending", "0"), f.rows("canary").get(i).subList(1, 3));
        }
        PgshiftProcess.Result status = f.start("status", null, Map.of(), "--release", "canary").await(Duration.ofMinutes(1));
        assertTrue(status.stdout().contains("HALTED") && status.stdout().contains("failed: 1, pending: 8"), status.stdout());
        assertTrue(status.stdout().contains("1: 1, not run yet: 8"), status.stdout());
        assertEquals(ExitCode.HALTED.code(), f.start("status", null, Map.of(), "--release", "canary", "--exit-code").await(Duration.ofMinutes(1))
                .exitCode());
        // A halted release stays halted: its next pod starts nothing.
        PgshiftProcess.Result again = f.pod(1, 3, "canary", bad, "1,rest").await(Duration.ofMinutes(1));
        assertEquals(ExitCode.HALTED.code(), again.exitCode(), again.all());
        assertEquals("0", f.rows("canary").get(1).get(2));

        // A process with other settings than the frozen release's is refused before touching anyone.
        PgshiftProcess.Result other = f.pod(0, 4, "canary", bad, "1,rest").await(Duration.ofMinutes(1));
        assertEquals(ExitCode.CONFIG.code(), other.exitCode(), other.all());
        assertTrue(other.stderr().contains("release 'canary' was frozen with 3 shards, this process 4"), other.stderr());
        // The same versions with another content (an edited file) are another release too.
        Path edited = Fixtures.write(tmp.resolve("edited"), "V1__ok.sql", "create table account (id int primary key);\n",
                "V2__bad.sql", "alter table account add column owner int;\n");
        PgshiftProcess.Result changed = f.pod(1, 3, "canary", edited, "1,rest").await(Duration.ofMinutes(1));
        assertEquals(ExitCode.CONFIG.code(), changed.exitCode(), changed.all());
        assertTrue(changed.stderr().contains("migrations of another content"), changed.stderr());
        PgshiftProcess.Result unknown = f.start("status", null, Map.of(), "--release", "nope").await(Duration.ofMinutes(1));
        assertEquals(ExitCode.CONFIG.code(), unknown.exitCode(), unknown.all());
        assertTrue(unknown.stderr().contains("no release 'nope'"), unknown.stderr());
    }

    @Test
    void aPasswordInTheTenantListIsRefusedBeforeAnythingIsFrozen() throws Exception {
        Fleet f = new Fleet();
        f.tenant(name(0), "Pw_" + UUID.randomUUID().toString().substring(0, 6));
        f.control.execute("insert into tenant_directory values ('Leaky-1', 'postgresql://app:s3cret-pw@localhost:5432/leaky')");
        PgshiftProcess.Result r = f.pod(0, 1, "leaky", migrations(), "rest").await(Duration.ofMinutes(1));
        assertEquals(ExitCode.CONFIG.code(), r.exitCode(), r.all());
        assertTrue(r.stderr().contains("the URL of tenant 'Leaky-1' holds a password"), r.stderr());
        assertFalse(r.all().contains("s3cret-pw"), "the password is never printed");
        assertEquals(null, f.control.scalar("select to_regclass('pgshift.fleet_release')"), "nothing frozen, nothing created");

        // One database under two names would be migrated by two runs: refused.
        f.control.execute("delete from tenant_directory where name = 'Leaky-1'");
        f.control.execute("insert into tenant_directory select 'Acme.Copy', url from tenant_directory where name = '" + name(0) + "'");
        PgshiftProcess.Result twice = f.pod(0, 1, "twice", migrations(), "rest").await(Duration.ofMinutes(1));
        assertEquals(ExitCode.CONFIG.code(), twice.exitCode(), twice.all());
        assertTrue(twice.stderr().contains("tenants 'Acme.Copy' and '" + name(0) + "' are the same database"), twice.stderr());
        f.control.execute("delete from tenant_directory where name = 'Acme.Copy'");

        // Without a password for a tenant's role, the error says where a tenant's password comes from (not PGPASSWORD,
        // which is the control connection's).
        PgshiftProcess.Result noPassword = f.start("run", migrations(), Map.of("PGSHIFT_FLEET_RELEASE", "nopw", "PGSHIFT_FLEET_TENANTS_SQL", TENANTS_SQL))
                .await(Duration.ofMinutes(1));
        assertEquals(ExitCode.HALTED.code(), noPassword.exitCode(), "the canary failed: " + noPassword.all());
        assertTrue(noPassword.stdout().contains("(tenant '" + name(0) + "'): the server asks for a password")
                && noPassword.stdout().contains("--tenant-passwords / PGSHIFT_FLEET_TENANT_PASSWORDS"), noPassword.stdout());
        assertFalse(noPassword.stdout().contains("PGPASSWORD"), noPassword.stdout());
    }

    /** --tenants-at-once: a shard runs several of its tenants together, each once, and the release's wall time shows it. */
    @Test
    void aShardRunsSeveralTenantsAtOnce() throws Exception {
        Fleet f = new Fleet();
        for (int i = 0; i < 8; i++) {
            f.tenant(name(i), "AtOnce_" + i + "_" + UUID.randomUUID().toString().substring(0, 6));
        }
        Path slow = Fixtures.write(tmp.resolve("slow"), "V1__ledger.sql", "create table ledger (id serial primary key, note text);\n"
                + "insert into ledger (note) values ('v1');\nselect pg_sleep(2);\n");
        PgshiftProcess.Result r = f.start("run", slow, Map.of("PGSHIFT_FLEET_RELEASE", "together", "PGSHIFT_FLEET_TENANTS_SQL", TENANTS_SQL,
                "PGSHIFT_FLEET_WAVES", "rest", "PGSHIFT_FLEET_TENANT_PASSWORDS", f.passwords.toString(), "PGSHIFT_FLEET_TENANTS_AT_ONCE", "4"))
                .await(Duration.ofMinutes(2));
        assertEquals(0, r.exitCode(), r.all());
        for (int i = 0; i < 8; i++) {
            assertEquals("1", f.history(name(i)), name(i));
            assertEquals("1", f.tenantScalar(name(i), "select count(*) from ledger"), name(i) + ": once");
        }
        // Eight tenants of 2 s each: one after another at least 16 s; four at once about 4 s (and JVM and backups).
        String overlapping = f.control.scalar("select count(*) from pgshift.fleet_tenant a join pgshift.fleet_tenant b on a.release = b.release "
                + "and a.tenant < b.tenant and a.started_at < b.finished_at and b.started_at < a.finished_at where a.release = 'together'");
        assertTrue(Integer.parseInt(overlapping) >= 4, "tenant runs overlapped: " + overlapping);
        double wall = Double.parseDouble(f.control.scalar("select extract(epoch from max(finished_at) - min(started_at)) from pgshift.fleet_tenant "
                + "where release = 'together'"));
        assertTrue(wall < 14, "wall time " + wall + " s");
        assertEquals(8, r.stdout().lines().filter(l -> l.startsWith("  ") && l.contains(" succeeded ")).count(), r.stdout());
    }

    /** A pod waiting for the canary on another shard stops at once on SIGTERM (75), touching nothing. */
    @Test
    void aPodWaitingForTheCanaryStopsOnSigterm() throws Exception {
        Fleet f = new Fleet();
        for (int i = 0; i < 2; i++) {
            f.tenant(name(i), "Wait_" + i + "_" + UUID.randomUUID().toString().substring(0, 6));
        }
        Path slow = Fixtures.write(tmp.resolve("slow"), "V1__slow.sql", "create table t (id int);\nselect pg_sleep(6);\n");
        PgshiftProcess canary = f.pod(0, 2, "wait", slow, "1,rest");
        awaitRunning(f, name(0), canary);
        PgshiftProcess waiting = f.pod(1, 2, "wait", slow, "1,rest");
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (!waiting.stderrSoFar().contains("wave 0: waiting for 1 tenant(s) on other shards")) {
            assertTrue(System.nanoTime() < deadline && waiting.process().isAlive(), waiting.stderrSoFar());
            Thread.sleep(100);
        }
        long signalled = System.nanoTime();
        waiting.signal("TERM");
        PgshiftProcess.Result r = waiting.await(Duration.ofSeconds(30));
        assertEquals(75, r.exitCode(), r.all());
        assertTrue((System.nanoTime() - signalled) / 1e9 < 3, "stopped at once, not after the canary");
        assertEquals(List.of("pending", "0"), f.rows("wait").get(1).subList(1, 3));
        assertEquals(0, canary.await(Duration.ofMinutes(1)).exitCode());
    }

    @Test
    void aKilledPodsTenantsAreRunByTheIndexsNextPodAndNoneTwice() throws Exception {
        Fleet f = new Fleet();
        for (int i = 0; i < 6; i++) {
            f.tenant(name(i), "Kill_" + i + "_" + UUID.randomUUID().toString().substring(0, 6));
        }
        Path slow = Fixtures.write(tmp.resolve("slow"), "V1__ledger.sql", "create table ledger (id serial primary key, note text);\n"
                + "insert into ledger (note) values ('v1');\nselect pg_sleep(1.5);\n",
                "V2__idx.sql", "create index concurrently ledger_note_idx on ledger (note);\n");
        // SIGTERM (a drain) in the shard's first tenant: that tenant's run stops as a single run stops (75, recorded retry),
        // and so does the pod, with its termination message.
        PgshiftProcess drained = f.pod(1, 2, "kill", slow, "rest");
        awaitRunning(f, name(1), drained);
        drained.signal("TERM");
        PgshiftProcess.Result stopped = drained.await(Duration.ofSeconds(60));
        assertEquals(75, stopped.exitCode(), stopped.all());
        assertEquals(List.of("retry", "1"), f.rows("kill").get(1).subList(1, 3));
        assertEquals(75, Json.MAPPER.readTree(Files.readString(tmp.resolve("termination-kill-1"))).get("exitCode").asInt());
        assertEquals("", f.history(name(1)), "its first file rolled back");

        // SIGKILL (a node lost) in the shard's second tenant: it stays running until the index's next pod runs it.
        PgshiftProcess victim = f.pod(1, 2, "kill", slow, "rest");
        awaitRunning(f, name(3), victim);
        Thread.sleep(500);
        victim.signal("KILL");
        victim.await(Duration.ofSeconds(30));
        assertEquals(List.of("succeeded", "running"), List.of(f.rows("kill").get(1).get(1), f.rows("kill").get(3).get(1)));
        long gone = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        String shown;
        do { // the killed pod's session ends when the server notices (at once for an idle one)
            shown = f.start("status", null, Map.of(), "--release", "kill").await(Duration.ofMinutes(1)).stdout();
        } while (!shown.contains("no pod holds shard 1") && System.nanoTime() < gone);
        assertTrue(shown.contains(name(3)) && shown.contains("running, but no pod holds shard 1 now"), shown);

        List<PgshiftProcess.Result> results = List.of(f.pod(1, 2, "kill", slow, "rest").await(Duration.ofMinutes(2)),
                f.pod(0, 2, "kill", slow, "rest").await(Duration.ofMinutes(2)));
        for (PgshiftProcess.Result r : results) {
            assertEquals(0, r.exitCode(), r.all());
        }
        for (int i = 0; i < 6; i++) {
            assertEquals("1,2", f.history(name(i)), name(i));
            assertEquals("1", f.tenantScalar(name(i), "select count(*) from ledger"), name(i) + ": V1's row once");
        }
        List<List<String>> rows = f.rows("kill");
        assertEquals("2", rows.get(1).get(2), "stopped once, then done before the kill: not run again");
        assertEquals("2", rows.get(3).get(2), "the killed tenant's second attempt");
    }
}
