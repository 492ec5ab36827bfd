package dev.pgshift.backup;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.StopSignal;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jboss.logging.Logger;

/**
 * Reads a custom-format archive back while pg_dump writes it: a follower thread feeds the growing file to
 * {@code pg_restore --file=/dev/null}, which decompresses and parses every block, so by the time pg_dump exits the whole
 * archive has been read back. A second pass after the dump cost 11-16 % of the backup phase (bench/backup-vs-pg_dump.sh);
 * following the file costs the CPU pg_dump leaves idle while it waits for the server.
 *
 * <p>pg_dump is still given a file (not a pipe) so that it can go back and fill in the data offsets of its table of
 * contents when it is done: parallel and selective restores seek with them. That rewrite changes only the table of
 * contents, in place and at the same length: {@link #finish} checks that the file has exactly the length that was read
 * back, and the table of contents is read again with {@code pg_restore --list}. Bytes changed in place after pg_dump
 * exited (by something else) are not seen here; the sha256 taken next is what every restore checks.
 */
final class ArchiveCheck implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ArchiveCheck.class);
    static final String WHAT = "reading the whole backup back (pg_restore --file=/dev/null, while pg_dump writes it)";

    private final Path file;
    private final Process dump;
    private final Process restore;
    private final Path restoreLog;
    private final Thread follower;
    private final AtomicLong read = new AtomicLong();
    private volatile IOException failure;

    private ArchiveCheck(Path file, Process dump, Process restore, Path restoreLog) {
        this.file = file;
        this.dump = dump;
        this.restore = restore;
        this.restoreLog = restoreLog;
        this.follower = new Thread(this::follow, "pgshift-backup-check");
        this.follower.setDaemon(true);
    }

    /**
     * Starts pg_restore (reading its standard input) and the thread that feeds it {@code file} as {@code dump} writes it.
     * The file exists already: the caller creates it, empty and private, before pg_dump opens it.
     */
    static ArchiveCheck start(Path file, Process dump, PgTools tools, ProcessBuilder restore) throws IOException {
        Path log = Files.createTempFile("pgshift-pg_restore", ".log");
        Process p;
        try {
            p = tools.start(restore.redirectErrorStream(true).redirectOutput(log.toFile()), WHAT);
        } catch (RuntimeException e) {
            Files.deleteIfExists(log);
            throw e;
        }
        ArchiveCheck check = new ArchiveCheck(file, dump, p, log);
        check.follower.start();
        return check;
    }

    /** Bytes fed to pg_restore so far. */
    long bytesRead() {
        return read.get();
    }

    /** pg_restore gave up before the end: the archive written so far is damaged (pg_dump may still be running). */
    boolean failedEarly() {
        return !restore.isAlive() && restore.exitValue() != 0;
    }

    /**
     * After pg_dump exited 0: waits until the follower has fed the rest and pg_restore has parsed it, and checks that
     * the file is as long as what was read. Throws exit 4 naming what pg_restore said when anything is wrong. The
     * caller reads the rewritten table of contents again ({@code pg_restore --list}).
     */
    void finish(Duration limit, StopSignal stop) throws IOException, InterruptedException {
        LockSupport.unpark(follower);
        long deadline = System.nanoTime() + limit.toNanos();
        while (follower.isAlive() || restore.isAlive()) {
            stop.checkStop(BackupService.DURING_BACKUP);
            if (System.nanoTime() > deadline) {
                throw new PgshiftException(ExitCode.BACKUP, WHAT + " did not finish within " + limit);
            }
            if (follower.isAlive()) {
                follower.join(100);
            } else {
                restore.waitFor(100, TimeUnit.MILLISECONDS);
            }
        }
        stop.checkStop(BackupService.DURING_BACKUP); // a stop ends pg_restore: its exit status says nothing then
        if (restore.exitValue() != 0) {
            throw damaged();
        }
        if (failure != null) {
            throw new PgshiftException(ExitCode.BACKUP, WHAT + " failed: " + failure.getMessage(), failure);
        }
        long size = Files.size(file);
        if (size != read.get()) {
            throw new PgshiftException(ExitCode.BACKUP, WHAT + ": the archive is " + size + " bytes but " + read.get()
                    + " were written and read back; it changed after pg_dump wrote it. Nothing was migrated.");
        }
    }

    /** The error for an archive pg_restore could not read, with what it said. */
    PgshiftException damaged() throws IOException {
        String said = Files.readString(restoreLog).strip();
        return new PgshiftException(ExitCode.BACKUP, WHAT + " failed (exit " + restore.exitValue() + " after " + read.get()
                + " bytes): " + said + ". The archive is damaged; nothing was migrated.");
    }

    private void follow() {
        try (OutputStream out = restore.getOutputStream()) {
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                while (true) {
                    // Looked at before reading: when pg_dump had exited before a read that finds the end, the end is final.
                    boolean exited = !dump.isAlive();
                    int n = in.read(buf);
                    if (n > 0) {
                        out.write(buf, 0, n);
                        read.addAndGet(n);
                    } else if (exited) {
                        return;
                    } else if (!pause()) {
                        return;
                    }
                }
            }
        } catch (IOException e) {
            if (restore.isAlive()) {
                failure = e;
            }
            LOG.debugf("following %s: %s", file, e.getMessage());
        }
    }

    /** Waits for pg_dump to write more (or for {@link #finish} to say it exited); false when the check is being closed. */
    private static boolean pause() {
        LockSupport.parkNanos(10_000_000L);
        return !Thread.currentThread().isInterrupted();
    }

    @Override
    public void close() {
        restore.destroyForcibly();
        follower.interrupt();
        try {
            Files.deleteIfExists(restoreLog);
        } catch (IOException e) {
            LOG.debugf("could not remove %s: %s", restoreLog, e.getMessage());
        }
    }
}
