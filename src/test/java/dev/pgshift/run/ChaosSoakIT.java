package dev.pgshift.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos soak: a run killed (mostly SIGKILL, sometimes SIGTERM) at a random point — weighted so that the backup and
 * each concurrent build are hit — and then simply run again must end exactly where an uninterrupted run ends. Seeded and
 * printed, so a failing trial can be replayed: {@code -Dsoak.trials=N -Dsoak.seed=S} (bench/chaos-soak.sh N S).
 */
class ChaosSoakIT {
    private static final int TRIALS = Integer.getInteger("soak.trials", 8);
    private static final long SEED = Long.getLong("soak.seed", 20261124L);

    @TempDir
    Path tmp;

    /** Where a trial aims its signal. */
    private enum Target {
        ANY_TIME, BACKUP, BUILD_EMAIL, BUILD_ORDERS, BUILD_STATUS, OWN_BLOCKS
    }

    private static final Map<Target, String> BUILD_OF = Map.of(Target.BUILD_EMAIL, "accounts_email_key", Target.BUILD_ORDERS,
            "orders_account_idx", Target.BUILD_STATUS, "accounts_status_idx");

    /**
     * The 21 migrations: a 1M-row fill, backfills, three concurrent builds, NOT VALID + VALIDATE, a Prisma pair, timestamp
     * files, a file with its own transactions (two blocks). Written as real migrations must be: an interrupted fill has used sequence values (sequences are not
     * transactional), so nothing assumes that ids start at 1 without gaps.
     */
    private Path migrations() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("migrations"));
        Map<String, String> m = new LinkedHashMap<>();
        m.put("V1__accounts.sql", "CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL, balance int NOT NULL);\n");
        m.put("V2__fill_accounts.sql", "INSERT INTO accounts (email, balance) SELECT 'user' || g || '@example.com', g % 1000 "
                + "FROM generate_series(1, 1000000) g;\n");
        m.put("V3__orders.sql", "CREATE TABLE orders (id bigserial PRIMARY KEY, account_id bigint NOT NULL, amount int NOT NULL);\n");
        m.put("V4__fill_orders.sql", "INSERT INTO orders (account_id, amount) SELECT id, id % 50 FROM accounts ORDER BY id LIMIT 200000;\n");
        m.put("V5__backfill_status.sql", "ALTER TABLE accounts ADD COLUMN status text;\nUPDATE accounts SET status = 'active' WHERE balance % 2 = 0;\n");
        m.put("V6__email_unique.sql", "-- one account per address; built without blocking writes\n"
                + "CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key ON accounts (email);\n");
        m.put("V7__orders_account.sql", "CREATE INDEX CONCURRENTLY orders_account_idx ON orders (account_id);\n");
        m.put("V8__orders_fk.sql", "ALTER TABLE orders ADD CONSTRAINT orders_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;\n");
        m.put("V9__orders_fk_validate.sql", "ALTER TABLE orders VALIDATE CONSTRAINT orders_account_fk;\n");
        m.put("20240101000000_audit/migration.sql", "CREATE TABLE audit (id serial PRIMARY KEY, account_id bigint NOT NULL, note text);\n");
        m.put("20240101000000_audit_backfill/migration.sql", "INSERT INTO audit (account_id, note) SELECT id, 'created' FROM accounts "
                + "ORDER BY id LIMIT 100000;\n");
        m.put("2024-01-02_120000_balance_check.sql", "ALTER TABLE accounts ADD CONSTRAINT balance_nonneg CHECK (balance >= 0) NOT VALID;\n");
        m.put("2024-01-02_120100_balance_validate.sql", "ALTER TABLE accounts VALIDATE CONSTRAINT balance_nonneg;\n");
        m.put("2024-01-02_120200_status_index.sql", "CREATE INDEX CONCURRENTLY accounts_status_idx ON accounts (status) WHERE status IS NOT NULL;\n");
        m.put("2024-01-02_120300_backfill_orders.sql", "UPDATE orders SET amount = amount + 1 WHERE id % 10 = 0;\n");
        m.put("2024-01-02_120400_active_view.sql", "CREATE VIEW active_accounts AS SELECT id, email FROM accounts WHERE status = 'active';\n");
        m.put("2024-01-02_120500_totals.sql", "CREATE TABLE totals AS SELECT account_id, sum(amount) AS total FROM orders GROUP BY account_id;\n");
        m.put("2024-01-02_120600_totals_pk.sql", "ALTER TABLE totals ADD PRIMARY KEY (account_id);\n");
        m.put("2024-01-02_120700_audit_note.sql", "ALTER TABLE audit ALTER COLUMN note SET DEFAULT 'none';\n");
        m.put("2024-01-02_120800_comment.sql", "COMMENT ON TABLE accounts IS 'soaked';\n");
        // Prisma's shape of file with its own transactions: two blocks and a statement between them; a kill anywhere in
        // it is resumed after the last commit, with no manual step.
        m.put("2024-01-02_120900_own_blocks.sql", "BEGIN;\nCREATE TABLE own_blocks (id int);\nINSERT INTO own_blocks VALUES (1);\nCOMMIT;\n"
                + "INSERT INTO own_blocks VALUES (2);\nBEGIN;\nUPDATE accounts SET balance = balance + 0 WHERE id % 20 = 0;\n"
                + "INSERT INTO own_blocks VALUES (3);\nCOMMIT;\n");
        for (Map.Entry<String, String> e : m.entrySet()) {
            Path f = dir.resolve(e.getKey());
            Files.createDirectories(f.getParent());
            Files.writeString(f, e.getValue());
        }
        return dir;
    }

    private List<String> args(Path migrations, Path backups, String... more) {
        List<String> a = Fixtures.args(more[0], migrations, java.util.Arrays.copyOfRange(more, 1, more.length));
        a.addAll(List.of("--backup", "always", "--backup-dir", backups.toString()));
        return a;
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.HOURS)
    void aRunKilledAnywhereIsCompletedByTheNextRunWithNoManualStep() throws Exception {
        Path migrations = migrations();
        Random random = new Random(SEED);
        System.out.printf("chaos soak: %d trial(s), seed %d (replay: -Dsoak.trials=%d -Dsoak.seed=%d)%n", TRIALS, SEED, TRIALS, SEED);

        // Calibration: an uninterrupted run, which also proves the set and the checks.
        TestDb first = PgServer.get().newDatabase("soak_calibrate");
        long start = System.nanoTime();
        Result whole = PgshiftProcess.run(args(migrations, tmp.resolve("b0"), "run"), first.env());
        long wholeMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(0, whole.exitCode(), whole.toString());
        check(first, tmp.resolve("b0"), "calibration");
        drop(first);
        System.out.printf("chaos soak: an uninterrupted run takes %d ms%n", wholeMs);

        Map<String, Integer> landed = new TreeMap<>();
        for (int trial = 1; trial <= TRIALS; trial++) {
            Target target = pick(random);
            String signal = random.nextInt(5) == 0 ? "TERM" : "KILL";
            long delayMs = target == Target.ANY_TIME ? 300 + (long) (random.nextDouble() * wholeMs)
                    : target == Target.OWN_BLOCKS ? (long) (random.nextDouble() * 150) : (long) (random.nextDouble() * 600);
            TestDb db = PgServer.get().newDatabase("soak");
            Path backups = tmp.resolve("b" + trial);
            PgshiftProcess run = PgshiftProcess.start(args(migrations, backups, "run"), db.env());
            boolean hit = awaitTarget(db, run, target);
            if (hit) {
                Thread.sleep(delayMs);
            }
            String where = progress(run.stderrSoFar());
            boolean alive = run.process().isAlive();
            if (alive) {
                run.signal(signal);
            }
            Result killed = run.await(Duration.ofSeconds(120));
            String phase = alive ? where : "after the end";
            landed.merge(phase, 1, Integer::sum);
            long again = System.nanoTime();
            Result rerun = PgshiftProcess.run(args(migrations, backups, "run"), db.env());
            String line = String.format("trial %d: %s aimed at %s (+%d ms), landed %s; first run exit %d; rerun exit %d in %d ms", trial,
                    signal, target, delayMs, phase, killed.exitCode(), rerun.exitCode(), (System.nanoTime() - again) / 1_000_000);
            System.out.println("chaos soak: " + line);
            if (alive && signal.equals("TERM") && killed.exitCode() != 0) {
                assertEquals(75, killed.exitCode(), line + ": SIGTERM ends a run with exit 75 wherever it lands\n" + killed);
            }
            assertEquals(0, rerun.exitCode(), line + "\n" + killed + "\n" + rerun);
            check(db, backups, line);
            drop(db);
        }
        System.out.println("chaos soak: " + TRIALS + " of " + TRIALS + " recovered with no manual step; landed: " + landed);
    }

    private static Target pick(Random random) {
        int r = random.nextInt(100);
        return r < 35 ? Target.ANY_TIME : r < 48 ? Target.BACKUP : r < 61 ? Target.BUILD_EMAIL : r < 74 ? Target.BUILD_ORDERS
                : r < 87 ? Target.BUILD_STATUS : Target.OWN_BLOCKS;
    }

    /** Waits until the run reaches the target (true), or has ended (false). */
    private static boolean awaitTarget(TestDb db, PgshiftProcess run, Target target) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (run.process().isAlive() && System.nanoTime() < deadline) {
            boolean there = switch (target) {
                case ANY_TIME -> true;
                case BACKUP -> run.stderrSoFar().contains("backing up");
                case OWN_BLOCKS -> run.stderrSoFar().contains("own_blocks.sql (own transactions)");
                default -> !db.query("select 1 from pg_stat_activity where application_name like 'pgshift%' and state = 'active' "
                        + "and query like '%CONCURRENTLY " + BUILD_OF.get(target) + "%'").isEmpty();
            };
            if (there) {
                return true;
            }
            Thread.sleep(10);
        }
        return false;
    }

    /** The phase a log shows last: the backup, a migration being applied, or the checks. */
    private static String progress(String log) {
        String last = "start";
        for (String l : log.split("\n")) {
            if (l.contains("backing up")) {
                last = "backup";
            } else if (l.contains("applying ")) {
                String rest = l.substring(l.indexOf("applying ") + "applying ".length());
                last = "migrate " + rest.substring(0, rest.indexOf(':') > 0 ? rest.indexOf(':') : rest.length());
            } else if (l.contains("[d.p.v.")) {
                last = "verify";
            }
        }
        return last;
    }

    /** What an uninterrupted run leaves, checked as a user would. */
    private static void check(TestDb db, Path backups, String trial) throws Exception {
        assertEquals(List.of(List.of("21", "21", "0")), db.query("select count(*), count(distinct version), count(*) filter (where not success) "
                + "from flyway_schema_history where version is not null"), trial + ": every version once and successful");
        assertEquals(List.of(List.of("accounts_email_key", "t"), List.of("accounts_pkey", "t"), List.of("accounts_status_idx", "t"),
                List.of("audit_pkey", "t"), List.of("flyway_schema_history_pk", "t"), List.of("flyway_schema_history_s_idx", "t"),
                List.of("orders_account_idx", "t"), List.of("orders_pkey", "t"), List.of("totals_pkey", "t")),
                db.query("select c.relname, i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid "
                        + "join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' order by 1"),
                trial + ": exactly the expected indexes, all valid (no _ccnew, no leftover INVALID index)");
        assertEquals(List.of(List.of("1000000", "500000", "200000", "100000", "t", "t", "t")), db.query("select "
                + "(select count(*) from accounts), (select count(*) from accounts where status = 'active'), (select count(*) from orders), "
                + "(select count(*) from audit), (select count(*) = (select count(distinct account_id) from orders) from totals), "
                + "(select sum(total) = (select sum(amount) from orders) from totals), "
                + "(select bool_and(convalidated) from pg_constraint where conname in ('orders_account_fk', 'balance_nonneg'))"),
                trial + ": row counts and constraints");
        assertEquals(List.of(List.of("1"), List.of("2"), List.of("3")), db.query("select id from own_blocks order by id"),
                trial + ": each statement of the file with its own transactions ran once");
        try (Stream<Path> s = Files.list(backups)) {
            List<String> files = s.map(p -> p.getFileName().toString()).sorted().toList();
            for (String f : files) {
                boolean complete = f.endsWith(".dump") ? files.contains(f + ".manifest.json")
                        : f.endsWith(".dump.manifest.json") && files.contains(f.substring(0, f.length() - ".manifest.json".length()));
                assertTrue(complete, trial + ": orphan or partial backup file " + f + " in " + files);
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        List<List<String>> left;
        while (!(left = db.query("select pid, application_name, state, query from pg_stat_activity where application_name like 'pgshift%' "
                + "and datname = current_database()")).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(List.of(), left, trial + ": no pgshift session left on the server");
    }

    private static void drop(TestDb db) throws Exception {
        try (Connection c = db.server().admin("postgres"); Statement st = c.createStatement()) {
            st.execute("drop database " + db.name() + " with (force)");
        }
    }
}
