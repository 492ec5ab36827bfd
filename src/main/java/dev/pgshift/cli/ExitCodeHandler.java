package dev.pgshift.cli;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.util.ArrayList;
import java.util.List;
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
        String guess = "";
        if (ex instanceof CommandLine.UnmatchedArgumentException u) {
            List<String> near = new ArrayList<>(u.getSuggestions());
            if (near.isEmpty() && !u.getUnmatched().isEmpty()) {
                String typed = u.getUnmatched().get(0);
                cl.getSubcommands().keySet().stream().filter(name -> typos(typed, name) <= 2).forEach(near::add);
            }
            if (!near.isEmpty()) {
                guess = "; did you mean " + String.join(" or ", near.stream().limit(3).map(s -> "'" + s + "'").toList()) + "?";
            }
        }
        ErrorOutput.print(cl.getErr(), ex.getMessage() + guess + "; see '" + cl.getCommandSpec().qualifiedName() + " --help'", null);
        return ExitCode.USAGE.code();
    }

    /** Letters to change, add, drop or swap with the next to turn {@code a} into {@code b} ("rnu" is one from "run"). */
    static int typos(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            for (int j = 0; j <= b.length(); j++) {
                if (i == 0 || j == 0) {
                    d[i][j] = i + j;
                    continue;
                }
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
