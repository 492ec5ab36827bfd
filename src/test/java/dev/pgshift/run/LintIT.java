package dev.pgshift.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgshift.Json;
import dev.pgshift.report.ReportSchema;
import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.OneMajor;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lint weighed with the live tables: the seed's own CHECK on an empty, a 1,000-row and a 1,000,000-row table (never
 * analyzed, then analyzed), --lint enforce refusing before any backup, overrides with and without a reason, tables the
 * pending set creates, and a long-open transaction in the way. The classification itself is proved on every major by
 * LintProofIT; what is weighed here does not depend on the major.
 */
@Tag(OneMajor.TAG)
class LintIT {
    @TempDir
    Path tmp;

    static final String USERS = "\"Tenant Data\".\"Users\"";
    static final String CHECK = "-- Add check constraint for daily quota\n"
            + "ALTER TABLE " + USERS + " ADD CONSTRAINT chk_daily_quota_positive CHECK (daily_quota > 0);\n";

    private Path dir;

    private List<String> args(String command, String... more) {
        return Fixtures.args(command, dir, more);
    }

    private JsonNode plan(TestDb db, String... more) throws Exception {
        List<String> a = new ArrayList<>(List.of("--json"));
        a.addAll(List.of(more));
        Result r = PgshiftProcess.run(args("plan", a.toArray(String[]::new)), db.env());
        assertTrue(r.exitCode() == 0 || r.exitCode() == 3, r.toString());
        return Json.MAPPER.readTree(r.stdout());
    }

    /** The one finding of {@code rule} in a plan --json, or null. */
    private static JsonNode finding(JsonNode plan, String rule) {
        JsonNode out = null;
        for (JsonNode f : plan.get("lint")) {
            if (f.get("rule").asText().equals(rule)) {
                assertNull(out, "one " + rule + " finding: " + plan.get("lint").toPrettyString());
                out = f;
            }
        }
        return out;
    }

