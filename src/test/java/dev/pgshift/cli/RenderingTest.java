package dev.pgshift.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.report.HistoryTable;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The human output: pgshift history in columns that line up whatever their values' widths. */
class RenderingTest {

    private static HistoryTable.Entry entry(String command, String outcome, int exit, long ms, String versions, String backup, String host,
            String reason) {
        Instant start = Instant.parse("2026-11-24T21:00:00Z");
        return new HistoryTable.Entry("id", command, Timestamp.from(start), Timestamp.from(start.plusMillis(ms)), outcome, exit, versions,
                backup, "0.1.0", host, "root", reason, "{}");
    }

    @Test
    void historyColumnsLineUpAndShowEachRunsFacts() {
        StringWriter out = new StringWriter();
        Rendering.history(new PrintWriter(out), List.of(
                entry("repair", "SUCCEEDED", 0, 120, "1", null, "pgshift-migrate-x7k2p", "comment only"),
                entry("run", "FAILED", 75, 61_000, "", null, "h", null),
                entry("rollback", "SUCCEEDED", 0, 3_400, "20240115143000,20240116100000", "20261124T210000Z_app_1234abcd.dump", null, null)));
        List<String> lines = out.toString().lines().toList();
        assertEquals(4, lines.size(), out.toString());
        for (String column : List.of("command", "outcome", "duration", "versions", "backup", "pgshift", "host", "user", "reason")) {
            int at = lines.get(0).indexOf(column);
            assertTrue(at > 0, column);
            for (String line : lines.subList(1, lines.size())) {
                int end = column.equals("duration") ? at + column.length() : at;
                if (column.equals("duration")) {
                    assertEquals(' ', line.charAt(end), "right-aligned " + column + ":\n" + out);
                    assertTrue(line.charAt(end - 1) == 's', "right-aligned " + column + ":\n" + out);
                } else {
                    assertTrue(line.charAt(at - 1) == ' ' && line.charAt(at - 2) == ' ' && line.charAt(at) != ' ',
                            column + " starts at " + at + " in every line:\n" + out);
                }
            }
        }
        assertTrue(lines.get(1).startsWith("2026-11-24 21:00:00  repair "), lines.get(1));
        assertTrue(lines.get(1).endsWith("pgshift-migrate-x7k2p  root  comment only"), lines.get(1));
        assertTrue(lines.get(2).contains(" 61.00s "), lines.get(2));
        assertTrue(lines.get(3).contains("20240115143000,20240116100000  20261124T210000Z_app_1234abcd.dump"), lines.get(3));
    }
}
