package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** plan: what would run, its modes and warnings; JSON on stdout only; changes nothing. */
@org.junit.jupiter.api.Tag(dev.pgshift.testing.OneMajor.TAG) // what plan shows and refuses is pgshift's, whatever the server; LintProofIT checks the classification per major
class PlanIT {
    @TempDir
    Path tmp;

    private static List<String> pendingVersions(JsonNode plan) {
        List<String> out = new ArrayList<>();
        plan.get("migrations").forEach(m -> {
            if (m.get("state").asText().equals("pending")) {
                out.add(m.get("version").asText());
            }
        });
        return out;
    }

    @Test
    void planOnADatabaseBehindShowsExactlyWhatIsPendingWithModesAndWarnings() throws Exception {
        TestDb db = PgServer.get().newDatabase("plan");
        Path partial = Fixtures.copy("../../main/resources/db/migration", tmp.resolve("m"));
        for (String name : List.of("2024-01-16_100000_add_daily_quota_check", "2024-01-17_090000_backfill_generation_status")) {
            Files.delete(partial.resolve(name + ".sql"));
            Files.delete(partial.resolve(name + ".rollback.sql"));
        }
        assertEquals(0, PgshiftProcess.run(List.of("migrate", "--bundled=false", "--migrations", partial.toString()), db.env()).exitCode());
        String before = db.catalogSnapshot();

        Result r = PgshiftProcess.run(List.of("plan", "--json"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        JsonNode plan = new ObjectMapper().readTree(r.stdout());
        assertEquals(List.of("20240116100000", "20240117090000"), pendingVersions(plan));
        assertEquals("20240115143000", plan.get("currentVersion").asText());
        JsonNode indexes = plan.get("migrations").get(2);
        assertEquals("outside transaction", indexes.get("mode").asText());
        assertEquals("applied", indexes.get("state").asText());
        assertEquals(2, plan.get("lint").size(), plan.toPrettyString());
        assertEquals("big-write", plan.get("lint").get(1).get("rule").asText(), "the seed's data migration, on a small table");
        assertEquals("under-threshold", plan.get("lint").get(1).get("decision").asText());
        JsonNode w = plan.get("lint").get(0);
        assertEquals("add-check", w.get("rule").asText());
        assertEquals("under-threshold", w.get("decision").asText(), "the demo's users table is small: " + w);
        assertTrue(w.get("file").asText().endsWith("2024-01-16_100000_add_daily_quota_check.sql"), w.toString());
        assertEquals(2, w.get("line").asInt());
        assertTrue(w.get("saferForm").asText().contains("NOT VALID"), w.toString());
        assertEquals(before, db.catalogSnapshot(), "plan changes nothing");

        Result human = PgshiftProcess.run(List.of("plan"), db.env());
        assertTrue(human.stdout().contains("2 pending"), human.stdout());
        assertTrue(human.stdout().contains("2 statement(s) touch a lint rule on a table under the rule's threshold"), human.stdout());
        Result low = PgshiftProcess.run(List.of("plan", "--lint-threshold", "add-check=1/8kB"), db.env());
        assertTrue(low.stdout().contains("1 finding(s) (plan for downtime)"), low.stdout());

        Result run = PgshiftProcess.run(List.of("run", "--lint-threshold", "add-check=1/8kB"), db.env());
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.stderr().contains("plan for downtime"), run.stderr());
        assertTrue(run.stdout().contains("warning   "), run.stdout());

        Files.delete(partial.resolve("20240112090000_character_generation_status/migration.sql"));
        Files.delete(partial.resolve("20240112090000_character_generation_status/down.sql"));
        TestDb behind = PgServer.get().newDatabase("behind");
        Files.copy(Path.of("src/main/resources/db/migration/2024-01-16_100000_add_daily_quota_check.sql"),
                partial.resolve("2024-01-16_100000_add_daily_quota_check.sql"));
        Files.copy(Path.of("src/main/resources/db/migration/20240112090000_character_generation_status/migration.sql"),
                partial.resolve("20240112090000_character_generation_status/migration.sql"));
        assertEquals(0, PgshiftProcess.run(List.of("migrate", "--bundled=false", "--migrations", partial.toString()), behind.env()).exitCode());
        JsonNode oneBehind = new ObjectMapper().readTree(PgshiftProcess.run(List.of("plan", "--json"), behind.env()).stdout());
        assertEquals(List.of("20240117090000"), pendingVersions(oneBehind));
        assertEquals(1, oneBehind.get("lint").size(), oneBehind.toPrettyString());
        assertEquals("under-threshold", oneBehind.get("lint").get(0).get("decision").asText());
    }
}
