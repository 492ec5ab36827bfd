package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every concurrent kind x every way to name its object x three situations: a clean run, a rerun after the statement
 * was interrupted half-way (what a killed build leaves: an INVALID index, a _ccnew leftover, a pending detach), and a
 * rerun after it finished but was not recorded. Each situation is one database and one pgshift run over all the
 * cases (a migration each), checked by exit code, one history row per migration, the object's state in the catalog,
 * and a same-named object in another schema (on the search_path where that would mislead a lookup by name alone) that
 * must come through untouched. The server resolves every name the assertions look at (to_regclass), so the test
 * truncates nothing itself.
 */
class ConcurrentMatrixIT {
    @TempDir
    Path tmp;

    enum Kind { CREATE, CREATE_UNIQUE, DROP, DROP_IF_EXISTS, REINDEX_INDEX, REINDEX_TABLE, DETACH }

    /** How the statement names its object, and where the object lives. */
    enum Naming {
        /** unqualified, in public (the default search_path) */
        PUBLIC("public", false),
        /** unqualified, found through the database's search_path (tenant, public) */
        PATH("tenant", false),
        /** qualified, in a schema not on the search_path */
        QUALIFIED("audit", true),
        /** quoted mixed case with spaces, both parts */
        QUOTED("Mixed Case", true),
        /** names of exactly 63 bytes, qualified */
        LONG63("audit", true),
        /** quoted mixed-case names of 64 bytes (PostgreSQL cuts them to 63), unqualified through the search_path */
        LONG64("tenant", false),
        /** names of 70 bytes with two-byte characters (cut at a character boundary), qualified */
        LONG70_MULTIBYTE("Mixed Case", true);

        final String schema;
        final boolean qualified;

        Naming(String schema, boolean qualified) {
            this.schema = schema;
            this.qualified = qualified;
        }
    }

    enum Situation { CLEAN, INTERRUPTED, UNRECORDED }

    /** One cell of the matrix; {@code n} numbers it (its migration is version n + 1). */
    record Case(int n, Kind kind, Naming naming) {
        String name(String role) {
            String base = "c" + n + "_" + role;
            return switch (naming) {
                case PUBLIC, PATH, QUALIFIED -> base;
                case QUOTED -> "C" + n + " " + role + " Ä x";
                case LONG63 -> pad(base + "_", 63, 'x');
                case LONG64 -> pad("C" + n + "_BackgroundWorkerTask_" + role + "_", 64, 'Q');
                case LONG70_MULTIBYTE -> pad("c" + n + "_" + role + "_", 70, 'ä');
            };
        }

        /** Where the same-named decoy lives: another schema, on the search_path where that is what could mislead. */
        String decoySchema() {
            boolean drop = kind == Kind.DROP || kind == Kind.DROP_IF_EXISTS;
            // An unqualified DROP whose index is gone resolves to a same-named index later on the search_path, as PostgreSQL
            // would: that decoy lives off the path.
            return naming.schema.equals("public") || !naming.qualified && drop ? "decoy" : "public";
        }

        String table() {
            return name("t");
        }

        String index() {
            return name("idx");
        }

        String parent() {
            return name("m");
        }

        String partition() {
            return name("p");
        }

        /** {@code role}'s name as the migration writes it: qualified or not. */
        String ref(String object) {
            return naming.qualified ? ident(naming.schema) + "." + ident(object) : ident(object);
        }

        String statement() {
            return switch (kind) {
                case CREATE -> "CREATE INDEX CONCURRENTLY " + (n % 2 == 0 ? "IF NOT EXISTS " : "") + ident(index()) + " ON " + ref(table())
                        + " (val)";
                case CREATE_UNIQUE -> "CREATE UNIQUE INDEX CONCURRENTLY " + ident(index()) + " ON " + ref(table()) + " (id)";
                case DROP -> "DROP INDEX CONCURRENTLY " + ref(index());
                case DROP_IF_EXISTS -> "DROP INDEX CONCURRENTLY IF EXISTS " + ref(index());
                case REINDEX_INDEX -> "REINDEX INDEX CONCURRENTLY " + ref(index());
                case REINDEX_TABLE -> "REINDEX TABLE CONCURRENTLY " + ref(table());
                case DETACH -> "ALTER TABLE " + ref(parent()) + " DETACH PARTITION " + ref(partition()) + " CONCURRENTLY";
            };
        }

        @Override
        public String toString() {
            return "case " + n + " " + kind + " " + naming + ": " + statement();
        }
    }

    private static String pad(String s, int bytes, char with) {
        StringBuilder b = new StringBuilder(s);
        while (b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + String.valueOf(with)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= bytes) {
            b.append(with);
        }
        while (b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length < bytes) {
            b.append('z');
        }
        return b.toString();
    }

    /** Bare where PostgreSQL reads it back the same, quoted otherwise. */
    static String ident(String name) {
        return name.matches("[a-z_][a-z0-9_]*") ? name : "\"" + name.replace("\"", "\"\"") + "\"";
    }

