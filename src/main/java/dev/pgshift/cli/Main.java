package dev.pgshift.cli;

import dev.pgshift.EarlyStop;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import jakarta.inject.Inject;
import picocli.CommandLine;

/**
 * pgshift's entry point: catches SIGTERM before Quarkus starts ({@link EarlyStop}: a Job's pod stopped in its first
 * second exits 75 with a report, as later, not 143), then runs the command line {@link CommandLineSetup} builds.
 */
@QuarkusMain
public class Main implements QuarkusApplication {
    @Inject
    CommandLine commandLine;

    public static void main(String... args) {
        EarlyStop.install();
        Quarkus.run(Main.class, args);
    }

    @Override
    public int run(String... args) {
        try {
            return commandLine.execute(args);
        } finally {
            commandLine.getOut().flush();
            commandLine.getErr().flush();
        }
    }
}
