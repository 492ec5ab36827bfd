package dev.pgshift.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The password appears in no channel pgshift writes to, on success and on each failure path. */
class SecretsIT {
    @TempDir
    Path tmp;

    private static void assertNoSecret(TestDb db, Result r) {
        assertFalse(r.stdout().contains(db.password()), "password on stdout:\n" + r);
        assertFalse(r.stderr().contains(db.password()), "password on stderr:\n" + r);
    }

    @Test
    void successAndEveryFailureKeepThePasswordOut() throws Exception {
        TestDb db = PgServer.get().newDatabase("secrets");
        Result ok = PgshiftProcess.run(List.of("run", "--verbose"), db.env());
        assertEquals(0, ok.exitCode(), ok.toString());
        assertNoSecret(db, ok);

        Map<String, String> unknownDb = new HashMap<>(db.env());
        unknownDb.put("PGDATABASE", "no_such_db");
        Result r3 = PgshiftProcess.run(List.of("run", "--verbose"), unknownDb);
        assertEquals(3, r3.exitCode(), r3.toString());
        assertNoSecret(db, r3);

        Path bad = tmp.resolve("bad");
        Files.createDirectories(bad);
        Files.writeString(bad.resolve("V99990101000000__boom.sql"), "SELECT 1/0;");
        // --bundled=true: a failing file beside the bundled ones already applied (-m alone would replace them: exit 3).
        Result r5 = PgshiftProcess.run(List.of("migrate", "--verbose", "--migrations", bad.toString(), "--bundled=true"), db.env());
        assertEquals(5, r5.exitCode(), r5.toString());
        assertNoSecret(db, r5);

        Map<String, String> uri = new HashMap<>(db.env());
        uri.put("PGSHIFT_URL", "postgresql://" + db.user() + ":" + db.password() + "@localhost:" + db.server().port() + "/" + db.name()
                + "?sslmode=disable");
        uri.remove("PGPASSWORD");
        Result viaUri = PgshiftProcess.run(List.of("plan", "--verbose"), uri);
        assertEquals(0, viaUri.exitCode(), viaUri.toString());
        assertNoSecret(db, viaUri);

        List<String> flagArgs = new ArrayList<>(List.of("plan", "--url", "postgresql://" + db.user() + ":" + db.password() + "@localhost:"
                + db.server().port() + "/" + db.name()));
        Result viaFlag = PgshiftProcess.run(flagArgs, Map.of());
        assertEquals(3, viaFlag.exitCode(), viaFlag.toString());
        assertTrue(viaFlag.stderr().contains("process list"), viaFlag.stderr());
        assertNoSecret(db, viaFlag);
    }

    @Test
    void passwordFileKeepsThePasswordOutOfTheProcessArguments() throws Exception {
        TestDb db = PgServer.get().newDatabase("cmdline");
        List<String> args = new ArrayList<>(List.of("migrate", "--bundled=false", "--migrations", Path.of("src/test/resources/slow").toString()));
        args.addAll(db.flags(tmp));
        PgshiftProcess run = PgshiftProcess.start(args, Map.of());
        db.awaitActive("pg_sleep(120)");
        String cmdline = Files.readString(Path.of("/proc/" + run.pid() + "/cmdline")).replace('\0', ' ');
        assertTrue(cmdline.contains("--password-file"), cmdline);
        assertFalse(cmdline.contains(db.password()), cmdline);
        run.signal("TERM");
        Result r = run.await(Duration.ofSeconds(30));
        assertEquals(75, r.exitCode(), r.toString());
        assertNoSecret(db, r);
    }
}
