package dev.pgshift.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgshift.report.ReportSchema;
import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.PgClients;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The platform's workflow: adopting a Prisma history, rollback scripts, rehearsal on a copy, reset. */
class WorkflowIT {
    @TempDir
    Path tmp;

    private Path dir;

    private void write(String path, String sql) throws Exception {
        Path p = dir.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, sql);
    }

    private List<String> args(String command, String... more) {
        return Fixtures.args(command, dir, more);
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    /** A database as `prisma migrate deploy` leaves it: the SQL applied, _prisma_migrations filled as Prisma fills it. */
    private TestDb prismaMigrated() throws Exception {
        dir = Files.createDirectories(tmp.resolve("prisma"));
        String init = "CREATE TABLE \"audit\" (\"note\" TEXT NOT NULL);\n";
        String seed = "-- re-running this would leave a second row: the visible trace of a re-execution\nINSERT INTO \"audit\" VALUES ('seeded');\n";
        write("20240101000000_init/migration.sql", init);
        write("20240102000000_seed/migration.sql", seed);
        write("migration_lock.toml", "provider = \"postgresql\"\n");
        TestDb db = PgServer.get().newDatabase("prisma");
        db.execute("CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, "
                + "finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, "
                + "started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)");
        db.execute(init);
        db.execute("INSERT INTO _prisma_migrations VALUES ('a1', '" + sha256(init) + "', now(), '20240101000000_init', NULL, NULL, now() - interval '3 min', 1)");
        // A failed attempt (marked rolled back with `prisma migrate resolve`), then the successful one.
        db.execute("INSERT INTO _prisma_migrations VALUES ('a2', '" + sha256(seed) + "', NULL, '20240102000000_seed', 'error: lock timeout', "
                + "now() - interval '1 min', now() - interval '2 min', 0)");
        db.execute(seed);
        db.execute("INSERT INTO _prisma_migrations VALUES ('a3', '" + sha256(seed) + "', now(), '20240102000000_seed', NULL, NULL, now(), 1)");
        return db;
    }

    @Test
    void adoptsWhatPrismaAppliedWithoutRunningItAndRunsWhatIsNew() throws Exception {
        TestDb db = prismaMigrated();
        write("20240103000000_more/migration.sql", "INSERT INTO \"audit\" VALUES ('more');\n");
        write("20240104000000_abandoned/migration.sql", "INSERT INTO \"audit\" VALUES ('abandoned, then fixed');\n");
        db.execute("INSERT INTO _prisma_migrations VALUES ('a4', 'x', NULL, '20240104000000_abandoned', 'failed', now(), now(), 0)");

        Result plan = PgshiftProcess.run(args("plan", "--json"), db.env());
        assertEquals(0, plan.exitCode(), plan.toString());
        JsonNode p = new ObjectMapper().readTree(plan.stdout());
        List<String> states = new ArrayList<>();
        p.get("migrations").forEach(m -> states.add(m.get("version").asText() + ":" + m.get("state").asText()));
        assertEquals(List.of("20240101000000.1:adopt", "20240102000000.1:adopt", "20240103000000.1:pending", "20240104000000.1:pending"), states);
        assertTrue(p.get("notes").get(0).asText().contains("20240104000000_abandoned: rolled back"), p.toString());

        Path report = tmp.resolve("report.json");
        Result run = PgshiftProcess.run(args("run", "--report-file", report.toString()), db.env());
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals(List.of(List.of("seeded"), List.of("more"), List.of("abandoned, then fixed")),
                db.query("select note from audit order by ctid"), "nothing Prisma applied ran again");
        assertEquals(List.of("20240101000000.1", "20240102000000.1", "20240103000000.1", "20240104000000.1"), db.appliedVersions());
        // Recorded with their checksums. Not "execution_time = 0": Flyway times even a skipped migration, and on a busy
        // machine that took 1 ms (seen on PostgreSQL 16); that nothing ran again is what the audit rows above show.
        assertEquals("2", db.scalar("select count(*) from flyway_schema_history where checksum is not null and version like '2024010%' "
                + "and version < '20240103'"));
        ReportSchema.assertValid(Files.readString(report));
        Result again = PgshiftProcess.run(args("run"), db.env());
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.stdout().contains("applied   none"), again.stdout());
    }

    @Test
    void aFileChangedAfterPrismaAppliedItStopsTheRun() throws Exception {
        TestDb db = prismaMigrated();
        write("20240102000000_seed/migration.sql", "INSERT INTO \"audit\" VALUES ('seeded differently');\n");
        String before = db.catalogSnapshot();
        Result r = PgshiftProcess.run(args("run"), db.env());
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("20240102000000_seed/migration.sql (folder 20240102000000_seed): the file's sha256 is "), r.stderr());
        assertEquals(before, db.catalogSnapshot());
        assertEquals(List.of(), db.appliedVersions());
        Result forced = PgshiftProcess.run(args("run", "--adopt-ignore-checksums"), db.env());
        assertEquals(0, forced.exitCode(), forced.toString());
        assertEquals(List.of(List.of("seeded")), db.query("select note from audit"));
    }

    @Test
    void rollbackReturnsToTheCatalogOfThatVersionIncludingAConcurrentDrop() throws Exception {
        dir = Files.createDirectories(tmp.resolve("rb"));
        write("V1__t.sql", "CREATE TABLE t (id int PRIMARY KEY, val int);\n");
        write("V2__col.sql", "ALTER TABLE t ADD COLUMN note text;\n");
        write("V2__col.rollback.sql", "ALTER TABLE t DROP COLUMN note;\n");
        write("V3__idx.sql", "CREATE INDEX CONCURRENTLY t_note_idx ON t (note);\n");
        write("V3__idx.rollback.sql", "DROP INDEX CONCURRENTLY IF EXISTS t_note_idx;\n");
        TestDb db = PgServer.get().newDatabase("rollback");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        // The catalog at version 1, taken on a twin database migrated only that far.
        TestDb twin = PgServer.get().newDatabase("rollbacktwin");
        Path v1 = Files.createDirectories(tmp.resolve("v1"));
        Files.copy(dir.resolve("V1__t.sql"), v1.resolve("V1__t.sql"));
        assertEquals(0, PgshiftProcess.run(List.of("migrate", "--bundled=false", "--migrations", v1.toString()), twin.env()).exitCode());

        Result plan = PgshiftProcess.run(args("plan", "--rollback", "--to", "1"), db.env());
        assertEquals(0, plan.exitCode(), plan.toString());
        assertTrue(plan.stdout().matches("(?s).*3 +outside transaction .*V3__idx.rollback.sql.*2 +transaction .*V2__col.rollback.sql.*"), plan.stdout());

        Result r = PgshiftProcess.run(args("rollback", "--to", "1"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(twin.catalogSnapshot(), db.catalogSnapshot());
        assertEquals(List.of("1"), db.appliedVersions());
        assertTrue(r.stdout().matches("(?s).*backup +SUCCEEDED.*rollback +SUCCEEDED.*"), "backs up first: " + r.stdout());

        Result forward = PgshiftProcess.run(args("run"), db.env());
        assertEquals(0, forward.exitCode(), "and forward again: " + forward);
        assertEquals(List.of("1", "2", "3"), db.appliedVersions());
    }

    @Test
    void theBundledPlatformMigrationsRollBackToTheirFirstVersionAndForwardAgain() throws Exception {
        TestDb db = PgServer.get().newDatabase("platformrb");
        assertEquals(0, PgshiftProcess.run(List.of("run"), db.env()).exitCode());
        TestDb twin = PgServer.get().newDatabase("platformtwin");
        Path first = Files.createDirectories(tmp.resolve("first/20240110120000_init"));
        Files.copy(Path.of("src/main/resources/db/migration/20240110120000_init/migration.sql"), first.resolve("migration.sql"));
        assertEquals(0, PgshiftProcess.run(List.of("migrate", "--bundled=false", "--migrations", first.getParent().toString()), twin.env())
                .exitCode());

        Result r = PgshiftProcess.run(List.of("rollback", "--to", "20240110120000.1"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(twin.catalogSnapshot(), db.catalogSnapshot());
        assertEquals(List.of("20240110120000.1"), db.appliedVersions());
        Result forward = PgshiftProcess.run(List.of("run"), db.env());
        assertEquals(0, forward.exitCode(), forward.toString());
        assertEquals(5, db.appliedVersions().size());
    }

    @Test
    void aMissingRollbackScriptRefusesBeforeAnythingChanges() throws Exception {
        dir = Files.createDirectories(tmp.resolve("rb"));
        write("V1__t.sql", "CREATE TABLE t (id int PRIMARY KEY);\n");
        write("V2__a.sql", "ALTER TABLE t ADD COLUMN a int;\n");
        write("V2__a.rollback.sql", "ALTER TABLE t DROP COLUMN a;\n");
        write("V3__b.sql", "ALTER TABLE t ADD COLUMN b int;\n");
        TestDb db = PgServer.get().newDatabase("rbmissing");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        String before = db.catalogSnapshot();
        Result r = PgshiftProcess.run(args("rollback", "--to", "1"), db.env());
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("3 (" + dir + "/V3__b.sql: no rollback script beside it)"), r.stderr());
        assertEquals(before, db.catalogSnapshot());
        assertEquals(List.of("1", "2", "3"), db.appliedVersions());
    }

    @Test
    void rehearsalCatchesWhatFailsOnlyOnProductionDataAndLeavesTheDatabaseUntouched() throws Exception {
        dir = Files.createDirectories(tmp.resolve("rh"));
        write("V1__users.sql", "CREATE TABLE users (id int PRIMARY KEY, email text);\n");
        int server = PgServer.get().major();
        assumeTrue(PgClients.restoresInto(server), PgClients.noRestoreReason(server));
        TestDb db = PgServer.get().newDatabase("rehearse");
        try (var admin = db.server().admin("postgres")) {
            admin.createStatement().execute("alter role " + db.user() + " createdb");
        }
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        db.execute("INSERT INTO users VALUES (1, 'a@example.com'), (2, 'a@example.com')");
        write("V2__col.sql", "ALTER TABLE users ADD COLUMN name text;\n");
        write("V3__uniq.sql", "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);\n");
        String before = db.catalogSnapshot();
        Path report = tmp.resolve("report.json");
        Result r = PgshiftProcess.run(args("run", "--rehearse", "--report-file", report.toString()), db.env());
        assertEquals(5, r.exitCode(), r.toString());
        JsonNode rep = new ObjectMapper().readTree(report.toFile());
        assertEquals("rehearsal", rep.get("failedPhase").asText());
        assertTrue(rep.get("error").asText().contains("rehearsal on a copy of the database failed in phase migrate"), rep.toString());
        assertTrue(rep.get("error").asText().contains("is duplicated"), rep.toString());
        assertEquals(before, db.catalogSnapshot(), "the real database was not touched");
        assertEquals(List.of("1"), db.appliedVersions());
        assertEquals("0", db.scalar("select count(*) from pg_database where datname like 'pgshift_rehearsal_%'"), "scratch dropped");

        db.execute("UPDATE users SET email = 'b@example.com' WHERE id = 2");
        Result ok = PgshiftProcess.run(args("run", "--rehearse"), db.env());
        assertEquals(0, ok.exitCode(), ok.toString());
        assertTrue(ok.stdout().matches("(?s).*rehearsal +SUCCEEDED.*migrate +SUCCEEDED.*"), ok.stdout());
        assertEquals(List.of("1", "2", "3"), db.appliedVersions());
    }

    @Test
    void resetRefusesWithoutTheDatabaseNameThenRebuilds() throws Exception {
        dir = Files.createDirectories(tmp.resolve("reset"));
        write("V1__t.sql", "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n");
        TestDb db = PgServer.get().newDatabase("reset");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        db.execute("INSERT INTO t VALUES (2)");
        Result refused = PgshiftProcess.run(args("reset"), db.env());
        assertEquals(3, refused.exitCode(), refused.toString());
        assertEquals("2", db.scalar("select count(*) from t"));
        Result r = PgshiftProcess.run(args("reset", "--confirm", db.name()), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("1", db.scalar("select count(*) from t"));
        assertEquals(List.of("1"), db.appliedVersions());
    }
}
