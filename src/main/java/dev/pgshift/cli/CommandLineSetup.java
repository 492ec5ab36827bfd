package dev.pgshift.cli;

import dev.pgshift.ExitCode;
import io.quarkus.picocli.runtime.PicocliCommandLineFactory;
import io.quarkus.runtime.annotations.CommandLineArguments;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;

/**
 * Configures picocli: the exit-code list in --help comes from {@link ExitCode}; each command's help lists its own
 * options before the shared settings; one handler maps exceptions to exit codes, printing a message (a stack trace
 * only with --verbose), and usage errors to exit 2 with a one-line hint. stdout and stderr are UTF-8 in any locale ({@link Utf8Output}).
 */
@ApplicationScoped
class CommandLineSetup {

    /**
     * @param args the process's arguments: picocli reflects over every option of every command it is given (about 0.1 s
     *             of a cold JVM's start for all ten), so a command line that names a subcommand first gets only that one;
     *             any other (--help, --version, a typo, nothing) gets them all
     */
    @Produces
    CommandLine commandLine(PicocliCommandLineFactory factory, @CommandLineArguments String[] args) {
        CommandLine cl = factory.create();
        String named = args.length > 0 ? args[0] : "";
        boolean one = PgshiftCommand.COMMANDS.stream().anyMatch(c -> name(c).equals(named));
        for (Class<?> command : PgshiftCommand.COMMANDS) {
            if (!one || name(command).equals(named)) {
                cl.addSubcommand(command);
            }
        }
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        Map<String, String> codes = new LinkedHashMap<>();
        for (ExitCode c : ExitCode.all()) {
            codes.put(String.format("%3d", c.code()), c.meaning());
        }
        cl.getCommandSpec().usageMessage().exitCodeList(codes);
        // "Usage: pgshift restore [OPTIONS] BACKUP", then the command's own options, then the shared settings in the
        // order they are declared (connection, migrations, locks, backup, verify, report), not alphabetically.
        for (CommandLine sub : cl.getSubcommands().values()) {
            sub.getCommandSpec().usageMessage().abbreviateSynopsis(true).sortOptions(false);
            for (CommandLine nested : sub.getSubcommands().values()) {
                nested.getCommandSpec().usageMessage().abbreviateSynopsis(true).sortOptions(false);
            }
        }
        ExitCodeHandler handler = new ExitCodeHandler();
        cl.setExecutionExceptionHandler(handler).setParameterExceptionHandler(handler);
        Utf8Output.install(cl);
        return cl;
    }

    private static String name(Class<?> command) {
        return command.getAnnotation(CommandLine.Command.class).name();
    }
}
