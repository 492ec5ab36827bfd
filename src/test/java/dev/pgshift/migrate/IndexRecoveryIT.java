package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/**
 * What a killed run's concurrent build leaves when the server finished it anyway: a VALID index nobody recorded. The
 * next run must recognise it as the migration's index whatever the file's comments, spacing, quoting, casts, schema
 * qualification or IF NOT EXISTS (PostgreSQL compares the two definitions), record the migration and exit 0 with one
 * index; and it must tell an index of another definition apart and stop (exit 3) without touching it.
 */
class IndexRecoveryIT {
    @TempDir
    Path tmp;

    private static final String TABLE = "CREATE TABLE t (id int PRIMARY KEY, a int, b text, email text, status text);\n"
            + "INSERT INTO t SELECT g, g % 7, 'b' || g, 'u' || g || '@x', CASE WHEN g % 2 = 0 THEN 'active' ELSE 'gone' END "
            + "FROM generate_series(1, 2000) g;\n";

    /** [the migration's statement, what the dead run's backend built (the same index, written another way)] */
    private static final String[][] SAME = {
        {"-- CreateIndex\nCREATE INDEX CONCURRENTLY \"t_email_idx\" ON \"t\"(\"email\");", "CREATE INDEX t_email_idx ON public.t USING btree (email)"},
        {"/* a block\n   comment */\nCREATE INDEX CONCURRENTLY t_b_idx ON public.t (b);", "create index t_b_idx on t(b)"},
        {"-- partial, with a literal\nCREATE INDEX CONCURRENTLY t_active_idx ON t (a) WHERE status = 'active';",
            "CREATE INDEX t_active_idx ON public.t USING btree (a) WHERE (status = 'active'::text)"},
        {"CREATE INDEX CONCURRENTLY t_lower_email ON t (lower(email));", "CREATE INDEX t_lower_email ON t ((lower(email)))"},
        {"-- CreateIndex\nCREATE UNIQUE INDEX CONCURRENTLY t_id_incl ON t (id) INCLUDE (b);", "CREATE UNIQUE INDEX t_id_incl ON t (id) INCLUDE (b)"},
        {"CREATE INDEX CONCURRENTLY t_email_pattern ON t (email text_pattern_ops);", "CREATE INDEX t_email_pattern ON public.t (email text_pattern_ops)"},
        {"CREATE INDEX CONCURRENTLY IF NOT EXISTS \"t_a_desc\" ON public.\"t\" USING btree (a DESC NULLS LAST);",
            "CREATE INDEX t_a_desc ON t (a DESC NULLS LAST)"},
    };

    /** [what exists, the migration asking for another index under the same name] */
    private static final String[][] DIFFERENT = {
        {"CREATE INDEX t_x ON t (a) WHERE status = 'active'", "CREATE INDEX CONCURRENTLY t_x ON t (a) WHERE status = 'gone';"},
        {"CREATE INDEX t_x ON t (a)", "CREATE INDEX CONCURRENTLY t_x ON t (a DESC);"},
        {"CREATE INDEX t_x ON t (id)", "CREATE UNIQUE INDEX CONCURRENTLY t_x ON t (id);"},
        {"CREATE INDEX t_x ON t (email)", "CREATE INDEX CONCURRENTLY t_x ON t USING hash (email);"},
        {"CREATE UNIQUE INDEX t_x ON t (id) INCLUDE (b)", "CREATE UNIQUE INDEX CONCURRENTLY t_x ON t (id);"},
        {"CREATE INDEX t_x ON t (email)", "CREATE INDEX CONCURRENTLY t_x ON t (email text_pattern_ops);"},
        {"CREATE INDEX t_x ON t (a, b)", "-- CreateIndex\nCREATE INDEX CONCURRENTLY t_x ON t (b, a);"},
        {"CREATE INDEX t_x ON t (lower(email))", "CREATE INDEX CONCURRENTLY t_x ON t (upper(email));"},
        {"CREATE INDEX t_x ON t (a DESC)", "CREATE INDEX CONCURRENTLY t_x ON t (a DESC NULLS LAST);"},
    };

    private List<String> args(Path dir) {
        return Fixtures.args("migrate", dir, "--backup=never");
    }

    @Test
    void aFinishedButUnrecordedBuildIsRecognisedWhateverTheFileSaysAroundIt() throws Exception {
        TestDb db = PgServer.get().newDatabase("recover");
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("V1__t.sql"), TABLE);
        assertEquals(0, PgshiftProcess.run(args(dir), db.env()).exitCode());
        for (int k = 0; k < SAME.length; k++) {
            Files.writeString(dir.resolve("V" + (k + 2) + "__idx.sql"), SAME[k][0] + "\n");
            db.execute(SAME[k][1]);
        }
        String before = db.scalar("select count(*) from pg_index i join pg_class c on c.oid = i.indrelid where c.relname = 't'");
        Result r = PgshiftProcess.run(args(dir), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(SAME.length, r.stderr().split("already built \\(VALID\\) by an earlier run", -1).length - 1, r.stderr());
        assertEquals(before, db.scalar("select count(*) from pg_index i join pg_class c on c.oid = i.indrelid where c.relname = 't'"),
                "no second index was built beside any of them");
        assertEquals("0", db.scalar("select count(*) from pg_index i join pg_class c on c.oid = i.indrelid where c.relname = 't' "
                + "and not i.indisvalid"));
        assertEquals(SAME.length + 1, db.appliedVersions().size());
        assertEquals("0", db.scalar("select count(*) from pg_class where relname like 'pgshift_%probe%'"), "the probe left nothing");
    }

    @Test
    void anIndexOfAnotherDefinitionUnderTheSameNameStopsTheRunAndIsLeftAlone() throws Exception {
        TestDb db = PgServer.get().newDatabase("differs");
        Path dir = Files.createDirectories(tmp.resolve("d"));
        Files.writeString(dir.resolve("V1__t.sql"), TABLE);
        assertEquals(0, PgshiftProcess.run(args(dir), db.env()).exitCode());
        for (String[] pair : DIFFERENT) {
            db.execute(pair[0]);
            String existing = db.scalar("select pg_get_indexdef('t_x'::regclass)");
            Path file = dir.resolve("V2__idx.sql");
            Files.writeString(file, pair[1] + "\n");
            Result r = PgshiftProcess.run(args(dir), db.env());
            assertEquals(3, r.exitCode(), pair[1] + "\n" + r);
            assertTrue(r.stderr().contains("already exists with another definition"), r.stderr());
            assertEquals(existing, db.scalar("select pg_get_indexdef('t_x'::regclass)"), "left alone");
            assertEquals(List.of("1"), db.appliedVersions());
            db.execute("DROP INDEX t_x");
            Files.delete(file);
        }
    }
}
