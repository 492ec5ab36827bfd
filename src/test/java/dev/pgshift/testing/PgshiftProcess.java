package dev.pgshift.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the packaged pgshift as users do: a separate process (the native binary when one was built, else the JVM jar),
 * with its own environment, stdout and stderr captured to files, real signals.
 */
public final class PgshiftProcess {
    private final Process process;
    private final Path stdout;
    private final Path stderr;

    private PgshiftProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** What one finished run printed and returned. */
    public record Result(int exitCode, String stdout, String stderr) {
        public String all() {
            return stdout + "\n" + stderr;
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    /** Whether {@code command} reads migration files: it takes --migrations and --bundled. */
    public static boolean readsMigrations(String command) {
        return List.of("run", "migrate", "plan", "verify", "rollback", "reset", "repair").contains(command);
    }

    /** Whether {@code command} backs up: it takes --backup, --backup-dir and the other backup settings. */
    public static boolean backsUp(String command) {
        return List.of("run", "migrate", "backup", "rollback", "reset").contains(command);
    }

    public static List<String> command() {
        String nativePath = System.getProperty("native.image.path");
        if (nativePath != null && Files.isExecutable(Path.of(nativePath))) {
            return new ArrayList<>(List.of(nativePath));
        }
        // The launcher users run (the image's entrypoint): its JVM flags and class-data archive, with this JVM (JAVA_HOME).
        Path launcher = Path.of("target/quarkus-app/pgshift");
        if (!Files.isExecutable(launcher)) {
            throw new IllegalStateException(launcher + " missing: run the tests with ./mvnw verify, which packages pgshift first");
        }
        return new ArrayList<>(List.of(launcher.toString()));
    }

    public static PgshiftProcess start(List<String> args, Map<String, String> env) {
        try {
            List<String> cmd = command();
            cmd.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(cmd);
            // A clean environment: nothing of the developer's PG* or PGSHIFT_* settings leaks into a test.
            pb.environment().keySet().removeIf(k -> k.startsWith("PG") || k.startsWith("QUARKUS"));
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            // Backups of tests go to a temporary directory unless the test chooses one.
            pb.environment().put("PGSHIFT_BACKUP_DIR", Files.createTempDirectory("pgshift-backups").toString());
            String backup = System.getProperty("test.backup", "auto");
            pb.environment().put("PGSHIFT_BACKUP", backup);
            if (!backup.equals("never")) {
                // A pg_dump of the server's major (or newer): the machine's own may be older than the server.
                pb.environment().put("PGSHIFT_PG_DUMP", PgClients.pgDump().toString());
            }
            pb.environment().putAll(env);
            Path out = Files.createTempFile("pgshift-out", ".txt");
            Path err = Files.createTempFile("pgshift-err", ".txt");
            pb.redirectOutput(out.toFile()).redirectError(err.toFile());
            return new PgshiftProcess(pb.start(), out, err);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Result run(List<String> args, Map<String, String> env) {
        return start(args, env).await(Duration.ofSeconds(120));
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    public String stderrSoFar() {
        try {
            return Files.readString(stderr);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends a signal by name (TERM, KILL) with kill(1), as Kubernetes would. */
    public void signal(String name) {
        try {
            new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public Result await(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("pgshift did not finish within " + timeout + "\n" + stderrSoFar());
            }
            return new Result(process.exitValue(), Files.readString(stdout), Files.readString(stderr));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
