package dev.pgshift.cli;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine;

/**
 * The one place that turns an exception into an exit code: a {@link PgshiftException} prints its message and exits with
 * its code; anything else is an internal error (exit 1). Stack traces only with --verbose. A usage error (unknown option,
 * missing value) prints the error and where the command's help is, not the whole help, and exits 2.
 */
final class ExitCodeHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {

    /** Whether the command was given --verbose (stack traces with errors). */
    static boolean verbose(picocli.CommandLine.Model.CommandSpec spec) {
        ParseResult r = spec.commandLine().getParseResult();
        return r != null && r.hasMatchedOption("--verbose");
    }

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

    private static final String READS = "to see what is applied and pending, without changing anything: 'pgshift plan' (add "
            + "--exit-code for CI: exit 10 when something is pending); 'pgshift history' lists past runs; a fleet release's: "
            + "'pgshift fleet status --release ID'";
    private static final String APPLIES = "pgshift applies pending migrations with 'pgshift run' (backup, migrate, verify, report; "
            + "'pgshift plan' shows what it would do)";
    private static final String UNDOES = "pgshift runs rollback scripts with 'pgshift rollback --to VERSION' ('pgshift plan "
            + "--rollback --to VERSION' shows what it would run)";

    /**
     * Commands of other migration tools, answered with what pgshift does instead: a user who types {@code validate} or
     * {@code status} asks to read, and must not be pointed at a command that writes.
     */
    static final Map<String, String> OTHER_TOOLS = Map.ofEntries(
            Map.entry("status", READS), Map.entry("info", READS), Map.entry("validate", READS), Map.entry("check", READS),
            Map.entry("diff", READS), Map.entry("list", READS), Map.entry("show", READS),
            Map.entry("version", "pgshift prints its version with 'pgshift --version'"),
            Map.entry("baseline", "pgshift records migrations a database already has as applied with "
                    + "'pgshift run --adopt-through VERSION' (see 'pgshift plan' first)"),
            Map.entry("resolve", "pgshift marks a failed migration with 'pgshift repair --applied VERSION' or "
                    + "'--rolled-back VERSION', and a --reason"),
            Map.entry("clean", "pgshift drops no database objects, except 'pgshift reset --confirm DATABASE' (development: the "
                    + "managed schema, after a backup)"),
            Map.entry("drop", "pgshift drops no database objects, except 'pgshift reset --confirm DATABASE' (development: the "
                    + "managed schema, after a backup)"),
            Map.entry("deploy", APPLIES), Map.entry("up", APPLIES), Map.entry("apply", APPLIES), Map.entry("update", APPLIES),
            Map.entry("down", UNDOES), Map.entry("undo", UNDOES), Map.entry("revert", UNDOES), Map.entry("rollback-one", UNDOES),
            Map.entry("dump", "pgshift backs up with 'pgshift backup' (a verified pg_dump)"),
            Map.entry("help", "pgshift lists its commands with 'pgshift --help', and a command's options with 'pgshift <command> --help'"));

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        String message = ex.getMessage();
        String guess = "";
        if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String typed = u.getUnmatched().get(0);
            // A command's subcommands (pgshift's, fleet's) are suggested as pgshift's are; other tools' words at the top only.
            boolean command = !cl.getSubcommands().isEmpty() && !typed.startsWith("-");
            if (command) {
                message = "unknown command '" + typed + "'";
                String other = cl.getParent() == null ? OTHER_TOOLS.get(typed.toLowerCase(java.util.Locale.ROOT)) : null;
                if (other != null) {
                    ErrorOutput.print(cl.getErr(), message + ": " + other, null);
                    return ExitCode.USAGE.code();
                }
            }
            // A command is suggested only for a near typo of its name (never picocli's looser guesses: 'validate' is
            // not 'migrate'); options keep picocli's suggestions, which name options of the command typed.
            List<String> near = new ArrayList<>(command ? List.of() : u.getSuggestions());
            if (near.isEmpty()) {
                cl.getSubcommands().keySet().stream().filter(name -> typos(typed, name) <= (Math.min(typed.length(), name.length()) <= 4 ? 1 : 2))
                        .forEach(near::add);
            }
            if (!near.isEmpty()) {
                guess = "; did you mean " + String.join(" or ", near.stream().limit(3).map(x -> "'" + x + "'").toList()) + "?";
            }
        }
        ErrorOutput.print(cl.getErr(), message + guess + "; see '" + cl.getCommandSpec().qualifiedName() + " --help'", null);
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
