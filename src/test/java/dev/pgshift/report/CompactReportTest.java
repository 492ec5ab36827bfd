package dev.pgshift.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CompactReportTest {

    private static Report report(int migrations, String error) {
        return report(migrations, error, null);
    }

    private static Report report(int migrations, String error, dev.pgshift.backup.BackupManifest backup) {
        List<Report.Migration> ms = new ArrayList<>();
        for (int i = 1; i <= migrations; i++) {
            ms.add(new Report.Migration("2024010112" + String.format("%04d", i), "step " + i, "/m/V" + i + "__step.sql", "transaction", 3, null));
        }
        return new Report(1, "7f0c3a6e-0000-4000-8000-000000000001", "run", "0.1.0", Instant.EPOCH, Instant.EPOCH, 0, "FAILED", 5, "migrate",
                error, "db:5432/app", "15.14", "TLSv1.3, sslmode verify-full", List.of(), ms, backup, List.of(), List.of(), List.of(), null, "pod-1", "app");
    }

    @Test
    void fiveHundredMigrationsAndAHugeErrorStillFitAndKeepWhatMatters() throws Exception {
        String compact = CompactReport.of(report(500, "boom ".repeat(3000)));
        assertTrue(compact.getBytes(StandardCharsets.UTF_8).length <= 4096, compact.length() + " bytes");
        JsonNode n = new ObjectMapper().readTree(compact);
        assertEquals("FAILED", n.get("outcome").asText());
        assertEquals(5, n.get("exitCode").asInt());
        assertEquals("migrate", n.get("failedPhase").asText());
        assertTrue(n.get("error").asText().startsWith("boom boom") && n.get("error").asText().endsWith("[cut]"));
        assertEquals(500, n.get("applied").asInt());
    }

    @Test
    void aSmallReportKeepsItsMigrationList() throws Exception {
        JsonNode n = new ObjectMapper().readTree(CompactReport.of(report(3, null)));
        assertEquals(3, n.get("migrations").size());
        assertEquals("202401011200" + "03", n.get("lastApplied").asText());
    }

    @Test
    void aRestorePointIsNamedWhereADumpFileWouldBe() throws Exception {
        var point = new dev.pgshift.backup.RestorePoint("pgshift/7f0c3a6e/20240101120001", "0/3000090", "000000010000000000000003", 1,
                "7312345678901234567", Instant.EPOCH, Instant.EPOCH, true, 1L << 40);
        var manifest = dev.pgshift.backup.BackupManifest.of(point, "app", "db", 5432, "15.14", "20240101120001", List.of(), "7f0c3a6e", Instant.EPOCH);
        JsonNode n = new ObjectMapper().readTree(CompactReport.of(report(3, null, manifest)));
        assertEquals("restore point pgshift/7f0c3a6e/20240101120001", n.get("backup").asText());
    }
}
