package dev.pgshift.backup;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.ConnectionSettings;
import dev.pgshift.db.Database;
import dev.pgshift.db.StopSignal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * pg_dump and pg_restore: found, their version checked against the server's, and started with the connection in
 * their environment (PGHOST, PGUSER, ...), never on their command line, where every user of the machine could read a
 * password in the process list. The password goes in neither: a child's environment is readable by its user's other
 * processes ({@code /proc/<pid>/environ}) and is inherited by whatever it starts. It is written to a 0600 password file
 * in a 0700 directory of its own ({@code PGPASSFILE}), made when the first child that connects starts and removed when
 * the tools are closed (and at exit, SIGTERM included); a child that only reads an archive gets no connection settings
 * at all. They are the run's children: they carry its application_name, SIGTERM ends
 * them, and where util-linux's setpriv is found (Debian and Ubuntu images have it) they are started with a parent-death
 * signal, so the kernel ends them when pgshift dies, even of SIGKILL, instead of leaving a pg_dump holding its snapshot
 * and locks for the next run to wait on.
 */
final class PgTools implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PgTools.class);
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(?:\\.(\\d+))?");
    /** The first major with the transaction_timeout setting, which pg_restore 17 and later always set. */
    private static final int TRANSACTION_TIMEOUT_SINCE = 17;
    private static final int OUTPUT_KEPT = 64 * 1024;
    static final Duration VERSION_LIMIT = Duration.ofMinutes(1);

    /** setpriv, found once: {@code setpriv --pdeathsig KILL} before a tool's command line ties its life to ours. */
    private static final Path SETPRIV = onPath("setpriv");

    private final Path pgDump;
    private final Path pgRestore;
    private final String version;
    private final int major;
    private final StopSignal stop;
    private Path passFileDir;

    private PgTools(Path pgDump, Path pgRestore, String version, int major, StopSignal stop) {
        this.pgDump = pgDump;
        this.pgRestore = pgRestore;
        this.version = version;
        this.major = major;
        this.stop = stop;
    }

    /**
     * Finds pg_dump (a path, or a name looked up on PATH) and pg_restore beside it; exit 4 when missing. The tools run as
     * children of the run {@code stop} belongs to.
     */
    public static PgTools locate(String pgDump, StopSignal stop) {
        Path dump = find(pgDump);
        Path restore = dump.resolveSibling(dump.getFileName().toString().replace("pg_dump", "pg_restore"));
        if (!Files.isExecutable(restore)) {
            throw new PgshiftException(ExitCode.BACKUP, "pg_restore not found beside " + dump + ": it is needed to check each backup");
        }
        String out = versionOf(dump, stop);
        Matcher m = VERSION.matcher(out);
        if (!m.find()) {
            throw new PgshiftException(ExitCode.BACKUP, dump + " --version printed no PostgreSQL version: " + out.strip());
        }
        return new PgTools(dump, restore, out.strip(), Integer.parseInt(m.group(1)), stop);
    }

    /** {@code name} on PATH, or null. */
    private static Path onPath(String name) {
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (String dir : path.split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static Path find(String name) {
        Path found = name.contains("/") ? (Files.isExecutable(Path.of(name)) ? Path.of(name) : null) : onPath(name);
        if (found != null) {
            return found;
        }
        throw new PgshiftException(ExitCode.BACKUP, "pg_dump not found (" + name + "): pgshift backs up before migrating. Use an image "
                + "that carries pg_dump of the server's major version or newer, point --pg-dump at one, or pass --backup=never to "
                + "migrate without a backup (recorded in the report)");
    }

    /**
     * pg_dump refuses, or worse silently misreads, a server newer than itself (amacneil/dbmate#594): refuse before
     * anything changes, naming both versions and what to do.
     */
    public void checkServer(int serverMajor, String serverVersion) {
        if (major < serverMajor) {
            throw new PgshiftException(ExitCode.BACKUP, "pg_dump " + major + " (" + pgDump + ": " + version + ") is older than the server "
                    + "(PostgreSQL " + serverVersion + "): it cannot back it up. Use an image with pg_dump " + serverMajor
                    + " or newer (--pg-dump), or pass --backup=never to migrate without a backup. Nothing was changed.");
        }
    }

    /**
     * pg_restore writes SQL for a server of its own major or newer; PostgreSQL does not promise that it loads into an
     * older one. pg_restore 17 and later fail on a server before 17 at once (their first statement is
     * {@code SET transaction_timeout = 0}, a setting those servers do not know): refuse that before a database is created
     * or anything is restored, and warn about other pg_restore versions newer than the server.
     */
    public void checkRestoreTarget(int serverMajor, String serverVersion) {
        if (major >= TRANSACTION_TIMEOUT_SINCE && serverMajor < TRANSACTION_TIMEOUT_SINCE) {
            throw new PgshiftException(ExitCode.BACKUP, "pg_restore " + major + " (" + pgRestore + ") cannot restore into the server "
                    + "(PostgreSQL " + serverVersion + "): it sets transaction_timeout, which servers before " + TRANSACTION_TIMEOUT_SINCE
                    + " reject. Point --pg-dump at pg_dump " + serverMajor + " (pg_restore is taken from beside it). Nothing was restored.");
        }
        if (major > serverMajor) {
            LOG.warnf("pg_restore %d is newer than the server (PostgreSQL %s): PostgreSQL does not promise that its output loads into "
                    + "an older server; pg_dump %d (--pg-dump) is the safe choice", major, serverVersion, serverMajor);
        }
    }

    public String version() {
        return version;
    }

    public int major() {
        return major;
    }

    /** pg_dump with {@code args}, connected through its environment. */
    ProcessBuilder dump(List<String> args, ConnectionSettings c, String database) {
        List<String> all = new ArrayList<>(List.of("--dbname=" + KEEPALIVES)); // the database: PGDATABASE
        all.addAll(args);
        return command(pgDump, all, c, database);
    }

    /**
     * libpq's side of a dead connection, as pgshift's own sessions have it (KeepaliveSocketFactory): keepalive probes
     * after 30 s of silence, every 10 s, 3 unanswered; unacknowledged data given up on after a minute. libpq reads these
     * from a connection string only.
     */
    static final String KEEPALIVES = "keepalives=1 keepalives_idle=30 keepalives_interval=10 keepalives_count=3 tcp_user_timeout=60000";

    ProcessBuilder restore(List<String> args, ConnectionSettings c, String database) {
        return command(pgRestore, args, c, database);
    }

    /** pg_restore reading an archive (never a server): no connection settings, no password. */
    ProcessBuilder readArchive(List<String> args) {
        return command(pgRestore, args, null, null);
    }

    private ProcessBuilder command(Path tool, List<String> args, ConnectionSettings c, String database) {
        List<String> cmd = new ArrayList<>();
        if (SETPRIV != null) {
            cmd.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL", "--"));
        }
        cmd.add(tool.toString());
        cmd.add("--no-password");
        cmd.addAll(args);
        ProcessBuilder pb = clean(new ProcessBuilder(cmd));
        Map<String, String> env = pb.environment();
        if (c == null) {
            return pb;
        }
        env.put("PGHOST", c.host());
        env.put("PGPORT", String.valueOf(c.port()));
        env.put("PGUSER", c.user());
        env.put("PGDATABASE", database);
        env.put("PGSSLMODE", c.sslMode());
        env.put("PGAPPNAME", stop.applicationName());
        env.put("PGOPTIONS", Database.serverOptions(java.time.Duration.ZERO)); // as the run's own sessions; no lock_timeout
        env.put("PGCONNECT_TIMEOUT", "30"); // a connection never completed (a proxy forwarding nothing) fails
        env.remove("LC_ALL");
        env.put("LC_MESSAGES", "C"); // libpq's words, in which a lost connection is recognised (lostConnection)
        if (c.sslRootCert() != null) {
            env.put("PGSSLROOTCERT", c.sslRootCert().toString());
        }
        if (c.password() != null) {
            env.put("PGPASSFILE", passFile(c.password()).toString());
        } else if (System.getenv("PGPASSFILE") != null) {
            env.put("PGPASSFILE", System.getenv("PGPASSFILE")); // the user's, which pgshift's own sessions read too
        }
        return pb;
    }

    /**
     * Only what a PostgreSQL client needs from pgshift's environment: it may hold the password (DATABASE_URL,
     * PGSHIFT_URL, PGPASSWORD, a CI's secrets), and a child's environment is readable in /proc and inherited.
     */
    private static ProcessBuilder clean(ProcessBuilder pb) {
        pb.environment().keySet().removeIf(k -> !INHERITED.contains(k) && !k.startsWith("LC_"));
        return pb;
    }

    /** The variables a child keeps (and LC_*): its PATH, locale, time zone, temporary directory, and HOME for ~/.pgpass and ~/.postgresql. */
    private static final java.util.Set<String> INHERITED = java.util.Set.of("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "USER", "LOGNAME");

    /**
     * The target database as pg_restore's {@code --dbname} must be given it: a value holding {@code =} or starting with
     * {@code postgresql://} is read as a connection string (a database named {@code dbname=other} would restore into
     * another database, or another server), so it is always a connection string naming only the database, quoted.
     */
    static String dbnameArgument(String database) {
        return "--dbname=dbname='" + database.replace("\\", "\\\\").replace("'", "\\'") + "' " + KEEPALIVES;
    }

    /**
     * The password file the connecting children share: one line matching any host, port, database and user (the
     * children are told those in their environment), {@code :} and {@code \} escaped as libpq reads them. libpq ignores
     * a password file others may read, so it is 0600 from its creation, in a directory only pgshift's user can enter.
     */
    private synchronized Path passFile(String password) {
        if (password.indexOf('\n') >= 0 || password.indexOf('\r') >= 0) {
            throw new PgshiftException(ExitCode.BACKUP, "the password holds a line break, which the password file pg_dump and pg_restore "
                    + "read cannot carry (and pgshift passes passwords to them no other way): back up with a role whose password has "
                    + "none, or pass --backup=never. Nothing was changed.");
        }
        try {
            if (passFileDir == null) {
                Path dir = Files.createTempDirectory("pgshift-pgpass-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                dir.toFile().deleteOnExit();
                passFileDir = dir;
                Path file = dir.resolve("pgpass");
                dev.pgshift.PrivateFiles.create(file);
                file.toFile().deleteOnExit();
                Files.writeString(file, "*:*:*:*:" + password.replace("\\", "\\\\").replace(":", "\\:") + "\n");
            }
            return passFileDir.resolve("pgpass");
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot write the password file pg_dump and pg_restore read: " + e.getMessage(), e);
        }
    }

    /** Removes the password file and its directory (also done at exit, for a run that ends otherwise). */
    @Override
    public synchronized void close() {
        if (passFileDir != null) {
            try {
                Files.deleteIfExists(passFileDir.resolve("pgpass"));
                Files.deleteIfExists(passFileDir);
            } catch (IOException e) {
                LOG.warnf("could not remove the password file %s: %s", passFileDir, e.getMessage());
            }
            passFileDir = null;
        }
    }

    /**
     * Runs a tool to its end and returns its output (the first 64 KiB); a failure is exit 4 with what the tool said, a
     * stop exit 75. A restore can rightly take hours: only a stop ends it.
     */
    String run(ProcessBuilder pb, String what) {
        return await(start(pb.redirectErrorStream(true), what), what, null);
    }

    /** Starts a tool as a child of the run (SIGTERM ends it); its output goes where {@code pb} says. */
    Process start(ProcessBuilder pb, String what) {
        stop.checkStop("before " + what);
        try {
            Process p = pb.start();
            stop.register(p);
            return p;
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.BACKUP, what + " could not start: " + e.getMessage(), e);
        }
    }

    /**
     * Waits for a tool started by {@link #start} (stdout and stderr merged) and returns the first 64 KiB of what it
     * printed (the rest is read and dropped, so it never blocks on a full pipe). Past {@code limit} (null: none) it is
     * ended and the wait fails with exit 4; a stop ends it at once.
     */
    String await(Process p, String what, Duration limit) {
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            byte[] buf = new byte[8192];
            try (InputStream in = p.getInputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    synchronized (kept) {
                        kept.write(buf, 0, Math.max(0, Math.min(n, OUTPUT_KEPT - kept.size())));
                    }
                }
            } catch (IOException e) {
                // the tool was ended: its exit status says what happened
            }
        }, "pgshift-tool-output");
        reader.setDaemon(true);
        reader.start();
        try {
            long deadline = limit == null ? Long.MAX_VALUE : System.nanoTime() + limit.toNanos();
            while (!p.waitFor(100, TimeUnit.MILLISECONDS)) {
                stop.checkStop("during " + what);
                if (System.nanoTime() > deadline) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    throw new PgshiftException(ExitCode.BACKUP, what + " did not finish within " + limit.toSeconds() + "s: it was ended");
                }
            }
            reader.join(TimeUnit.SECONDS.toMillis(10));
            stop.forget(p);
            stop.checkStop("during " + what);
            String out;
            synchronized (kept) {
                out = kept.toString(StandardCharsets.UTF_8);
            }
            if (p.exitValue() != 0) {
                boolean lost = lostConnection(out);
                throw new PgshiftException(lost ? ExitCode.TEMPORARY : ExitCode.BACKUP, what + " failed (exit " + p.exitValue() + "): "
                        + out.strip() + (lost ? "; the connection to the database was lost or refused: run again" : ""));
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgshiftException(ExitCode.TEMPORARY, what + " interrupted", e);
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
    }

    /**
     * Whether a client tool failed because its connection went away or was refused for the moment (the server
     * restarted or shut down, an administrator ended the session, no connection slot was free): libpq's and the
     * server's words, which the children write in English (LC_MESSAGES=C). Such a run is retried (exit 75), not failed.
     */
    static boolean lostConnection(String output) {
        return LOST.matcher(output).find() && !output.contains("authentication failed") && !output.contains("permission denied");
    }

    private static final java.util.regex.Pattern LOST = java.util.regex.Pattern.compile("server closed the connection unexpectedly"
            + "|terminating connection due to|no connection to the server|could not receive data from server|could not send data to server"
            + "|SSL SYSCALL error|too many clients already|remaining connection slots are reserved|the database system is (?:starting up|"
            + "shutting down|in recovery mode|not yet accepting connections)|Connection refused|Connection timed out|connection to server was lost"
            + "|server conn crashed|timeout expired");

    /** {@code tool --version}: a minute at most (a hung wrapper script must not hold the run). */
    private static String versionOf(Path tool, StopSignal stop) {
        PgTools t = new PgTools(tool, tool, "", 0, stop);
        String what = tool + " --version";
        return t.await(t.start(clean(new ProcessBuilder(tool.toString(), "--version")).redirectErrorStream(true), what), what, VERSION_LIMIT);
    }
}
