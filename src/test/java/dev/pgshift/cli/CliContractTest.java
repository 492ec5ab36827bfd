package dev.pgshift.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.ExitCode;
import io.quarkus.test.junit.main.Launch;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;
import org.junit.jupiter.api.Test;

/** The command-line contract: help, version, usage and configuration errors and their exit codes. */
@QuarkusMainTest
class CliContractTest {

    @Test
    @Launch("--help")
    void helpListsCommandsAndEveryExitCode(LaunchResult result) {
        String out = result.getOutput();
        String flat = out.replaceAll("\\s+", " ");
        for (String command : new String[] {"run", "plan", "migrate"}) {
            assertTrue(out.contains("  " + command + " "), "lists " + command + ":\n" + out);
        }
        for (ExitCode code : ExitCode.values()) {
            assertTrue(flat.contains(code.code() + " " + code.meaning()), "lists exit code " + code + ":\n" + out);
        }
    }

    @Test
    @Launch("--version")
    void versionNamesTheRelease(LaunchResult result) {
        assertTrue(result.getOutput().matches("(?s)pgshift \\d+\\.\\d+\\.\\d+.*"), result.getOutput());
    }

    /** A hostile-user finding: plan --to without --rollback printed the forward plan and exited 0, the --to ignored. */
    @Test
    @Launch(value = {"plan", "--to", "1"}, exitCode = 2)
    void planToWithoutRollbackIsAUsageError(LaunchResult result) {
        assertTrue(result.getErrorOutput().contains("plan --to VERSION needs --rollback: plan --rollback --to 1 shows what rollback --to 1 "
                + "would run"), result.getErrorOutput());
    }

