package dev.pgshift.cli;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * The one place that turns an exception into an exit code: a {@link PgshiftException} prints its message and exits with
 * its code; anything else is an internal error (exit 1). Stack traces only with --verbose.
 */
final class ExitCodeHandler implements IExecutionExceptionHandler {

    @Override
    public int handleExecutionException(Exception ex, CommandLine commandLine, ParseResult parseResult) {
        boolean verbose = parseResult.originalArgs().contains("--verbose");
        if (ex instanceof PgshiftException p) {
            commandLine.getErr().println("pgshift: " + p.getMessage());
            if (verbose) {
                p.printStackTrace(commandLine.getErr());
            }
            return p.exitCode().code();
        }
        commandLine.getErr().println("pgshift: internal error: " + ex);
        if (verbose) {
            ex.printStackTrace(commandLine.getErr());
        } else {
            commandLine.getErr().println("(run again with --verbose for the stack trace)");
        }
        return ExitCode.INTERNAL.code();
    }
}
