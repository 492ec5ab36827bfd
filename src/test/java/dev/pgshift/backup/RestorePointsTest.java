package dev.pgshift.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What pgshift decides from pg_stat_archiver and the server's settings, without a server (RestorePointIT has one). */
class RestorePointsTest {
    private static final String SEGMENT = "000000010000000A000000FE";

    @Test
    void onlyTheSegmentItselfOrALaterOneShowsItArchived() {
        assertTrue(RestorePoints.covers(SEGMENT, SEGMENT));
        assertTrue(RestorePoints.covers("000000010000000A000000FF", SEGMENT));
        assertTrue(RestorePoints.covers("000000010000000B00000000", SEGMENT), "the next log file");
        assertTrue(RestorePoints.covers("000000020000000A000000FE.partial", SEGMENT), "a later timeline");
        assertFalse(RestorePoints.covers("000000010000000A000000FD", SEGMENT));
        assertFalse(RestorePoints.covers(SEGMENT + ".partial", SEGMENT), "a partial copy of the segment is not the segment");
        assertFalse(RestorePoints.covers(SEGMENT + ".00000028.backup", SEGMENT), "a backup history file may be archived before its segment");
        assertFalse(RestorePoints.covers("00000002.history", SEGMENT));
        assertFalse(RestorePoints.covers(null, SEGMENT), "nothing archived since the statistics were reset");
    }

    @Test
    void theNameIsUniquePerRunAndCutToWhatPostgresAccepts() {
        assertEquals("pgshift/1a2b3c4d/20240117090000", RestorePoints.name("1a2b3c4d-0000-0000-0000-000000000000", "20240117090000"));
        assertEquals("pgshift/1a2b3c4d/empty", RestorePoints.name("1a2b3c4d-0000", null));
        String longVersion = "2024.01.17.09.00.00.".repeat(5) + "ü";
        String cut = RestorePoints.name("1a2b3c4d-0000", longVersion);
        assertTrue(cut.getBytes(StandardCharsets.UTF_8).length <= 63, cut);
        assertTrue(cut.startsWith("pgshift/1a2b3c4d/2024.01.17"), cut);
    }

    private static RestorePoints.Server server(boolean recovery, String archiveMode, String walLevel, boolean create, boolean doSwitch, int timeout,
            RestorePoints.Archiver archiver) {
        return new RestorePoints.Server(recovery, archiveMode, walLevel, create, doSwitch, timeout, "App User", "shop", archiver);
    }

    private static final RestorePoints.Archiver FINE = new RestorePoints.Archiver(SEGMENT, Instant.parse("2026-12-07T10:00:00Z"), null, null, 0);

    private static String unfit(RestorePoints.Server s) {
        return RestorePoints.unfit(s, java.time.Duration.ofMinutes(2), true);
    }

    @Test
    void aServerThatCannotKeepARestorePointIsRefusedSayingWhatToDo() {
        assertNull(unfit(server(false, "on", "replica", true, true, 0, FINE)));
        assertNull(unfit(server(false, "always", "logical", true, false, 60, FINE)), "archive_timeout closes the file");
        assertTrue(unfit(server(true, "on", "replica", true, true, 0, FINE)).contains("standby"));
        String off = unfit(server(false, "off", "replica", true, true, 0, FINE));
        assertTrue(off.contains("archive_mode is off") && off.contains("Use --backup-method dump"), off);
        assertTrue(unfit(server(false, "on", "minimal", true, true, 0, FINE)).contains("wal_level is minimal"));
        String grant = unfit(server(false, "on", "replica", false, true, 0, FINE));
        assertTrue(grant.contains("connected to database shop") && grant.contains("pg_create_restore_point(text) TO \"App User\";"), grant);
        String noSwitch = unfit(server(false, "on", "replica", true, false, 0, FINE));
        assertTrue(noSwitch.contains("GRANT EXECUTE ON FUNCTION pg_catalog.pg_switch_wal() TO \"App User\"; or set archive_timeout"), noSwitch);
        String slowTimeout = unfit(server(false, "on", "replica", true, false, 600, FINE));
        assertTrue(slowTimeout.contains("archive_timeout is 600s, longer than --archive-wait 120s"), slowTimeout);
        String auto = RestorePoints.unfit(server(false, "off", "replica", true, true, 0, FINE), java.time.Duration.ofMinutes(2), false);
        assertFalse(auto.contains("--backup-method dump"), "auto dumps anyway: " + auto);
        RestorePoints.Archiver failing = new RestorePoints.Archiver(SEGMENT, Instant.parse("2026-12-07T10:00:00Z"), "000000010000000A000000FF",
                Instant.parse("2026-12-07T10:00:05Z"), 3);
        String f = unfit(server(false, "on", "replica", true, true, 0, failing));
        assertTrue(f.contains("WAL archiving is failing") && f.contains("last failed 000000010000000A000000FF at 2026-12-07T10:00:05Z"), f);
        RestorePoints.Archiver recovered = new RestorePoints.Archiver(SEGMENT, Instant.parse("2026-12-07T10:00:09Z"), "000000010000000A000000FE",
                Instant.parse("2026-12-07T10:00:05Z"), 3);
        assertNull(unfit(server(false, "on", "replica", true, true, 0, recovered)), "a failure older than the last success is over");
    }
}