    @Test
    void theSeedsCheckIsWeighedByTheTableItLocksAndEnforceRefusesOnlyTheBigOneBeforeAnyBackup() throws Exception {
        TestDb db = PgServer.get().newDatabase("lint_seed");
        dir = Fixtures.write(tmp.resolve("m"), "V1__users.sql", "CREATE SCHEMA \"Tenant Data\";\n"
                + "CREATE TABLE " + USERS + " (id bigint PRIMARY KEY, daily_quota int);\n");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Fixtures.write(dir, "V2__quota_check.sql", CHECK);

        JsonNode empty = finding(plan(db), "add-check");
        assertEquals("under-threshold", empty.get("decision").asText(), empty.toString());
        assertEquals(0, empty.get("rows").asLong());
        assertEquals("\"Tenant Data\".\"Users\"", empty.get("table").asText());
        assertEquals("AccessExclusiveLock", empty.get("lock").asText());
        assertTrue(empty.get("scan").asBoolean() && !empty.get("rewrite").asBoolean(), empty.toString());
        Result human = PgshiftProcess.run(args("plan"), db.env());
        assertFalse(human.stdout().contains("finding(s)"), human.stdout());
        assertTrue(human.stdout().contains("1 statement(s) touch a lint rule on a table under the rule's threshold"), human.stdout());

        db.execute("insert into " + USERS + " select g, 10 from generate_series(1, 1000) g"); // never analyzed
        assertEquals("under-threshold", finding(plan(db), "add-check").get("decision").asText());
        JsonNode low = finding(plan(db, "--lint-threshold", "add-check=500"), "add-check");
        assertEquals("warn", low.get("decision").asText(), low.toString());
        assertEquals(1000, low.get("rows").asLong(), "a table never analyzed is counted");
        assertEquals("500 rows", low.get("threshold").asText());

        db.execute("insert into " + USERS + " select g, 10 from generate_series(1001, 1000000) g");
        JsonNode big = finding(plan(db), "add-check");
        assertEquals("warn", big.get("decision").asText(), big.toString());
        assertEquals(1_000_000, big.get("rows").asLong());
        assertEquals(2, big.get("line").asInt());
        assertTrue(big.get("file").asText().endsWith("V2__quota_check.sql"));
        assertTrue(big.get("saferForm").asText().contains("ADD CONSTRAINT chk_daily_quota_positive CHECK (daily_quota > 0) NOT VALID;")
                && big.get("saferForm").asText().contains("VALIDATE CONSTRAINT chk_daily_quota_positive;"), big.toString());
        human = PgshiftProcess.run(args("plan"), db.env());
        assertTrue(human.stdout().contains("1 finding(s) (plan for downtime)") && human.stdout().contains("evidence: rule add-check; "
                + "AccessExclusiveLock on \"Tenant Data\".\"Users\", reads every row; about 1,000,000 rows"), human.stdout());
        db.execute("analyze " + USERS);
        JsonNode analyzed = finding(plan(db), "add-check");
        assertEquals("warn", analyzed.get("decision").asText());
        assertTrue(analyzed.get("rows").asLong() > 900_000, analyzed.toString());

        // enforce: refused before the backup, exit 3, named; nothing changed
        Path backups = Files.createDirectories(tmp.resolve("backups"));
        Path report = tmp.resolve("refused.json");
        Map<String, String> env = new java.util.HashMap<>(db.env());
        env.put("PGSHIFT_BACKUP_DIR", backups.toString());
        Result refused = PgshiftProcess.run(args("run", "--lint", "enforce", "--report-file", report.toString()), env);
        assertEquals(3, refused.exitCode(), refused.toString());
        assertTrue(refused.stderr().contains("V2__quota_check.sql:2") && refused.stderr().contains("rule add-check")
                && refused.stderr().contains("NOT VALID") && refused.stderr().contains("pgshift:allow"), refused.stderr());
        try (Stream<Path> files = Files.list(backups)) {
            assertEquals(List.of(), files.toList(), "no backup was made");
        }
        assertEquals(List.of("1"), db.appliedVersions());
        assertEquals("0", db.scalar("select count(*) from pg_constraint where conname = 'chk_daily_quota_positive'"));
        String refusedReport = Files.readString(report);
        ReportSchema.assertValid(refusedReport);
        assertEquals("refuse", Json.MAPPER.readTree(refusedReport).get("lint").get(0).get("decision").asText());
        assertEquals(3, PgshiftProcess.run(args("plan", "--lint", "enforce"), db.env()).exitCode(), "plan --lint enforce is a CI gate");

        // overrides: a reason is needed, the rule must exist
        Fixtures.write(dir, "V2__quota_check.sql", "-- pgshift:allow add-check reason=\"\"\n" + CHECK);
        Result noReason = PgshiftProcess.run(args("plan"), db.env());
        assertEquals(3, noReason.exitCode(), noReason.toString());
        assertTrue(noReason.stderr().contains("V2__quota_check.sql:1: an override needs its reason"), noReason.stderr());
        Fixtures.write(dir, "V2__quota_check.sql", "-- pgshift:allow add-checks reason=\"quiet\"\n" + CHECK);
        Result unknown = PgshiftProcess.run(args("run"), db.env());
        assertEquals(3, unknown.exitCode(), unknown.toString());
        assertTrue(unknown.stderr().contains("'add-checks' is no lint rule; the rules are add-check,"), unknown.stderr());
        Fixtures.write(dir, "V2__quota_check.sql", "-- pgshift:allow add-check reason=\"maintenance window, app stopped\"\n" + CHECK);
        Path allowedReport = tmp.resolve("allowed.json");
        Result allowed = PgshiftProcess.run(args("run", "--lint", "enforce", "--report-file", allowedReport.toString()), env);
        assertEquals(0, allowed.exitCode(), allowed.toString());
        JsonNode a = Json.MAPPER.readTree(Files.readString(allowedReport)).get("lint").get(0);
        assertEquals(List.of("allowed", "maintenance window, app stopped", "add-check"),
                List.of(a.get("decision").asText(), a.get("reason").asText(), a.get("rule").asText()));
        assertEquals("maintenance window, app stopped", db.scalar("select report->'lint'->0->>'reason' from pgshift.run_history "
                + "where command = 'run' order by finished_at desc limit 1"), "the override is in the history");
        assertEquals("1", db.scalar("select count(*) from pg_constraint where conname = 'chk_daily_quota_positive' and convalidated"));
    }

