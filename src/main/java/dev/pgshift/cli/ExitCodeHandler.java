package dev.pgshift.cli;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The one place that turns an exception into an exit code: a {@link PgshiftException} prints its message and exits with
 * its code; anything else is an internal error (exit 1). Stack traces only with --verbose. A usage error (unknown option,
 * missing value) prints the error and where the command's help is, not the whole help, and exits 2.
 */
final class ExitCodeHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {

    @Override
    public int handleExecutionException(Exception ex, CommandLine commandLine, ParseResult parseResult) {
        boolean verbose = parseResult.originalArgs().contains("--verbose");
        if (ex instanceof PgshiftException p) {
            ErrorOutput.print(commandLine.getErr(), p.getMessage(), verbose ? p : null);
            return p.exitCode().code();
        }
        ErrorOutput.print(commandLine.getErr(), "internal error: " + ex + (verbose ? "" : " (run again with --verbose for the stack trace)"),
                verbose ? ex : null);
        return ExitCode.INTERNAL.code();
    }

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        ErrorOutput.print(cl.getErr(), ex.getMessage() + "; see '" + cl.getCommandSpec().qualifiedName() + " --help'", null);
        return ExitCode.USAGE.code();
    }
}
