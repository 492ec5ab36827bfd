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
import java.util.regex.Pattern;
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
    public static final String MANIFEST_SUFFIX = ".manifest.json";

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

    /** What the run knows at backup time, for the manifest. */
    public record Context(String runId, String schemaVersionBefore, List<String> pending, String serverVersion, int serverMajor) {
    }

    public BackupManifest backup(Context ctx) {
        PgTools tools = PgTools.locate(settings.pgDump(), stop);
        tools.checkServer(ctx.serverMajor(), ctx.serverVersion());
        if (settings.verifyRestore()) {
            tools.checkRestoreTarget(ctx.serverMajor(), ctx.serverVersion());
        }
        Path dir = settings.dir();
        try {
            dev.pgshift.PrivateFiles.createDirectories(dir);
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot create the backup directory " + dir + " (--backup-dir): " + e);
        }
        String database = db.settings().database();
        removeStalePartials(dir, database);
        removeOrphans(dir, database);
        Instant start = Instant.now();
        String name = STAMP.format(start) + "_" + safe(database) + "_" + ctx.runId().substring(0, 8) + ".dump";
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
                    Instant.now(), counts, restoreVerified);
            // The dump first, then its manifest: a backup looks complete (it has a manifest) only once it is.
            move(partial, target);
            try {
                fsync(dir); // the rename itself survives a crash
            } catch (IOException e) {
                LOG.warnf("could not fsync the backup directory %s after renaming the backup into it: %s", dir, e.getMessage());
            }
            writeAtomically(dir.resolve(name + MANIFEST_SUFFIX), Json.MAPPER.writeValueAsBytes(manifest));
            LOG.infof("backup %s: %d bytes, sha256 %s, read back whole", target, size, sha);
            prune(dir, database, name);
            return manifest;
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot write the backup " + target + ": " + e, e);
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
            try (ArchiveCheck check = ArchiveCheck.start(partial, p, tools, tools.restore(List.of("--file=/dev/null"), db.settings(), database))) {
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
                    throw new PgshiftException(ExitCode.BACKUP, "pg_dump failed (exit " + p.exitValue() + "): " + Files.readString(errors).strip()
                            + ". Nothing was migrated.");
                }
                long dumped = System.nanoTime();
                LOG.debugf("pg_dump took %d ms, %d bytes read back by then", (dumped - started) / 1_000_000, check.bytesRead());
                String what = "reading the backup's rewritten table of contents back (pg_restore --list " + partial.getFileName() + ")";
                Process toc = tools.start(tools.restore(List.of("--list", "--file=/dev/null", partial.toString()), db.settings(), database)
                        .redirectErrorStream(true), what);
                CompletableFuture<Void> sync = CompletableFuture.runAsync(() -> {
                    try {
                        fsync(partial);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, BackupService::startDaemon);
                String sha = sha256(partial, stop);
                check.finish(Duration.ofHours(1), stop);
                tools.await(toc, what);
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

    /** Keeps the newest {@code keep} backups of this database (and none older than max-age), never the one just made. */
    private void prune(Path dir, String database, String justMade) throws IOException {
        List<Path> mine = list(dir, database);
        Instant cutoff = settings.maxAge() == null ? null : Instant.now().minus(settings.maxAge());
        for (int i = 0; i < mine.size(); i++) {
            Path p = mine.get(i);
            if (p.getFileName().toString().equals(justMade)) {
                continue;
            }
            boolean tooMany = i >= settings.keep();
            boolean tooOld = cutoff != null && Files.getLastModifiedTime(p).toInstant().isBefore(cutoff);
            if (tooMany || tooOld) {
                LOG.infof("retention: deleting %s (%s)", p.getFileName(), tooMany ? "more than " + settings.keep() + " backups" : "older than " + settings.maxAge());
                Files.deleteIfExists(p);
                Files.deleteIfExists(p.resolveSibling(p.getFileName() + MANIFEST_SUFFIX));
            }
        }
    }

    /** This database's complete backups in the directory, newest first. */
    public static List<Path> list(Path dir, String database) throws IOException {
        Pattern mine = dumpName(database);
        try (var s = Files.list(dir)) {
            return s.filter(p -> mine.matcher(p.getFileName().toString()).matches())
                    .sorted((a, b) -> b.getFileName().toString().compareTo(a.getFileName().toString())).toList();
        }
    }

    /**
     * Removes this database's temporary files left by an interrupted run. Only this database's: the run lock is per
     * database, so another database's run sharing the directory may be writing its backup right now.
     */
    /**
     * A dump is renamed into place before its manifest is written: a run killed between the two leaves a dump without a
     * manifest, which no restore accepts. This removes this database's dumps without a manifest and manifests without
     * their dump or whose dump has another length than the manifest says, so only complete backups stay (and count for
     * retention). The sha256 of every dump is checked by each restore, not here: hashing every kept backup on every run
     * would cost seconds per gigabyte.
     */
    private static void removeOrphans(Path dir, String database) {
        Pattern dumps = dumpName(database);
        try (var s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String f = p.getFileName().toString();
                if (dumps.matcher(f).matches() && !Files.exists(p.resolveSibling(f + MANIFEST_SUFFIX))) {
                    LOG.warnf("removing %s: an interrupted run left it without its manifest, so it is not a complete backup", f);
                    Files.deleteIfExists(p);
                } else if (f.endsWith(MANIFEST_SUFFIX) && dumps.matcher(f.substring(0, f.length() - MANIFEST_SUFFIX.length())).matches()) {
                    Path dump = p.resolveSibling(f.substring(0, f.length() - MANIFEST_SUFFIX.length()));
                    if (!Files.exists(dump)) {
                        LOG.warnf("removing %s: its dump %s is missing", f, dump.getFileName());
                        Files.deleteIfExists(p);
                    } else if (Files.size(dump) != sizeIn(p)) {
                        LOG.warnf("removing %s and its manifest: the dump is %d bytes, its manifest says %d: it is damaged", dump.getFileName(),
                                Files.size(dump), sizeIn(p));
                        Files.deleteIfExists(dump);
                        Files.deleteIfExists(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot read the backup directory " + dir + ": " + e);
        }
    }

    /** The name of this database's dumps: {@code <UTC time>_<database>_<run id prefix>.dump}. */
    private static Pattern dumpName(String database) {
        return Pattern.compile("\\d{8}T\\d{6}Z_" + Pattern.quote(safe(database)) + "_[0-9a-f]{8}\\.dump");
    }

    /** The dump length a manifest records; -1 when it cannot be read (then it does not match any dump). */
    private static long sizeIn(Path manifest) {
        try {
            return Json.MAPPER.readValue(manifest.toFile(), BackupManifest.class).sizeBytes();
        } catch (IOException e) {
            return -1;
        }
    }

    private static void removeStalePartials(Path dir, String database) {
        Pattern mine = Pattern.compile("\\.\\d{8}T\\d{6}Z_" + Pattern.quote(safe(database)) + "_[0-9a-f]{8}\\.dump(\\.manifest\\.json)?\\.partial");
        try (var s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s.filter(p -> mine.matcher(p.getFileName().toString()).matches())::iterator) {
                LOG.warnf("removing %s, the incomplete backup of an interrupted run", p.getFileName());
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot read the backup directory " + dir + ": " + e);
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

    static String safe(String database) {
        return database.replaceAll("[^A-Za-z0-9_-]", "-");
    }

    /** Row counts of every table taken in the snapshot that pg_dump then dumps, so a restore can be compared exactly. */
    private static final class SnapshotCounts implements AutoCloseable {
        private final Connection connection;
        private final String id;
        private final Map<String, Long> counts;

        private SnapshotCounts(Connection connection, String id, Map<String, Long> counts) {
            this.connection = connection;
            this.id = id;
            this.counts = counts;
        }

        static SnapshotCounts take(Database db) {
            try {
                Connection c = db.getConnection();
                c.setAutoCommit(false);
                c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                String id;
                try (Statement st = c.createStatement(); var rs = st.executeQuery("select pg_export_snapshot()")) {
                    rs.next();
                    id = rs.getString(1);
                }
                return new SnapshotCounts(c, id, RowCounts.of(c));
            } catch (SQLException e) {
                throw new PgshiftException(ExitCode.BACKUP, "cannot take the snapshot to back up: " + e.getMessage(), e);
            }
        }

        String id() {
            return id;
        }

        Map<String, Long> counts() {
            return counts;
        }

        @Override
        public void close() {
            try {
                connection.rollback();
                connection.close();
            } catch (SQLException e) {
                LOG.debugf("closing the snapshot session: %s", e.getMessage());
            }
        }
    }
}
