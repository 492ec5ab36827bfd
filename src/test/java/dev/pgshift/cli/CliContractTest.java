package dev.pgshift.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    @Test
    @Launch(value = {"migrate", "--no-such-option"}, exitCode = 2)
    void unknownOptionIsAUsageError(LaunchResult result) {
        assertTrue(result.getErrorOutput().contains("--no-such-option"), result.getErrorOutput());
    }

    @Test
    @Launch(value = "frobnicate", exitCode = 2)
    void unknownCommandIsAUsageError(LaunchResult result) {
        assertTrue(result.getErrorOutput().contains("frobnicate"), result.getErrorOutput());
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
        assertTrue(help.contains("Usage: pgshift restore [OPTIONS] BACKUP"), "a short synopsis, not 30 options: " + help);
        assertTrue(help.indexOf("--jobs") > 0 && help.indexOf("--jobs") < help.indexOf("--url"), "the command's own options come first: " + help);
        assertTrue(help.indexOf("--url") < help.indexOf("--backup-dir") && help.indexOf("--backup-dir") < help.indexOf("--report-file"),
                "shared settings in their order (connection, backup, report), not alphabetical: " + help);
    }
}
