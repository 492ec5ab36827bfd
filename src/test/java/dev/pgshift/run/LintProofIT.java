package dev.pgshift.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.source.Effect;
import dev.pgshift.source.Lint;
import dev.pgshift.source.SqlStatement;
import dev.pgshift.source.SqlTokenizer;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.TestDb;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The lint's rules proved against the server, on every major: for each rule's statement and its safe form, what
 * PostgreSQL does to the table is observed — the strongest lock held on it ({@code pg_locks}, held to the end of the
 * transaction), a rewrite (a new {@code relfilenode}), a scan (the transaction's own {@code seq_scan} in
 * {@code pg_stat_xact_user_tables}) — and must be what the lint's classifier says for that statement on that major,
 * with the live catalog the plan uses. Each statement runs in a transaction that is rolled back. Statements that refuse
 * a transaction are watched from a third session while they wait for an older transaction.
 */
class LintProofIT {

    /** Lock, rewrite, scan as "AccessExclusiveLock rewrite scan". */
    static String describe(String lock, boolean rewrite, boolean scan) {
        return lock + (rewrite ? " rewrite" : "") + (scan ? " scan" : "");
    }

    static String observe(Connection c, String table, String statement) throws Exception {
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            long before = relfilenode(st, table);
            long scansBefore = scans(st, table);
            st.execute(statement);
            String lock;
            try (ResultSet rs = st.executeQuery("select mode from pg_locks where pid = pg_backend_pid() and locktype = 'relation' "
                    + "and relation = '" + table + "'::regclass and granted order by array_position(array['AccessShareLock', 'RowShareLock', "
                    + "'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', "
                    + "'AccessExclusiveLock'], mode) desc limit 1")) {
                lock = rs.next() ? rs.getString(1) : "none";
            }
            return describe(lock, relfilenode(st, table) != before, scans(st, table) > scansBefore);
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    private static long relfilenode(Statement st, String table) throws Exception {
        try (ResultSet rs = st.executeQuery("select pg_relation_filenode('" + table + "')")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long scans(Statement st, String table) throws Exception {
        try (ResultSet rs = st.executeQuery("select coalesce(seq_scan, 0) from pg_stat_xact_user_tables where relid = '" + table + "'::regclass")) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    static Effect classify(Connection c, String statement) {
        SqlStatement s = SqlTokenizer.split(statement + ";").get(0);
        return Lint.effect(s, new LiveTableCatalog(c));
    }

    static String classified(Connection c, String table, String statement) throws Exception {
        Effect e = classify(c, statement);
        if (e == null) {
            return "not classified";
        }
        String t;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select '" + table + "'::regclass::text")) {
            rs.next();
            t = rs.getString(1);
        }
        return (e.table().toString().equals(t) || e.table().toString().endsWith("." + t) ? "" : "on " + e.table() + ": ")
                + describe(e.lock().pgName(), e.rewrite(), e.scan());
    }

    @Test
    void eachRuleAndItsSafeFormDoWhatTheLintSaysOnThisMajor() throws Exception {
        TestDb db = PgServer.get().newDatabase("lintproof");
        int major = PgServer.get().major();
        db.execute("create schema \"App Data\"");
        db.execute("create table p (id int primary key)");
        db.execute("insert into p select generate_series(1, 1000)");
        db.execute("create table \"App Data\".t (id int primary key, a int, b text, p int)");
        db.execute("insert into \"App Data\".t select g, g, 'x' || g, g from generate_series(1, 1000) g");
        db.execute("analyze \"App Data\".t");
        db.execute("create domain \"App Data\".posint as int check (value > 0)");
        db.execute("create table parted (id int, k int) partition by range (k)");
        db.execute("create table part1 partition of parted for values from (0) to (100)");
        String t = "\"App Data\".t";
        // table probed, statement, then a committed setup and its undo (the safe forms' second steps)
        String[][] cases = {
            {t, "ALTER TABLE \"App Data\".t ADD COLUMN d int"},
            {t, "ALTER TABLE \"App Data\".t ADD COLUMN d int DEFAULT 5"},
            {t, "ALTER TABLE \"App Data\".t ADD COLUMN d int NOT NULL DEFAULT 5"},
            {t, "ALTER TABLE \"App Data\".t ADD COLUMN d timestamptz DEFAULT now()"},
            {t, "ALTER TABLE \"App Data\".t ADD COLUMN d timestamptz DEFAULT clock_timestamp()"},
            {t, "ALTER TABLE \"App Data\".t ADD COLUMN d serial"},
            {t, "ALTER TABLE \"App Data\".t ADD COLUMN d \"App Data\".posint DEFAULT 1"},
            {t, "ALTER TABLE \"App Data\".t ADD COLUMN d \"App Data\".posint"},
            {t, "ALTER TABLE \"App Data\".t ADD COLUMN d int GENERATED ALWAYS AS IDENTITY"},
            {t, "ALTER TABLE \"App Data\".t ADD CONSTRAINT chk CHECK (a > 0)"},
            {t, "ALTER TABLE \"App Data\".t ADD CONSTRAINT chk CHECK (a > 0) NOT VALID"},
            {t, "ALTER TABLE \"App Data\".t VALIDATE CONSTRAINT chk", "ALTER TABLE \"App Data\".t ADD CONSTRAINT chk CHECK (a > 0) NOT VALID",
                "ALTER TABLE \"App Data\".t DROP CONSTRAINT chk"},
            {t, "ALTER TABLE \"App Data\".t ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES p (id)"},
            {t, "ALTER TABLE \"App Data\".t ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES p (id) NOT VALID"},
            {t, "ALTER TABLE \"App Data\".t VALIDATE CONSTRAINT fk", "ALTER TABLE \"App Data\".t ADD CONSTRAINT fk FOREIGN KEY (p) REFERENCES p (id) NOT VALID",
                "ALTER TABLE \"App Data\".t DROP CONSTRAINT fk"},
            {t, "ALTER TABLE \"App Data\".t ALTER COLUMN a SET NOT NULL"},
            {t, "ALTER TABLE \"App Data\".t ALTER COLUMN a SET NOT NULL", "ALTER TABLE \"App Data\".t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL)",
                "ALTER TABLE \"App Data\".t DROP CONSTRAINT a_nn"},
            {t, "ALTER TABLE \"App Data\".t ADD CONSTRAINT a_key UNIQUE (a)"},
            {t, "ALTER TABLE \"App Data\".t ADD COLUMN d int UNIQUE"},
            {t, "ALTER TABLE \"App Data\".t ADD CONSTRAINT a_excl EXCLUDE USING btree (a WITH =)"},
            {t, "CLUSTER \"App Data\".t USING t_pkey"},
            {t, "ALTER TABLE \"App Data\".t SET UNLOGGED"},
            {t, "ALTER TABLE \"App Data\".t ADD CONSTRAINT a_key UNIQUE USING INDEX t_a_idx", "CREATE UNIQUE INDEX t_a_idx ON \"App Data\".t (a)",
                "DROP INDEX IF EXISTS \"App Data\".t_a_idx"},
            {t, "CREATE INDEX t_a ON \"App Data\".t (a)"},
            {t, "REINDEX TABLE \"App Data\".t"},
            {t, "ALTER TABLE \"App Data\".t ALTER COLUMN a TYPE bigint"},
            // not binary-coercible as written: varchar(100)'s length check is a function, so the table is rewritten
            {t, "ALTER TABLE \"App Data\".t ALTER COLUMN b TYPE varchar(100)"},
            {t, "ALTER TABLE \"App Data\".t ALTER COLUMN b TYPE varchar"},
            {t, "ALTER TABLE \"App Data\".t ALTER COLUMN b TYPE int USING length(b)"},
            {t, "ALTER TABLE \"App Data\".t ALTER COLUMN a SET STATISTICS 500"},
            {t, "ALTER TABLE \"App Data\".t SET (fillfactor = 70)"},
            {t, "ALTER TABLE \"App Data\".t DROP COLUMN b"},
            {t, "ALTER TABLE \"App Data\".t RENAME COLUMN b TO bb"},
            {t, "UPDATE \"App Data\".t SET a = a + 1"},
            {t, "DELETE FROM \"App Data\".t"},
            {t, "TRUNCATE \"App Data\".t"},
            {"parted", "ALTER TABLE parted DETACH PARTITION part1"},
        };
        List<String> observed = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        try (Connection c = db.connect()) {
            for (String[] k : cases) {
                if (k.length > 2) {
                    db.execute(k[2]);
                }
                observed.add(k[1] + " -> " + observe(c, k[0], k[1]));
                expected.add(k[1] + " -> " + classified(c, k[0], k[1]));
                if (k.length > 2) {
                    db.execute(k[3]);
                }
            }
            if (major >= 18) { // NOT NULL ... NOT VALID, then VALIDATE: new in 18
                String add = "ALTER TABLE \"App Data\".t ADD CONSTRAINT a_nn NOT NULL a NOT VALID";
                observed.add(add + " -> " + observe(c, t, add));
                expected.add(add + " -> " + classified(c, t, add));
                db.execute(add);
                String validate = "ALTER TABLE \"App Data\".t VALIDATE CONSTRAINT a_nn";
                observed.add(validate + " -> " + observe(c, t, validate));
                expected.add(validate + " -> " + classified(c, t, validate));
                db.execute(validate);
                assertEquals("t", db.scalar("select attnotnull from pg_attribute where attrelid = '\"App Data\".t'::regclass and attname = 'a'"),
                        "18's safe form leaves the column NOT NULL once validated");
            }
        }
        System.out.println("PostgreSQL " + major + ", observed:\n  " + String.join("\n  ", observed));
        assertEquals(String.join("\n", expected), String.join("\n", observed), "the lint's classification (expected) against the server (actual)");
    }

    /**
     * A statement that refuses a transaction block runs on its own session while another holds a transaction open on
     * the table; a third session reads the locks it holds on the table while it waits.
     */
    static String observeWaiting(TestDb db, String table, String statement) throws Exception {
        try (Connection holder = db.connect(); Connection runner = db.connect(); Connection observer = db.connect();
                Statement h = holder.createStatement(); Statement o = observer.createStatement()) {
            holder.setAutoCommit(false);
            h.execute("select count(*) from " + table); // a snapshot and an AccessShareLock, open
            int pid;
            try (Statement r = runner.createStatement(); ResultSet rs = r.executeQuery("select pg_backend_pid()")) {
                rs.next();
                pid = rs.getInt(1);
            }
            Thread th = new Thread(() -> {
                try (Statement r = runner.createStatement()) {
                    r.execute(statement);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            th.start();
            String granted = null;
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (granted == null && System.nanoTime() < deadline) {
                try (ResultSet rs = o.executeQuery("select a.wait_event_type = 'Lock', (select string_agg(l.mode, ',' order by l.mode) "
                        + "from pg_locks l where l.pid = a.pid and l.locktype = 'relation' and l.granted and l.relation = '" + table
                        + "'::regclass) from pg_stat_activity a where a.pid = " + pid)) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        granted = rs.getString(2) == null ? "none" : rs.getString(2); // DETACH CONCURRENTLY holds none while it waits
                    }
                }
                Thread.sleep(20);
            }
            holder.rollback();
            th.join(20_000);
            return granted == null ? "did not wait" : granted;
        }
    }

    @Test
    void theConcurrentSafeFormsWaitForOlderTransactionsHoldingNoMoreThanTheLintSays() throws Exception {
        TestDb db = PgServer.get().newDatabase("lintproof_wait");
        db.execute("create table t (id int primary key, a int)");
        db.execute("insert into t select g, g from generate_series(1, 1000) g");
        db.execute("create table parted (id int, k int) partition by range (k)");
        db.execute("create table part1 partition of parted for values from (0) to (100)");
        String[][] cases = {
            {"t", "CREATE INDEX CONCURRENTLY t_a_cic ON t (a)"},
            {"t", "REINDEX INDEX CONCURRENTLY t_pkey"},
            {"t", "DROP INDEX CONCURRENTLY t_a_cic"},
            {"parted", "ALTER TABLE parted DETACH PARTITION part1 CONCURRENTLY"},
        };
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect()) {
            for (String[] k : cases) {
                Effect e = classify(c, k[1]); // before it runs: the index still exists for DROP INDEX to find its table
                String seen = observeWaiting(db, k[0], k[1]);
                out.add(k[1] + " -> " + seen);
                assertTrue(e != null && e.waits(), k[1] + ": the lint says it waits for older transactions: " + e);
                Effect.Lock held = seen.equals("none") ? Effect.Lock.ACCESS_SHARE : Effect.Lock.of(seen);
                assertTrue(held != null && held.compareTo(e.lock()) <= 0, k[1] + ": held " + seen + " while waiting, the lint says " + e.lock());
                assertTrue(e.lock().compareTo(Effect.Lock.SHARE_UPDATE_EXCLUSIVE) <= 0, k[1] + " lets reads and writes go on: " + e.lock());
            }
        }
        System.out.println("PostgreSQL " + PgServer.get().major() + ", while waiting:\n  " + String.join("\n  ", out));
    }
}
