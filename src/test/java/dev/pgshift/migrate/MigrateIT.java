package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pgshift run and migrate against a real server, through the packaged artifact. */
class MigrateIT {
    @TempDir
    Path tmp;

    private static final List<String> BUNDLED = List.of("20240110120000.1", "20240112090000.1", "20240115143000", "20240116100000",
            "20240117090000");

    @Test
    void runOnEmptyDatabaseAppliesTheBundledPlatformSchemaThenNothing() {
        TestDb db = PgServer.get().newDatabase("empty");
        Result first = PgshiftProcess.run(List.of("run"), db.env());
        assertEquals(0, first.exitCode(), first.toString());
        assertEquals(BUNDLED, db.appliedVersions());
        assertTrue(first.stdout().contains("applied   5 migration(s)"), first.stdout());
        assertTrue(first.stdout().contains("outside transaction"), first.stdout());
        // The seed's three indexes exist, were built concurrently and are valid.
        assertEquals(List.of(List.of("idx_characters_style_type", "t"), List.of("idx_characters_user_id", "t"), List.of("idx_users_email", "t")),
                db.query("select c.relname, i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname like 'idx_%' order by 1")
                        .stream().map(r -> List.of(r.get(0), r.get(1))).toList());
        assertEquals("1", db.scalar("select count(*) from pg_constraint where conname = 'chk_daily_quota_positive'"));

        Result second = PgshiftProcess.run(List.of("run"), db.env());
        assertEquals(0, second.exitCode(), second.toString());
        assertTrue(second.stdout().contains("applied   none"), second.stdout());
        assertTrue(second.stderr().contains("nothing pending"), second.stderr());
        assertEquals(BUNDLED, db.appliedVersions());
    }

    @Test
    void failingTransactionalMigrationLeavesTheDatabaseExactlyAsBefore() throws Exception {
        TestDb db = PgServer.get().newDatabase("failing");
        Path dir = Fixtures.copy("failing", tmp.resolve("m"));
        Files.delete(dir.resolve("V2__broken_halfway.sql"));
        List<String> args = args(db, "migrate", dir);
        assertEquals(0, PgshiftProcess.run(args, db.env()).exitCode());
        String before = db.catalogSnapshot();
        List<List<String>> rowsBefore = db.query("select * from accounts order by id");

        Fixtures.copy("failing", dir);
        Result r = PgshiftProcess.run(args, db.env());
        assertEquals(5, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("V2__broken_halfway.sql"), "names the file: " + r.stderr());
        assertTrue(r.stderr().contains("duplicate key"), "says what failed: " + r.stderr());
        assertEquals(before, db.catalogSnapshot());
        assertEquals(rowsBefore, db.query("select * from accounts order by id"));
        assertEquals(List.of("1"), db.appliedVersions());
        assertEquals("0", db.scalar("select count(*) from flyway_schema_history where not success"));
    }

