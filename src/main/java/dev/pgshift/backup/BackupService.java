package dev.pgshift.backup;

import dev.pgshift.ExitCode;
import dev.pgshift.Json;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.BackupSettings;
import dev.pgshift.db.Database;
import dev.pgshift.db.StopSignal;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The backup phase: pg_dump in custom format into the backup directory, written under a temporary name and renamed
 * only once complete and checked (so a killed run never leaves a file that looks valid), read back whole by pg_restore
 * while pg_dump writes it ({@link ArchiveCheck}; pg_restore --list alone reads only the table of contents and passes a
 * truncated file), its sha256 and a manifest written beside it, old backups pruned.
 */
public final class BackupService {
    private static final Logger LOG = Logger.getLogger(BackupService.class);
    static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    /** A backup's name starts with its start to the millisecond, so names sort as the backups were made (older ones: to the second). */
    static final DateTimeFormatter NAME_STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);
    public static final String MANIFEST_SUFFIX = BackupFiles.MANIFEST_SUFFIX;

    private final BackupSettings settings;
    private final Database db;
    private final Duration progressInterval;
    private final StopSignal stop;

    public BackupService(BackupSettings settings, Database db, Duration progressInterval, StopSignal stop) {
        this.settings = settings;
        this.db = db;
        this.progressInterval = progressInterval;
        this.stop = stop;
    }

    /**
     * What the run knows at backup time, for the manifest.
     *
     * @param rehearse whether the run rehearses on a copy restored from the backup (--backup-method auto then dumps)
     * @param warn     where a warning for the report goes
     */
    public record Context(String runId, String schemaVersionBefore, List<String> pending, String serverVersion, int serverMajor, boolean rehearse,
            java.util.function.Consumer<String> warn) {
    }

    /**
     * Before connecting: the backup directory can be made or written to and has room for this database's last backup;
     * exit 4 naming what is wrong otherwise.
     *
     * @param mayGoWithout whether the command takes --backup=never (its advice says so)
     */
    public static void preflight(Path dir, dev.pgshift.config.ConnectionSettings server, boolean mayGoWithout) {
        BackupFiles.preflight(dir, server, mayGoWithout);
    }

    /** A backup by the method the settings give: a dump, a restore point, or (auto) one of them by the database's size. */
    public BackupManifest backup(Context ctx) {
        if (settings.method() != BackupSettings.Method.DUMP) {
            try (Connection c = db.getConnection()) {
                long size;
                try (Statement st = c.createStatement(); var rs = st.executeQuery("select pg_database_size(current_database())")) {
                    rs.next();
                    size = rs.getLong(1);
                }
                if (settings.method() == BackupSettings.Method.RESTORE_POINT) {
                    return restorePoint(c, ctx, size);
                }
                String sized = "the database is " + dev.pgshift.Sizes.display(size);
                String above = dev.pgshift.Sizes.display(settings.restorePointAbove());
                if (size <= settings.restorePointAbove()) {
                    LOG.infof("backing up with pg_dump: %s, not above --restore-point-above %s", sized, above);
                } else if (ctx.rehearse() || settings.verifyRestore()) {
                    ctx.warn().accept("backed up with pg_dump although " + sized + ", above --restore-point-above " + above + ": "
                            + (ctx.rehearse() ? "--rehearse" : "--verify-restore") + " restores a copy from the dump");
                } else {
                    String unfit = RestorePoints.unfit(c, settings.archiveWait());
                    if (unfit == null) {
                        return restorePoint(c, ctx, size);
                    }
                    ctx.warn().accept("backed up with pg_dump although " + sized + ", above --restore-point-above " + above
                            + ": no restore point, since " + unfit);
                }
            } catch (SQLException e) {
                throw new PgshiftException(ExitCode.BACKUP, "cannot read the database's size to choose the backup method: " + e.getMessage()
                        + ". Nothing was migrated.", e);
            }
        }
        try (PgTools tools = PgTools.locate(settings.pgDump(), stop)) {
            return backup(ctx, tools);
        }
    }

    private BackupManifest restorePoint(Connection c, Context ctx, long size) {
        Instant start = Instant.now();
        RestorePoint point = RestorePoints.make(c, RestorePoints.name(ctx.runId(), ctx.schemaVersionBefore()), settings.archiveWait(),
                progressInterval, stop, size);
        return BackupManifest.of(point, db.settings().database(), db.settings().host(), db.settings().port(), ctx.serverVersion(),
                ctx.schemaVersionBefore(), ctx.pending(), ctx.runId(), start);
    }

    private BackupManifest backup(Context ctx, PgTools tools) {
        tools.checkServer(ctx.serverMajor(), ctx.serverVersion());
        if (settings.verifyRestore()) {
            tools.checkRestoreTarget(ctx.serverMajor(), ctx.serverVersion());
        }
        Path dir = settings.dir();
        try {
            dev.pgshift.PrivateFiles.createDirectories(dir);
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot create the backup directory " + dir + " (--backup-dir): " + BackupFiles.inWords(e)
                    + ". Nothing was migrated.");
        }
        String database = db.settings().database();
        BackupFiles files = new BackupFiles(dir, db.settings());
        files.removeLeftovers();
        Instant start = Instant.now();
        String name = files.newName(start, ctx.runId());
        Path partial = dir.resolve("." + name + ".partial");
        Path target = dir.resolve(name);
        Map<String, Long> counts = null;
        String sha;
        try {
            List<String> args = new ArrayList<>(List.of("--format=custom", "--file=" + partial));
            if (tools.major() >= 10) {
                args.add("--no-sync"); // pgshift makes the file durable itself, while it computes the sha256
            }
            if (settings.scope() == BackupSettings.Scope.SCHEMA) {
                args.add("--schema-only");
            }
            try (SnapshotCounts snapshot = settings.verifyRestore() ? SnapshotCounts.take(db) : null) {
                if (snapshot != null) {
                    args.add("--snapshot=" + snapshot.id());
                    counts = snapshot.counts();
                }
                LOG.infof("backing up %s with %s into %s", db.settings().describe(), tools.version(), target);
                createPrivate(partial);
                sha = dumpAndReadBack(tools, args, partial, database);
            }
            long size = Files.size(partial);
            boolean restoreVerified = false;
            if (settings.verifyRestore()) {
                new ScratchRestore(db, tools, stop).verify(partial, counts, ctx.runId());
                restoreVerified = true;
            }
            BackupManifest manifest = new BackupManifest(1, name, sha, size, database, db.settings().host(), ctx.serverVersion(),
                    tools.version(), settings.scope().name().toLowerCase(), ctx.schemaVersionBefore(), ctx.pending(), ctx.runId(), start,
                    Instant.now(), counts, restoreVerified, db.settings().port(), BackupManifest.DUMP, null);
            // The dump first, then its manifest: a backup looks complete (it has a manifest) only once it is.
            move(partial, target);
            try {
                fsync(dir); // the rename itself survives a crash
            } catch (IOException e) {
                LOG.warnf("could not fsync the backup directory %s after renaming the backup into it: %s", dir, e.getMessage());
            }
            writeAtomically(dir.resolve(name + MANIFEST_SUFFIX), Json.MAPPER.writeValueAsBytes(manifest));
            LOG.infof("backup %s: %d bytes, sha256 %s, read back whole", target, size, sha);
            files.prune(settings.keep(), settings.maxAge(), name);
            return manifest;
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot write the backup " + target + ": " + BackupFiles.inWords(e) + ". Nothing was migrated.", e);
        } finally {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException e) {
                LOG.warnf("could not remove %s: %s", partial, e.getMessage());
            }
        }
    }

    /**
     * Runs pg_dump while {@link ArchiveCheck} reads what it writes back through pg_restore, logging progress at the
     * interval; SIGTERM stops both; a damaged archive stops pg_dump as soon as pg_restore notices. Once pg_dump is done,
     * four things run side by side: the file is made durable (fsync), its sha256 computed, the table of contents pg_dump
     * rewrote in place read again ({@code pg_restore --list}), and the read-back finished. Returns the sha256.
     */
    private String dumpAndReadBack(PgTools tools, List<String> args, Path partial, String database) throws IOException {
        Path errors = Files.createTempFile("pgshift-pg_dump", ".log");
        Process p = null;
        try {
            long started = System.nanoTime();
            p = tools.start(tools.dump(args, db.settings(), database).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(errors.toFile()), "pg_dump");
            try (ArchiveCheck check = ArchiveCheck.start(partial, p, tools, tools.readArchive(List.of("--file=/dev/null")))) {
                long nextLog = System.nanoTime() + progressInterval.toNanos();
                while (!p.waitFor(100, TimeUnit.MILLISECONDS)) {
                    stop.checkStop(DURING_BACKUP);
                    if (check.failedEarly()) {
                        stop.checkStop(DURING_BACKUP);
                        throw check.damaged();
                    }
                    if (System.nanoTime() >= nextLog) {
                        LOG.infof("backup in progress: %d bytes written, %d read back", Files.size(partial), check.bytesRead());
                        nextLog = System.nanoTime() + progressInterval.toNanos();
                    }
                }
                stop.checkStop(DURING_BACKUP); // a stop ends pg_dump: its exit status says nothing then
                if (p.exitValue() != 0) {
                    String said = Files.readString(errors).strip();
                    boolean lost = PgTools.lostConnection(said);
                    throw new PgshiftException(lost ? ExitCode.TEMPORARY : ExitCode.BACKUP, "pg_dump failed (exit " + p.exitValue() + "): "
                            + said + (lost ? "; the connection to the database was lost or refused: run again" : "") + ". Nothing was migrated.");
                }
                long dumped = System.nanoTime();
                LOG.debugf("pg_dump took %d ms, %d bytes read back by then", (dumped - started) / 1_000_000, check.bytesRead());
                String what = "reading the backup's rewritten table of contents back (pg_restore --list " + partial.getFileName() + ")";
                Process toc = tools.start(tools.readArchive(List.of("--list", "--file=/dev/null", partial.toString())).redirectErrorStream(true), what);
                CompletableFuture<Void> sync = CompletableFuture.runAsync(() -> {
                    try {
                        fsync(partial);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, BackupService::startDaemon);
                String sha = sha256(partial, stop);
                check.finish(Duration.ofHours(1), stop);
                tools.await(toc, what, Duration.ofHours(1));
                try {
                    sync.join();
                } catch (CompletionException e) {
                    throw new IOException("fsync " + partial + ": " + e.getCause().getMessage(), e.getCause());
                }
                LOG.debugf("pg_dump done; fsync, sha256, table of contents and read-back finished %d ms later", (System.nanoTime() - dumped) / 1_000_000);
                return sha;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgshiftException(ExitCode.TEMPORARY, "interrupted during the backup", e);
        } finally {
            if (p != null) {
                stop.forget(p);
            }
            if (p != null && p.isAlive()) {
                p.destroy();
                try {
                    p.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Files.deleteIfExists(errors);
        }
    }

    static String sha256(Path file) throws IOException {
        return sha256(file, null);
    }

    /** The file's sha256; with a {@code stop}, SIGTERM ends a long pass (a large archive takes about a second per GB). */
    static String sha256(Path file, StopSignal stop) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            long blocks = 0;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
                if (stop != null && ++blocks % 256 == 0) {
                    stop.checkStop(DURING_BACKUP);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where a stop during the backup leaves the run. */
    static final String DURING_BACKUP = "during the backup; nothing was migrated";

    /** fsync of a file, or of a directory after a rename in it. */
    private static void fsync(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, Files.isDirectory(p) ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private static void startDaemon(Runnable r) {
        Thread t = new Thread(r, "pgshift-backup-fsync");
        t.setDaemon(true);
        t.start();
    }

    /** An empty file only its owner can read, which pg_dump then truncates and fills: the dump is never readable by others. */
    private static void createPrivate(Path p) throws IOException {
        dev.pgshift.PrivateFiles.create(p);
    }

    private static void writeAtomically(Path target, byte[] content) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".partial");
        createPrivate(tmp);
        Files.write(tmp, content);
        fsync(tmp);
        move(tmp, target);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