    /** The "done when": plan on the seed's own files warns on a 1M-row users and not on an empty one. */
    @Test
    void theSeedsOwnFileWarnsOnAMillionUsersAndNotOnNone() throws Exception {
        TestDb db = PgServer.get().newDatabase("lint_bundled");
        dir = Fixtures.copy("../../main/resources/db/migration", tmp.resolve("m"));
        for (String name : List.of("2024-01-16_100000_add_daily_quota_check", "2024-01-17_090000_backfill_generation_status")) {
            Files.move(dir.resolve(name + ".sql"), tmp.resolve(name + ".sql"));
            Files.delete(dir.resolve(name + ".rollback.sql"));
        }
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Files.move(tmp.resolve("2024-01-16_100000_add_daily_quota_check.sql"), dir.resolve("2024-01-16_100000_add_daily_quota_check.sql"));
        Result none = PgshiftProcess.run(args("plan"), db.env());
        assertFalse(none.stdout().contains("finding(s)"), none.stdout());
        db.execute("insert into users (id, email, updated_at) select 'u' || g, 'u' || g || '@example.com', now() from generate_series(1, 1000000) g");
        Result million = PgshiftProcess.run(args("plan"), db.env());
        assertTrue(million.stdout().contains("1 finding(s) (plan for downtime)") && million.stdout().contains("2024-01-16_100000_add_daily_quota_check.sql:2")
                && million.stdout().contains("about 1,000,000 rows") && million.stdout().contains("CHECK (daily_quota > 0) NOT VALID;")
                && million.stdout().contains("VALIDATE CONSTRAINT chk_daily_quota_positive;"), million.stdout());
    }

    @Test
    void tablesThePendingSetCreatesAreExemptAndALongOpenTransactionInTheWayIsNamed() throws Exception {
        TestDb db = PgServer.get().newDatabase("lint_new");
        dir = Fixtures.write(tmp.resolve("m"), "V1__old.sql", "CREATE TABLE \"Old\" (id int PRIMARY KEY, v int);\n"
                + "INSERT INTO \"Old\" SELECT g, g FROM generate_series(1, 2000) g;\n");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Fixtures.write(dir, "V2__new.sql", "CREATE TABLE app_events (id int PRIMARY KEY, v int);\n"
                + "CREATE INDEX app_events_v ON app_events (v);\n"
                + "ALTER TABLE app_events RENAME TO events;\n"
                + "ALTER TABLE events ADD CONSTRAINT v_pos CHECK (v > 0);\n",
                "V3__old.sql", "CREATE INDEX old_v ON \"Old\" (v);\n");
        JsonNode plan = plan(db, "--lint-threshold", "create-index=1000,add-check=1000");
        assertEquals(1, plan.get("lint").size(), plan.get("lint").toPrettyString());
        JsonNode f = plan.get("lint").get(0);
        assertEquals(List.of("create-index", "warn", "V3__old.sql", "public.\"Old\""), List.of(f.get("rule").asText(), f.get("decision").asText(),
                Path.of(f.get("file").asText()).getFileName().toString(), f.get("table").asText()));
        assertTrue(f.get("saferForm").asText().startsWith("CREATE INDEX CONCURRENTLY old_v ON \"Old\" (v);"), f.toString());

        try (Connection holder = db.connect(); Statement st = holder.createStatement()) {
            holder.setAutoCommit(false);
            st.execute("update \"Old\" set v = v where id = 1"); // a RowExclusiveLock, which CREATE INDEX's ShareLock waits for
            st.execute("set application_name = 'report-job'");
            Thread.sleep(1500);
            JsonNode queued = finding(plan(db, "--lint-threshold", "lock-queue=1s"), "lock-queue");
            assertEquals("warn", queued.get("decision").asText(), queued.toString());
            assertTrue(queued.get("risk").asText().contains("(report-job, user ") && queued.get("risk").asText().contains("idle in transaction"),
                    queued.toString());
            assertEquals("ShareLock", queued.get("lock").asText());
            assertFalse(queued.get("risk").asText().contains("set v = v"), "no query text: it may hold secrets");
            Fixtures.write(dir, "V4__fk.sql", "ALTER TABLE events ADD COLUMN old_id int;\n"
                    + "ALTER TABLE \"Small\" ADD CONSTRAINT small_old FOREIGN KEY (v) REFERENCES \"Old\" (id) NOT VALID;\n");
            db.execute("create table \"Small\" (id int primary key, v int)");
            JsonNode fk = plan(db, "--lint-threshold", "lock-queue=1s");
            List<String> queues = new ArrayList<>();
            fk.get("lint").forEach(x -> queues.add(x.get("rule").asText() + " " + Path.of(x.get("file").asText()).getFileName() + ":" + x.get("line").asInt()));
            assertTrue(queues.contains("lock-queue V4__fk.sql:2"), "a foreign key also locks the table it references: " + fk.get("lint").toPrettyString());
            Files.delete(dir.resolve("V4__fk.sql"));
            holder.rollback();
        }
        assertNull(finding(plan(db, "--lint-threshold", "lock-queue=1s"), "lock-queue"), "the transaction has ended");
    }
}