    @Test
    void editedAppliedMigrationIsCaughtBeforeAnythingRuns() throws Exception {
        TestDb db = PgServer.get().newDatabase("drift");
        Path dir = Fixtures.copy("failing", tmp.resolve("m"));
        Files.delete(dir.resolve("V2__broken_halfway.sql"));
        List<String> args = args(db, "migrate", dir);
        assertEquals(0, PgshiftProcess.run(args, db.env()).exitCode());
        Files.writeString(dir.resolve("V1__create_table.sql"), "CREATE TABLE accounts (id bigint PRIMARY KEY);\n");
        Files.writeString(dir.resolve("V3__more.sql"), "CREATE TABLE more (id int);\n");
        Result r = PgshiftProcess.run(args, db.env());
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("checksum"), r.stderr());
        assertEquals("0", db.scalar("select count(*) from pg_tables where tablename = 'more'"));
    }

    /**
     * pgshift applies migrations in its own loop and writes Flyway's history rows itself: they must be the rows Flyway
     * writes for the same files (rank, version, description and script as Flyway abbreviates them, type, checksum, role,
     * success), so Flyway, an older pgshift and `flyway info` read them as their own.
     */
    @Test
    void historyRowsAreTheOnesFlywayWritesForTheSameFiles() throws Exception {
        Path dir = tmp.resolve("rows");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("V1__create_accounts.sql"), "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n");
        Files.writeString(dir.resolve("V1.1__add_note.sql"), "ALTER TABLE accounts ADD COLUMN note text;\n");
        Files.writeString(dir.resolve("V2__index_email.sql"), "CREATE INDEX CONCURRENTLY accounts_email ON accounts (email);\n");
        Files.writeString(dir.resolve("V003__" + "a_very_long_description_".repeat(9) + ".sql"), "CREATE TABLE long_one (id int);\n");
        Files.writeString(dir.resolve("V4__seed.sql"), "INSERT INTO accounts (id, email) VALUES (1, 'a@example.com');\n");
        // Flyway keeps a description's hyphens, dots, spaces and letters as they are (only "_" becomes a space)
        Files.writeString(dir.resolve("V5__add-b.v2 (copy)_größe.sql"), "ALTER TABLE accounts ADD COLUMN b int;\n");
        Files.writeString(dir.resolve("V6__index-b.sql"), "CREATE INDEX CONCURRENTLY accounts_b ON accounts (b);\n");

        TestDb ours = PgServer.get().newDatabase("rows_pgshift");
        Result r = PgshiftProcess.run(args(ours, "migrate", dir), ours.env());
        assertEquals(0, r.exitCode(), r.toString());

        TestDb theirs = PgServer.get().newDatabase("rows_flyway");
        flyway(theirs, dir).migrate();

        String rows = "select installed_rank, version, description, type, script, checksum, installed_by = current_user, success "
                + "from flyway_schema_history order by installed_rank";
        assertEquals(7, theirs.query(rows).size());
        assertEquals(theirs.query(rows), ours.query(rows));
        // and Flyway itself finds nothing to do and nothing wrong on the database pgshift migrated
        var flywayOnOurs = flyway(ours, dir);
        assertTrue(flywayOnOurs.validateWithResult().validationSuccessful);
        assertEquals(0, flywayOnOurs.info().pending().length);
    }

    /**
     * A project Flyway migrated (hyphens in its file names) is taken over by pgshift: nothing pending, nothing wrong, and
     * what pgshift applies next Flyway reads as its own (a hostile-user finding: pgshift recorded "add b" where Flyway
     * records "add-b", so each refused the other's history). A history an earlier pgshift wrote with its own names
     * ("add b", V2__add_b.sql) is still read, and brought to Flyway's names by the next run.
     */
    @Test
    void aHistoryFlywayWroteIsTakenOverAndOneEarlierPgshiftWroteIsStillRead() throws Exception {
        Path dir = tmp.resolve("takeover");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("V1__create-accounts.sql"), "CREATE TABLE accounts (id bigint PRIMARY KEY);\n");
        Files.writeString(dir.resolve("V2__add-b.sql"), "ALTER TABLE accounts ADD COLUMN b int;\n");
        String bom = "/* two files once\n\uFEFFconcatenated, each with its byte order mark */\nSELECT 1;\n";
        Files.writeString(dir.resolve("V2.5__bom.sql"), bom);
        TestDb db = PgServer.get().newDatabase("takeover");
        flyway(db, dir).migrate();
        Result r = PgshiftProcess.run(args(db, "run", dir), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stdout().contains("applied   none"), r.stdout());

        Files.writeString(dir.resolve("V3__add-c.sql"), "ALTER TABLE accounts ADD COLUMN c int;\n");
        assertEquals(0, PgshiftProcess.run(args(db, "run", dir), db.env()).exitCode());
        var flyway = flyway(db, dir);
        assertTrue(flyway.validateWithResult().validationSuccessful, "Flyway reads pgshift's row for V3__add-c.sql as its own");

        // the names and the checksum pgshift recorded before it kept Flyway's
        String flywaysSum = db.scalar("select checksum from flyway_schema_history where version = '2.5'");
        db.execute("update flyway_schema_history set description = replace(description, '-', ' '), script = replace(script, '-', '_')");
        db.execute("update flyway_schema_history set checksum = " + FlywayBridge.legacyChecksum(bom) + " where version = '2.5'");
        Result plan = PgshiftProcess.run(args(db, "plan", dir), db.env());
        assertEquals(0, plan.exitCode(), plan.toString());
        Result again = PgshiftProcess.run(args(db, "run", dir), db.env());
        assertEquals(0, again.exitCode(), again.toString());
        assertEquals(List.of(List.of("create-accounts", "V1__create-accounts.sql"), List.of("add-b", "V2__add-b.sql"),
                List.of("bom", "V2.5__bom.sql"), List.of("add-c", "V3__add-c.sql")),
                db.query("select description, script from flyway_schema_history order by installed_rank"));
        assertEquals(flywaysSum, db.scalar("select checksum from flyway_schema_history where version = '2.5'"));
        assertTrue(flyway.validateWithResult().validationSuccessful, "and Flyway reads them all as its own again");
    }

    /**
     * A role that may read the history another role created but not write it is stopped before anything runs (a
     * hostile-user finding: a concurrent index was built and then its row could not be written, so the next run hit
     * "already exists"); one that may not even read it gets exit 3 too (was 75, "run again"), with the GRANT.
     */
    @Test
    void aRoleThatMayNotWriteTheHistoryIsStoppedBeforeAnythingRuns() throws Exception {
        TestDb db = PgServer.get().newDatabase("histgrant");
        Path dir = tmp.resolve("histgrant");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("V1__t.sql"), "CREATE TABLE t (id int);\n");
        assertEquals(0, PgshiftProcess.run(args(db, "run", dir), db.env()).exitCode());
        String role = db.name() + "_mig";
        try (var c = PgServer.get().admin(db.name()); var st = c.createStatement()) {
            st.execute("create role " + role + " login password 'pw'");
            st.execute("grant create, usage on schema public to " + role);
            st.execute("grant select on flyway_schema_history to " + role);
            st.execute("alter table t owner to " + role);
        }
        Files.writeString(dir.resolve("V2__index.sql"), "CREATE INDEX CONCURRENTLY t_id ON t (id);\n");
        java.util.Map<String, String> env = new java.util.HashMap<>(db.env());
        env.put("PGUSER", role);
        env.put("PGPASSWORD", "pw");
        env.put("PGSHIFT_BACKUP", "never");
        Result r = PgshiftProcess.run(args(db, "run", dir), env);
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("GRANT SELECT, INSERT, UPDATE, DELETE ON \"public\".\"flyway_schema_history\" TO \"" + role + "\""),
                r.stderr());
        assertEquals(null, db.scalar("select to_regclass('public.t_id')"), "nothing ran");
        try (var c = PgServer.get().admin(db.name()); var st = c.createStatement()) {
            st.execute("grant insert, delete on flyway_schema_history to " + role); // UPDATE still missing
        }
        Result noUpdate = PgshiftProcess.run(args(db, "run", dir), env);
        assertEquals(3, noUpdate.exitCode(), noUpdate.toString());
        assertEquals(null, db.scalar("select to_regclass('public.t_id')"), "nothing ran");
        try (var c = PgServer.get().admin(db.name()); var st = c.createStatement()) {
            st.execute("revoke select on flyway_schema_history from " + role);
        }
        Result unreadable = PgshiftProcess.run(args(db, "run", dir), env);
        assertEquals(3, unreadable.exitCode(), unreadable.toString());
        assertTrue(unreadable.stderr().contains("GRANT SELECT, INSERT, UPDATE, DELETE ON"), unreadable.stderr());
    }

    /**
     * A Flyway project's applied files may hold Flyway placeholders: pgshift never runs them again, so it takes the
     * project over; a pending one is refused naming it (a hostile-user finding: every file was refused, applied or not).
     */
    @Test
    void anAppliedFlywayFileWithAPlaceholderStandsAPendingOneIsRefused() throws Exception {
        TestDb db = PgServer.get().newDatabase("placeholder");
        Path dir = tmp.resolve("placeholder");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("V1__a.sql"), "CREATE TABLE ${flyway:defaultSchema}.ph (id int);\n");
        flyway(db, dir).migrate();
        Result taken = PgshiftProcess.run(args(db, "run", dir), db.env());
        assertEquals(0, taken.exitCode(), taken.toString());
        Files.writeString(dir.resolve("V2__b.sql"), "-- by\nINSERT INTO ph VALUES (1); -- ${flyway:user}\n");
        Result r = PgshiftProcess.run(args(db, "run", dir), db.env());
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("V2__b.sql:2: ${flyway:user}"), r.stderr());
        assertEquals(List.of("1"), db.appliedVersions());
    }

    /** A run leaves nothing in the temporary directory (Vert.x, which quarkus-kubernetes brings, left an empty vertx-cache/<id>). */
    @Test
    void aRunLeavesNothingInTheTemporaryDirectory() throws Exception {
        TestDb db = PgServer.get().newDatabase("scratch");
        Path jtmp = Files.createDirectories(tmp.resolve("jtmp"));
        java.util.Map<String, String> env = new java.util.HashMap<>(db.env());
        env.put("PGSHIFT_JAVA_OPTS", "-Djava.io.tmpdir=" + jtmp);
        env.put("PGSHIFT_BACKUP", "never");
        Result r = PgshiftProcess.run(List.of("run"), env);
        assertEquals(0, r.exitCode(), r.toString());
        try (var left = Files.list(jtmp)) {
            assertEquals(List.of(), left.map(p -> p.getFileName().toString()).toList());
        }
    }

    /**
     * A role that may not create the history table (PostgreSQL 15's default on public for anyone but the owner) is told
     * so at once, with the GRANT to run (a hostile-user finding: exit 5 after Flyway's ten retries, 9 s, in Flyway's
     * words: "Run Flyway with -X option", an option pgshift does not have).
     */
    @Test
    void aRoleThatMayNotCreateTheHistoryIsToldWhatToGrant() throws Exception {
        TestDb db = PgServer.get().newDatabase("nocreate");
        String role = db.name() + "_mig";
        try (var c = PgServer.get().admin(db.name()); var st = c.createStatement()) {
            st.execute("create role " + role + " login password 'pw'");
            st.execute("revoke create on schema public from public"); // PostgreSQL 14 still grants it to everyone
        }
        Path dir = tmp.resolve("nocreate");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("V1__t.sql"), "CREATE TABLE t (id int);\n");
        java.util.Map<String, String> env = new java.util.HashMap<>(db.env());
        env.put("PGUSER", role);
        env.put("PGPASSWORD", "pw");
        env.put("PGSHIFT_BACKUP", "never");
        long start = System.nanoTime();
        Result r = PgshiftProcess.run(args(db, "run", dir), env);
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue((System.nanoTime() - start) / 1e9 < 8, "at once, not after Flyway's retries");
        assertTrue(r.stderr().contains("GRANT CREATE ON SCHEMA \"public\" TO \"" + role + "\""), r.stderr());
        assertTrue(!r.all().contains("Flyway with -X"), r.all());
        assertEquals(null, db.scalar("select to_regclass('public.flyway_schema_history')"));
    }

    /**
     * A URL's mixed-case schema (Prisma's ?schema=MyApp) names the schema "MyApp" for the history and for the session's
     * search_path alike: the history went to "MyApp" while the migrations, with the name sent unquoted, looked for myapp
     * (exit 5, 3F000; or their tables in another schema). A hostile-user finding.
     */
    @Test
    void aUrlsMixedCaseSchemaHoldsTheHistoryAndTheMigrationsAlike() throws Exception {
        TestDb db = PgServer.get().newDatabase("mixedschema");
        db.execute("create schema \"MyApp\"");
        db.execute("create schema myapp"); // a decoy the folded name would find
        Path dir = Files.createDirectories(tmp.resolve("mixedschema"));
        Files.writeString(dir.resolve("V1__t.sql"), "CREATE TABLE t (id int);\n");
        java.util.Map<String, String> env = new java.util.HashMap<>(db.env());
        env.put("PGSHIFT_URL", "postgresql://" + db.user() + "@localhost:" + db.server().port() + "/" + db.name() + "?sslmode=disable&schema=MyApp");
        env.remove("PGHOST");
        env.remove("PGPORT");
        env.remove("PGDATABASE");
        env.remove("PGSSLMODE");
        Result r = PgshiftProcess.run(List.of("run", "--bundled=false", "--migrations", dir.toString(), "--backup", "never"), env);
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("1", db.scalar("select count(*) from \"MyApp\".flyway_schema_history where success"));
        assertNotNull(db.scalar("select to_regclass('\"MyApp\".t')"), "the table in the schema the URL names");
        assertNull(db.scalar("select to_regclass('myapp.t')"));
    }

    /**
     * A migration that SETs ROLE (or SESSION AUTHORIZATION) to a role without rights on the history table: its history
     * row is still written, as the connection's own role, and the next migration runs as that role too (a hostile-user
     * finding: "permission denied for table flyway_schema_history", and a file with its own transactions left committed
     * without any record).
     */
    @Test
    void aMigrationThatSetsRoleIsRecordedAndDoesNotLeakIntoTheNext() throws Exception {
        TestDb db = PgServer.get().newDatabase("setrole");
        try (var c = PgServer.get().admin(db.name()); var st = c.createStatement()) {
            st.execute("do $$ begin if not exists (select from pg_roles where rolname = 'pgshift_narrow') then "
                    + "create role pgshift_narrow nologin; end if; end $$");
            st.execute("grant create, usage on schema public to pgshift_narrow");
            st.execute("grant pgshift_narrow to " + db.user());
        }
        Path dir = tmp.resolve("role");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("V1__in_transaction.sql"), "SET ROLE pgshift_narrow;\nCREATE TABLE narrow_tx (a int);\n");
        Files.writeString(dir.resolve("V2__own_transactions.sql"), "BEGIN;\nSET ROLE pgshift_narrow;\nCREATE TABLE narrow_own (a int);\nCOMMIT;\n");
        Files.writeString(dir.resolve("V3__after.sql"), "CREATE TABLE after_them (a int);\n");
        Result r = PgshiftProcess.run(args(db, "migrate", dir), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(List.of("1", "2", "3"), db.appliedVersions());
        assertEquals(List.of(List.of("after_them", db.user()), List.of("narrow_own", "pgshift_narrow"), List.of("narrow_tx", "pgshift_narrow")),
                db.query("select tablename, tableowner from pg_tables where schemaname = 'public' and tablename <> 'flyway_schema_history' "
                        + "order by 1"));
        assertEquals("t", db.scalar("select bool_and(installed_by = current_user) from flyway_schema_history"));
    }

    /**
     * A file with its own transactions resumed after a failure in its second block runs in the session an uninterrupted
     * run gives it: the first block's SET ROLE is made again (the second block's table got the login role as owner); and
     * a COMMIT AND CHAIN starts a transaction that a failure rolls back whole (its statements were committed one by one).
     */
    @Test
    void aResumedFileKeepsItsSessionSettingsAndAChainedTransactionIsOne() throws Exception {
        TestDb db = PgServer.get().newDatabase("resumerole");
        try (var c = PgServer.get().admin(db.name()); var st = c.createStatement()) {
            st.execute("do $$ begin if not exists (select from pg_roles where rolname = 'pgshift_narrow') then "
                    + "create role pgshift_narrow nologin; end if; end $$");
            st.execute("grant create, usage on schema public to pgshift_narrow");
            st.execute("grant pgshift_narrow to " + db.user());
        }
        Path dir = Files.createDirectories(tmp.resolve("resume"));
        Files.writeString(dir.resolve("V1__role.sql"), "BEGIN;\nSET ROLE pgshift_narrow;\nCREATE TABLE owned1 (id int);\nCOMMIT;\n"
                + "BEGIN;\nCREATE TABLE owned2 (id int);\nINSERT INTO needed VALUES (1);\nCOMMIT;\n");
        assertEquals(5, PgshiftProcess.run(args(db, "migrate", dir), db.env()).exitCode());
        db.execute("CREATE TABLE needed (id int)");
        db.execute("GRANT ALL ON needed TO pgshift_narrow");
        Result resumed = PgshiftProcess.run(args(db, "migrate", dir), db.env());
        assertEquals(0, resumed.exitCode(), resumed.toString());
        assertEquals(List.of(List.of("owned1", "pgshift_narrow"), List.of("owned2", "pgshift_narrow")),
                db.query("select tablename, tableowner from pg_tables where tablename like 'owned%' order by 1"));

        Files.writeString(dir.resolve("V2__chain.sql"), "CREATE TABLE log (n int);\nBEGIN;\nINSERT INTO log VALUES (2);\nCOMMIT AND CHAIN;\n"
                + "INSERT INTO log VALUES (3);\nSELECT 1/0;\nCOMMIT;\n");
        Result chained = PgshiftProcess.run(args(db, "migrate", dir), db.env());
        assertEquals(5, chained.exitCode(), chained.toString());
        assertEquals(List.of(List.of("2")), db.query("select n from log order by n"), "the chained transaction was rolled back whole, as psql does");
    }

    /** Flyway 12 on {@code db} with {@code dir}'s files, as its users run it on PostgreSQL (CONCURRENTLY needs the session lock). */
    private static org.flywaydb.core.Flyway flyway(TestDb db, Path dir) {
        var config = org.flywaydb.core.Flyway.configure().dataSource(db.jdbcUrl(), db.user(), db.password()).locations("filesystem:" + dir);
        config.getPluginRegister().getPlugin(org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension.class)
                .setTransactionalLock(false);
        return config.load();
    }

    static List<String> args(TestDb db, String command, Path dir) {
        return Fixtures.args(command, dir);
    }
}
