package dev.pgshift.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Databases whose history and files do not line up the simple way: tables without a history, a branch merged late. */
class HistoryEdgesIT {
    @TempDir
    Path tmp;

    private List<String> args(Path dir, String... more) {
        List<String> a = new ArrayList<>(List.of(more));
        a.addAll(List.of("--bundled=false", "--migrations", dir.toString(), "--backup-dir", tmp.resolve("backups").toString()));
        return a;
    }

    private long backups() throws Exception {
        Path b = tmp.resolve("backups");
        if (!Files.exists(b)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(b)) {
            return s.count();
        }
    }

    @Test
    void tablesWithoutAHistoryAreRefusedBeforeAnyBackupWithTheWaysForward() throws Exception {
        TestDb db = PgServer.get().newDatabase("nohistory");
        db.execute("CREATE TABLE users (id int PRIMARY KEY)");
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("V1__users.sql"), "CREATE TABLE users (id int PRIMARY KEY);\n");
        Files.writeString(dir.resolve("V2__email.sql"), "ALTER TABLE users ADD COLUMN email text;\n");
        Result plan = PgshiftProcess.run(args(dir, "plan"), db.env());
        Result run = PgshiftProcess.run(args(dir, "run"), db.env());
        for (Result r : List.of(plan, run)) {
            assertEquals(3, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("the database already has tables (public.users) but no migration history"), r.stderr());
            assertTrue(r.stderr().contains("--adopt-through VERSION"), r.stderr());
            assertTrue(!r.stderr().contains("baseline"), r.stderr());
        }
        assertEquals(0, backups(), "refused before the backup");
        assertEquals(List.of(), db.appliedVersions());
        Result adopted = PgshiftProcess.run(args(dir, "run", "--adopt-through", "1"), db.env());
        assertEquals(0, adopted.exitCode(), adopted.toString());
        assertEquals(List.of("1", "2"), db.appliedVersions());
        assertEquals("1", db.scalar("select count(*) from information_schema.columns where table_name = 'users' and column_name = 'email'"));
    }

    @Test
    void aMigrationMergedOutOfOrderIsNamedAsSuchAndAppliedOnRequest() throws Exception {
        TestDb db = PgServer.get().newDatabase("outoforder");
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(Files.createDirectories(dir.resolve("20240101000000_init")).resolve("migration.sql"), "CREATE TABLE t (id int);\n");
        Files.writeString(Files.createDirectories(dir.resolve("20240301000000_later")).resolve("migration.sql"), "ALTER TABLE t ADD COLUMN b int;\n");
        assertEquals(0, PgshiftProcess.run(args(dir, "run"), db.env()).exitCode());
        Files.writeString(Files.createDirectories(dir.resolve("20240201000000_branch")).resolve("migration.sql"), "ALTER TABLE t ADD COLUMN a int;\n");
        Result r = PgshiftProcess.run(args(dir, "run"), db.env());
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("20240201000000_branch/migration.sql: version 20240201000000.1 is older than the newest applied "
                + "migration and was never applied (merged out of order): apply it with --out-of-order"), r.stderr());
        assertTrue(!r.stderr().contains("Never edit an applied migration"), r.stderr());
        Result plan = PgshiftProcess.run(args(dir, "plan", "--out-of-order"), db.env());
        assertEquals(0, plan.exitCode(), plan.toString());
        assertTrue(plan.stdout().contains("20240201000000.1"), plan.stdout());
        Result applied = PgshiftProcess.run(args(dir, "run", "--out-of-order"), db.env());
        assertEquals(0, applied.exitCode(), applied.toString());
        assertEquals("1", db.scalar("select count(*) from information_schema.columns where table_name = 't' and column_name = 'a'"));
    }
}
