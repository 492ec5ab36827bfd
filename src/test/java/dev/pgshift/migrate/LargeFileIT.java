package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 50 MiB data migration (741,564 rows, the size that ran out of memory; in INSERTs of 10 rows, so that CI spends
 * 30 s on it rather than 200 s on as many round trips): it applies in a 256 MiB heap (the chart's
 * 512Mi limit gives 384 MiB), because a large file's statements are read one at a time as they are sent; and a run that
 * still runs out of memory ends with exit 1 and its summary, report and termination message. On one major (.ci/pg-majors.sh):
 * nothing here depends on the server's.
 */
class LargeFileIT {
    static final int ROWS = 741_564;

    @TempDir
    static Path tmp;
    static Path migrations;

    @BeforeAll
    static void generate() throws IOException {
        migrations = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(migrations.resolve("V1__big.sql"), "CREATE TABLE big (id int PRIMARY KEY, name text, note text);\n");
        try (BufferedWriter w = Files.newBufferedWriter(migrations.resolve("V2__data.sql"))) {
            for (int i = 0; i < ROWS; i++) {
                w.write(i % 10 == 0 ? "INSERT INTO big (id, name, note) VALUES " : ", ");
                w.write("(" + i + ", 'name-" + i + "', 'n" + (i % 10) + "-0123456789abcdef0123456789abcdef')"); // 50 MB in all
                if (i % 10 == 9 || i == ROWS - 1) {
                    w.write(";\n");
                }
            }
        }
        assertTrue(Files.size(migrations.resolve("V2__data.sql")) > 50_000_000, "a 50 MB file");
    }

    private static Map<String, String> env(TestDb db, String heap) {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("PGSHIFT_JAVA_OPTS", "-Xmx" + heap);
        env.put("PGSHIFT_BUNDLED", "false");
        env.put("PGSHIFT_MIGRATIONS", migrations.toString());
        env.put("PGSHIFT_BACKUP", "never");
        env.put("PGSHIFT_PROGRESS_INTERVAL", "2s"); // the file runs some 30 s: its progress is logged more than once
        return env;
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
    void aFiftyMegabyteFileAppliesInA256MegabyteHeap() {
        TestDb db = PgServer.get().newDatabase("largefile");
        Result r = PgshiftProcess.start(List.of("run"), env(db, "256m")).await(Duration.ofMinutes(8));
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(String.valueOf(ROWS), db.scalar("select count(*) from big"));
        // Progress while a file runs long (a 50 MB file ran for minutes without a word): its file, statement and line
        assertTrue(r.stderr().matches("(?s).*still applying \\S*V2__data\\.sql: statement \\d+ \\(line \\d+\\), the file for \\d+s.*"), r.stderr());
        assertEquals(List.of("1", "2"), db.appliedVersions());
    }

    @Test
    void runningOutOfMemoryEndsWithExit1AndItsReport() throws IOException {
        assumeTrue(PgshiftProcess.command().get(0).endsWith("target/quarkus-app/pgshift"), "the launcher's JVM and its heap limit");
        TestDb db = PgServer.get().newDatabase("outofmemory");
        Path report = tmp.resolve("oom-report.json");
        Path termination = tmp.resolve("oom-termination-log");
        Result r = PgshiftProcess.start(List.of("run", "--report-file", report.toString(), "--termination-log", termination.toString()),
                env(db, "32m")).await(Duration.ofMinutes(2));
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.stdout().startsWith("pgshift run: FAILED (exit 1)"), r.stdout());
        assertTrue(r.stdout().contains("out of memory"), r.stdout());
        assertTrue(r.stderr().contains("PGSHIFT_JAVA_OPTS=-Xmx"), r.stderr());
        assertTrue(Files.readString(report).contains("\"exitCode\" : 1") && Files.readString(report).contains("out of memory"),
                Files.readString(report));
        assertTrue(Files.readString(termination).contains("\"exitCode\":1"), Files.readString(termination));
        assertEquals(List.of(), db.appliedVersions());

        Result plan = PgshiftProcess.start(List.of("plan"), env(db, "32m")).await(Duration.ofMinutes(2));
        assertEquals(1, plan.exitCode(), plan.toString());
        assertTrue(plan.stderr().contains("pgshift: out of memory"), "pgshift's own error line, not the JVM's: " + plan.stderr());
        assertFalse(plan.stderr().contains("at java.base/"), "no stack trace: " + plan.stderr());
    }
}
