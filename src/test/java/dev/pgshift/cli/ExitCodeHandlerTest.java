package dev.pgshift.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Exceptions become exit codes in one place: every domain code passes through, anything else is exit 1. */
class ExitCodeHandlerTest {

    @Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        @Option(names = "--verbose")
        boolean verbose;

        RuntimeException toThrow;

        @Override
        public Integer call() {
            throw toThrow;
        }
    }

    private static int run(RuntimeException e, StringWriter err, String... args) {
        Boom boom = new Boom();
        boom.toThrow = e;
        CommandLine cl = new CommandLine(boom).setExecutionExceptionHandler(new ExitCodeHandler());
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void unexpectedExceptionIsAnInternalErrorWithoutAStackTrace() {
        StringWriter err = new StringWriter();
        assertEquals(1, run(new IllegalStateException("no such thing"), err));
        assertTrue(err.toString().contains("pgshift: internal error: java.lang.IllegalStateException: no such thing"), err.toString());
        assertFalse(err.toString().contains("\tat "), "no stack trace without --verbose");
        StringWriter verbose = new StringWriter();
        assertEquals(1, run(new IllegalStateException("no such thing"), verbose, "--verbose"));
        assertTrue(verbose.toString().contains("\tat "), "stack trace with --verbose");
    }

    @Test
    void everyDomainCodePassesThroughWithItsMessage() {
        for (ExitCode code : ExitCode.values()) {
            StringWriter err = new StringWriter();
            assertEquals(code.code(), run(new PgshiftException(code, "because " + code), err));
            assertEquals("pgshift: because " + code, err.toString().strip());
        }
    }

    /** A fleet subcommand is suggested for a near typo only: 'unhalt' is not 'run', 'deploy' not 'plan', 'history' not 'status'. */
    @Test
    void aMistypedFleetCommandGetsOnlyANearTypo() {
        @Command(name = "pgshift", subcommands = FleetCommand.class)
        final class Top {
        }
        for (String[] c : new String[][] {{"unhalt", ""}, {"deploy", ""}, {"history", ""}, {"stauts", "'status'"}, {"rnu", "'run'"}}) {
            CommandLine cl = new CommandLine(new Top()).setParameterExceptionHandler(new ExitCodeHandler());
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err, true));
            assertEquals(2, cl.execute("fleet", c[0]), err.toString());
            assertTrue(err.toString().contains("unknown command '" + c[0] + "'"), err.toString());
            assertEquals(!c[1].isEmpty(), err.toString().contains("did you mean"), err.toString());
            assertTrue(err.toString().contains(c[1]), err.toString());
        }
    }
}