    static String q(String schema, String name) {
        return ident(schema) + "." + ident(name);
    }

    private static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (Kind k : Kind.values()) {
            for (Naming nm : Naming.values()) {
                out.add(new Case(out.size() + 1, k, nm));
            }
        }
        return out;
    }

    /** The schemas, the database's search_path, and each case's objects and its decoy's. */
    private static String setup(TestDb db, List<Case> cases) {
        StringBuilder sql = new StringBuilder("CREATE SCHEMA tenant;\nCREATE SCHEMA audit;\nCREATE SCHEMA \"Mixed Case\";\nCREATE SCHEMA decoy;\n"
                + "ALTER DATABASE " + db.name() + " SET search_path = tenant, public;\n");
        for (Case c : cases) {
            for (String schema : List.of(c.naming().schema, c.decoySchema())) {
                if (c.kind() == Kind.DETACH) {
                    sql.append("CREATE TABLE ").append(q(schema, c.parent())).append(" (id int, at date) PARTITION BY RANGE (at);\n")
                            .append("CREATE TABLE ").append(q(schema, c.partition())).append(" PARTITION OF ").append(q(schema, c.parent()))
                            .append(" FOR VALUES FROM ('2031-01-01') TO ('2032-01-01');\n")
                            .append("INSERT INTO ").append(q(schema, c.parent())).append(" SELECT g, '2031-03-01' FROM generate_series(1, 500) g;\n");
                } else {
                    sql.append("CREATE TABLE ").append(q(schema, c.table())).append(" (id int PRIMARY KEY, val int NOT NULL);\n")
                            .append("INSERT INTO ").append(q(schema, c.table())).append(" SELECT g, g % 7 FROM generate_series(1, 500) g;\n")
                            .append("CREATE ").append(c.kind() == Kind.CREATE_UNIQUE ? "UNIQUE INDEX " : "INDEX ").append(ident(c.index()))
                            .append(" ON ").append(q(schema, c.table())).append(c.kind() == Kind.CREATE_UNIQUE ? " (id);\n" : " (val);\n");
                }
            }
            if (c.kind() == Kind.CREATE || c.kind() == Kind.CREATE_UNIQUE) {
                sql.append("DROP INDEX ").append(q(c.naming().schema, c.index())).append(";\n"); // to be made by the migration
            }
        }
        return sql.toString();
    }

    @Test
    void cleanRun() throws Exception {
        matrix(Situation.CLEAN);
    }

    @Test
    void rerunAfterTheStatementWasInterruptedHalfWay() throws Exception {
        matrix(Situation.INTERRUPTED);
    }

    @Test
    void rerunAfterItFinishedButWasNotRecorded() throws Exception {
        matrix(Situation.UNRECORDED);
    }

    private void matrix(Situation situation) throws Exception {
        TestDb db = PgServer.get().newDatabase("matrix_" + situation.name().toLowerCase());
        List<Case> cases = cases();
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("V1__setup.sql"), setup(db, cases));
        List<String> args = List.of("migrate", "--bundled=false", "--migrations", dir.toString());
        Result first = PgshiftProcess.run(args, db.env());
        assertEquals(0, first.exitCode(), first.toString());

        switch (situation) {
            case CLEAN -> { }
            case INTERRUPTED -> interruptEach(db, cases);
            case UNRECORDED -> {
                for (Case c : cases) {
                    finishByHand(db, c);
                }
            }
        }
        for (Case c : cases) {
            Files.writeString(dir.resolve("V" + (c.n() + 1) + "__case_" + c.n() + ".sql"), "-- " + c.kind() + " " + c.naming() + "\n"
                    + c.statement() + ";\n");
        }
        Result run = PgshiftProcess.start(args, db.env()).await(Duration.ofMinutes(3));
        assertEquals(0, run.exitCode(), situation + ":\n" + run);

        List<String> expected = IntStream.rangeClosed(1, cases.size() + 1).mapToObj(String::valueOf).toList();
        assertEquals(expected, db.appliedVersions(), "one history row per migration");
        assertEquals(String.valueOf(cases.size() + 1), db.scalar("select count(*) from public.flyway_schema_history"));
        List<String> wrong = new ArrayList<>();
        for (Case c : cases) {
            String state = state(db, c, situation);
            if (!state.isEmpty()) {
                wrong.add(c + "\n    " + state);
            }
        }
        assertEquals("", String.join("\n", wrong), situation + ": cases whose catalog state is wrong\n" + run.stderr());
    }

    /** What a half-way stop leaves: the statement itself parked behind an open writer, then cancelled. */
    private static void interruptEach(TestDb db, List<Case> cases) throws Exception {
        try (Connection blocker = db.connect(); Statement bst = blocker.createStatement(); Connection victim = db.connect();
                Statement vst = victim.createStatement()) {
            blocker.setAutoCommit(false);
            for (Case c : cases) {
                for (String schema : List.of(c.naming().schema, c.decoySchema())) {
                    bst.execute(c.kind() == Kind.DETACH ? "insert into " + q(schema, c.parent()) + " values (-1, '2031-06-01')"
                            : "insert into " + q(schema, c.table()) + " values (-1, 1)");
                }
            }
            for (Case c : cases) {
                db.interruptWhenParked(vst, c.statement());
                if (c.kind() == Kind.REINDEX_INDEX || c.kind() == Kind.REINDEX_TABLE) {
                    // the decoy's own interrupted REINDEX leaves a _ccnew that this case's REINDEX must not touch
                    db.interruptWhenParked(vst, "REINDEX INDEX CONCURRENTLY " + q(c.decoySchema(), c.index()));
                }
            }
            blocker.rollback();
        }
    }

    /** What a build that finished after its client died leaves: the statement's effect, with no history row. */
    private static void finishByHand(TestDb db, Case c) {
        String s = c.naming().schema;
        switch (c.kind()) {
            case CREATE -> db.execute("create index " + ident(c.index()) + " on " + q(s, c.table()) + " (val)");
            case CREATE_UNIQUE -> db.execute("create unique index " + ident(c.index()) + " on " + q(s, c.table()) + " (id)");
            case DROP, DROP_IF_EXISTS -> db.execute("drop index " + q(s, c.index()));
            case REINDEX_INDEX, REINDEX_TABLE -> db.execute("reindex index " + q(s, c.index()));
            case DETACH -> db.execute("alter table " + q(s, c.parent()) + " detach partition " + q(s, c.partition()));
        }
    }

    /** What is wrong with {@code c}'s objects and its decoy's after the run; "" when nothing. */
    private static String state(TestDb db, Case c, Situation situation) {
        String s = c.naming().schema;
        String d = c.decoySchema();
        List<String> problems = new ArrayList<>();
        String index = lit(q(s, c.index()));
        String decoyIndex = lit(q(d, c.index()));
        switch (c.kind()) {
            case CREATE, CREATE_UNIQUE, REINDEX_INDEX, REINDEX_TABLE -> {
                String got = db.scalar("select coalesce((select i.indisvalid || ' ' || i.indisunique || ' ' || (i.indrelid = to_regclass(" + lit(q(s, c.table()))
                        + ")) from pg_index i where i.indexrelid = to_regclass(" + index + ")), 'missing')");
                String want = "true " + (c.kind() == Kind.CREATE_UNIQUE) + " true";
                if (!want.equals(got)) {
                    problems.add("index (valid unique on-its-table) is '" + got + "', wanted '" + want + "'");
                }
                String others = db.scalar("select string_agg(c.relname || ':' || i.indisvalid, ', ' order by c.relname) from pg_index i join pg_class c "
                        + "on c.oid = i.indexrelid where i.indrelid = to_regclass(" + lit(q(s, c.table())) + ") and i.indexrelid <> to_regclass(" + index
                        + ") and not i.indisprimary");
                if (others != null) {
                    problems.add("other indexes left on the table: " + others);
                }
            }
            case DROP, DROP_IF_EXISTS -> {
                if (db.scalar("select to_regclass(" + index + ")") != null) {
                    problems.add("the index is still there");
                }
            }
            case DETACH -> {
                String attached = db.scalar("select count(*) from pg_inherits where inhrelid = to_regclass(" + lit(q(s, c.partition())) + ")");
                if (!"0".equals(attached) || db.scalar("select to_regclass(" + lit(q(s, c.partition())) + ")") == null) {
                    problems.add("the partition is not detached (pg_inherits rows: " + attached + ")");
                }
            }
        }
        if (c.kind() == Kind.DETACH) {
            String decoy = db.scalar("select coalesce((select inhdetachpending::text from pg_inherits where inhrelid = to_regclass("
                    + lit(q(d, c.partition())) + ")), 'detached')");
            if (!"false".equals(decoy)) {
                problems.add("the decoy partition " + q(d, c.partition()) + " was touched: " + decoy);
            }
        } else {
            String decoy = db.scalar("select coalesce((select indisvalid::text from pg_index where indexrelid = to_regclass(" + decoyIndex + ")), 'missing')");
            if (!"true".equals(decoy)) {
                problems.add("the decoy index " + q(d, c.index()) + " was touched: " + decoy);
            }
            if (situation == Situation.INTERRUPTED && (c.kind() == Kind.REINDEX_INDEX || c.kind() == Kind.REINDEX_TABLE)) {
                String leftover = db.scalar("select count(*) from pg_index i join pg_class x on x.oid = i.indexrelid where i.indrelid = to_regclass("
                        + lit(q(d, c.table())) + ") and not i.indisvalid and x.relname ~ '_ccnew[0-9]*$'");
                if (!"1".equals(leftover)) {
                    problems.add("the decoy's own REINDEX leftover was dropped (left: " + leftover + ")");
                }
            }
        }
        return String.join("; ", problems);
    }

    private static String lit(String s) {
        return "'" + s.replace("'", "''") + "'";
    }
}