    @Test
    @Launch(value = {"migrate", "--no-such-option"}, exitCode = 2)
    void unknownOptionIsAUsageErrorWithAOneLineHintNotTheWholeHelp(LaunchResult result) {
        String err = result.getErrorOutput();
        assertTrue(err.contains("--no-such-option"), err);
        assertTrue(err.contains("see 'pgshift migrate --help'"), err);
        assertFalse(err.contains("Usage:"), "no help dump: " + err);
        assertEquals(1, err.lines().filter(l -> !l.isBlank() && !l.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d+ .*")).count(),
                "one line, the error and its hint, beside any log lines: " + err);
    }

    @Test
    void eachCommandsHelpListsOnlyTheOptionsItUses(QuarkusMainLauncher launcher) {
        String history = launcher.launch("history", "--help").getOutput();
        assertTrue(history.contains("--limit") && history.contains("--url"), history);
        for (String unused : new String[] {"--backup-dir", "--lock-timeout", "--migrations", "--verify-scripts", "--termination-log"}) {
            assertFalse(history.contains(unused), "history does not use " + unused + ":\n" + history);
        }
        String restore = launcher.launch("restore", "--help").getOutput();
        assertTrue(restore.contains("--pg-dump") && restore.contains("--into"), restore);
        for (String unused : new String[] {"--backup-dir", "--backup-keep", "--migrations", "--lock-retries", "--adopt-through"}) {
            assertFalse(restore.contains(unused), "restore does not use " + unused + ":\n" + restore);
        }
        String plan = launcher.launch("plan", "--help").getOutput();
        assertTrue(plan.contains("--out-of-order") && plan.contains("--migrations"), plan);
        assertFalse(plan.contains("--backup-dir"), "plan makes no backup:\n" + plan);
        String run = launcher.launch("run", "--help").getOutput();
        for (String used : new String[] {"--backup-dir", "--lock-timeout", "--migrations", "--verify-scripts", "--termination-log", "--out-of-order"}) {
            assertTrue(run.contains(used), "run uses " + used + ":\n" + run);
        }
    }

    @Test
    void restoreRefusesTheBackupDirItWouldIgnore(QuarkusMainLauncher launcher) {
        LaunchResult r = launcher.launch("restore", "x.dump", "--backup-dir", "/tmp");
        assertEquals(2, r.exitCode());
        assertTrue(r.getErrorOutput().contains("'--backup-dir'") && r.getErrorOutput().contains("Unknown option"), r.getErrorOutput());
        assertTrue(r.getErrorOutput().contains("see 'pgshift restore --help'"), r.getErrorOutput());
    }

    @Test
    void resetSaysWhatItDropsAndWhatSurvives(QuarkusMainLauncher launcher) {
        String help = launcher.launch("reset", "--help").getOutput().replaceAll("\\s+", " ");
        assertTrue(help.contains("Drops ONE schema, the managed one"), help);
        assertTrue(help.contains("What survives: every other schema"), help);
        assertFalse(help.contains("drops everything"), help);
    }

    @Test
    void repairNeedsAReasonAndSomethingToDo(QuarkusMainLauncher launcher) {
        LaunchResult noReason = launcher.launch("repair", "--accept-checksum", "1");
        assertEquals(2, noReason.exitCode());
        assertTrue(noReason.getErrorOutput().contains("Missing required option: '--reason=TEXT'"), noReason.getErrorOutput());
        assertTrue(noReason.getErrorOutput().contains("see 'pgshift repair --help'"), noReason.getErrorOutput());
        LaunchResult blank = launcher.launch("repair", "--accept-checksum", "1", "--reason", " ");
        assertEquals(3, blank.exitCode());
        assertTrue(blank.getErrorOutput().contains("--reason is empty"), blank.getErrorOutput());
        LaunchResult nothing = launcher.launch("repair", "--reason", "why");
        assertEquals(3, nothing.exitCode());
        assertTrue(nothing.getErrorOutput().contains("--accept-checksum VERSION, --rolled-back VERSION or --applied VERSION"),
                nothing.getErrorOutput());
        String help = launcher.launch("repair", "--help").getOutput();
        assertTrue(help.contains("--accept-checksum") && help.contains("--rolled-back") && help.contains("--applied"), help);
        assertFalse(help.contains("--backup-dir"), "repair makes no backup:\n" + help);
    }

    @Test
    void aTypoGetsTheNameItWasMeantToBe(QuarkusMainLauncher launcher) {
        LaunchResult command = launcher.launch("rnu");
        assertEquals(2, command.exitCode());
        assertTrue(command.getErrorOutput().contains("did you mean 'run'?"), command.getErrorOutput());
        LaunchResult option = launcher.launch("migrate", "--migratoins", "db");
        assertEquals(2, option.exitCode());
        assertTrue(option.getErrorOutput().contains("did you mean '--migrations'"), option.getErrorOutput());
    }

    @Test
    @Launch(value = "frobnicate", exitCode = 2)
    void unknownCommandIsAUsageError(LaunchResult result) {
        assertTrue(result.getErrorOutput().contains("unknown command 'frobnicate'; see 'pgshift --help'"), result.getErrorOutput());
        assertFalse(result.getErrorOutput().contains("Unmatched argument"), result.getErrorOutput());
    }

    /**
     * Commands of Flyway, Prisma, Liquibase and the like get pgshift's own answer in one line (exit 2); one that reads is
     * never pointed at a command that writes (validate was "did you mean 'migrate'?", status "'restore'?", clean "'plan'?").
     */
    @Test
    void anotherToolsCommandGetsPgshiftsOwnAnswerAndAReadIsNeverSentToAWrite(QuarkusMainLauncher launcher) {
        for (String read : new String[] {"validate", "status", "info", "Status"}) {
            String err = launcher.launch(read).getErrorOutput();
            assertTrue(err.contains("unknown command '" + read + "': to see what is applied and pending, without changing anything: "
                    + "'pgshift plan' (add --exit-code for CI"), err);
            assertFalse(err.contains("did you mean"), err);
        }
        String[][] cases = {{"baseline", "'pgshift run --adopt-through VERSION'"}, {"resolve", "'pgshift repair --applied VERSION'"},
            {"clean", "pgshift drops no database objects, except 'pgshift reset --confirm DATABASE'"}, {"deploy", "'pgshift run'"},
            {"down", "'pgshift rollback --to VERSION'"}, {"help", "'pgshift --help'"}};
        for (String[] c : cases) {
            LaunchResult r = launcher.launch(c[0]);
            assertEquals(2, r.exitCode());
            assertTrue(r.getErrorOutput().contains("unknown command '" + c[0] + "': ") && r.getErrorOutput().contains(c[1]), r.getErrorOutput());
            assertFalse(r.getErrorOutput().contains("did you mean"), r.getErrorOutput());
        }
        for (String far : new String[] {"validat", "stats", "plann"}) {
            String err = launcher.launch(far).getErrorOutput();
            for (String writer : new String[] {"'run'", "'migrate'", "'backup'", "'restore'", "'repair'", "'rollback'", "'reset'"}) {
                assertFalse(err.contains(writer), far + " is no near typo of a command that writes: " + err);
            }
        }
        assertTrue(launcher.launch("plann").getErrorOutput().contains("did you mean 'plan'?"));
    }

    @Test
    void badSettingExits3NamingIt(QuarkusMainLauncher launcher) {
        LaunchResult r = launcher.launch("run", "--port", "fifty", "--connect-timeout", "1s");
        assertEquals(3, r.exitCode());
        assertTrue(r.getErrorOutput().contains("--port"), r.getErrorOutput());
        assertTrue(r.getOutput().isEmpty() || r.getOutput().contains("FAILED") == false, "no summary for a usage-level failure: " + r.getOutput());
    }

    @Test
    void subcommandHelpTeaches(QuarkusMainLauncher launcher) {
        LaunchResult r = launcher.launch("plan", "--help");
        assertEquals(0, r.exitCode());
        assertTrue(r.getOutput().contains("--json"), r.getOutput());
        assertTrue(r.getOutput().contains("PGHOST"), r.getOutput());

        LaunchResult restore = launcher.launch("restore", "--help");
        String help = restore.getOutput();
        assertTrue(help.contains("Usage: pgshift restore [OPTIONS] [BACKUP]"), "a short synopsis, not 30 options: " + help);
        assertTrue(help.indexOf("--jobs") > 0 && help.indexOf("--jobs") < help.indexOf("--url"), "the command's own options come first: " + help);
        String run = launcher.launch("run", "--help").getOutput();
        assertTrue(run.indexOf("--rehearse") < run.indexOf("--url") && run.indexOf("--url") < run.indexOf("--backup-dir")
                && run.indexOf("--backup-dir") < run.indexOf("--report-file"),
                "own options first, then the settings in their order (connection, backup, report), not alphabetical: " + run);
    }
}
