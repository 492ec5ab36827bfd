package dev.pgshift.backup;

import com.fasterxml.jackson.databind.DeserializationFeature;
import dev.pgshift.ExitCode;
import dev.pgshift.Json;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.ConnectionSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * One database's files in a backup directory that other databases and other servers may share: how its backups are
 * named, which complete backups are its own (read from their manifests, never from a name), and the leftovers of its
 * interrupted runs.
 *
 * <p>A name is {@code <UTC time>_<readable database>_<key>_<run id prefix>.dump}, the key being the first 12 hex digits
 * of the sha256 of {@code host:port/database}. The readable part is lossy (`shop.eu` and `shop-eu` read alike); the key
 * is what keeps names apart, so a file without a manifest (a leftover) is this database's only when it carries this
 * key. A complete backup is this database's when its manifest names this host, port and database. Manifests written
 * before the key existed have no port: they are matched by host and database alone.
 *
 * <p>Only this database's runs write files with its key, and they hold its run lock while they do, so a leftover with
 * this key is never a file another live run is writing. Leftovers named the old way ({@code <time>_<database>_<run>})
 * do not say which server's database they are: they are left alone unless untouched for {@link #OLD_LEFTOVER_AGE}.
 */
final class BackupFiles {
    private static final Logger LOG = Logger.getLogger(BackupFiles.class);
    static final String MANIFEST_SUFFIX = ".manifest.json";
    static final Duration OLD_LEFTOVER_AGE = Duration.ofHours(24);

    private final Path dir;
    private final ConnectionSettings server;
    private final String key;

    BackupFiles(Path dir, ConnectionSettings server) {
        this.dir = dir;
        this.server = server;
        this.key = keyOf(server);
    }

    /** The first 12 hex digits of the sha256 of {@code host:port/database}, the host lower-cased (host names ignore case). */
    static String keyOf(ConnectionSettings s) {
        String identity = s.host().toLowerCase(Locale.ROOT) + ":" + s.port() + "/" + s.database();
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The name of a new backup of this database made at {@code start} by run {@code runId}. */
    String newName(Instant start, String runId) {
        String readable = readable();
        if (readable.length() > 40) {
            readable = readable.substring(0, 40);
        }
        return BackupService.NAME_STAMP.format(start) + "_" + readable + "_" + key + "_" + runId.substring(0, 8) + ".dump";
    }

    /** This database's complete backups (a dump and its manifest naming this database), newest first. */
    List<Path> complete() throws IOException {
        record Mine(Path dump, BackupManifest manifest) {
        }
        List<Mine> mine = new ArrayList<>();
        for (Path m : manifests()) {
            BackupManifest manifest = read(m);
            Path dump = dumpOf(m);
            if (manifest != null && isMine(manifest) && dump.getFileName().toString().equals(manifest.file()) && Files.isRegularFile(dump)) {
                mine.add(new Mine(dump, manifest));
            }
        }
        return mine.stream()
                .sorted(Comparator.comparing((Mine x) -> x.manifest().startedAt(), Comparator.nullsFirst(Comparator.naturalOrder()))
                        .thenComparing(x -> x.dump().getFileName().toString()).reversed())
                .map(Mine::dump).toList();
    }

    /**
     * Removes what interrupted runs of this database left: temporary files, a dump renamed into place without its
     * manifest (a run killed between the two; no restore accepts it), a manifest without its dump or whose dump has
     * another length than it says. The sha256 of kept dumps is checked by each restore, not here: hashing every kept
     * backup on every run would cost seconds per gigabyte.
     */
    void removeLeftovers() {
        Pattern partial = Pattern.compile("\\.\\d{8}T\\d{6}(\\.\\d{3})?Z_.*_" + key + "_[0-9a-f]{8}\\.dump(\\.manifest\\.json)?\\.partial");
        Pattern oldPartial = Pattern.compile("\\.\\d{8}T\\d{6}Z_" + Pattern.quote(readable()) + "_[0-9a-f]{8}\\.dump(\\.manifest\\.json)?\\.partial");
        Pattern dump = dumpPattern();
        Pattern oldDump = Pattern.compile("\\d{8}T\\d{6}Z_" + Pattern.quote(readable()) + "_[0-9a-f]{8}\\.dump");
        Instant oldCutoff = Instant.now().minus(OLD_LEFTOVER_AGE);
        try (var s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String f = p.getFileName().toString();
                if (partial.matcher(f).matches()) {
                    LOG.warnf("removing %s, the incomplete backup of an interrupted run", f);
                    Files.deleteIfExists(p);
                } else if (oldPartial.matcher(f).matches() && Files.getLastModifiedTime(p).toInstant().isBefore(oldCutoff)) {
                    LOG.warnf("removing %s, the incomplete backup of a run interrupted more than %dh ago", f, OLD_LEFTOVER_AGE.toHours());
                    Files.deleteIfExists(p);
                } else if (dump.matcher(f).matches() && !Files.exists(p.resolveSibling(f + MANIFEST_SUFFIX))) {
                    LOG.warnf("removing %s: an interrupted run left it without its manifest, so it is not a complete backup", f);
                    Files.deleteIfExists(p);
                } else if (oldDump.matcher(f).matches() && !Files.exists(p.resolveSibling(f + MANIFEST_SUFFIX))
                        && Files.getLastModifiedTime(p).toInstant().isBefore(oldCutoff)) {
                    LOG.warnf("removing %s: a run interrupted more than %dh ago left it without its manifest", f, OLD_LEFTOVER_AGE.toHours());
                    Files.deleteIfExists(p);
                } else if (f.endsWith(MANIFEST_SUFFIX) && oldDump.matcher(f.substring(0, f.length() - MANIFEST_SUFFIX.length())).matches()
                        && !Files.exists(dumpOf(p)) && Files.getLastModifiedTime(p).toInstant().isBefore(oldCutoff)) {
                    LOG.warnf("removing %s: its dump is missing (a run interrupted more than %dh ago)", f, OLD_LEFTOVER_AGE.toHours());
                    Files.deleteIfExists(p);
                } else if (f.endsWith(MANIFEST_SUFFIX) && Files.isRegularFile(p)) {
                    removeIfDamaged(p);
                }
            }
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot read the backup directory " + dir + " (--backup-dir): " + inWords(e));
        }
    }

    /** Keeps the newest {@code keep} of this database's backups (and none older than {@code maxAge}), never {@code justMade}. */
    void prune(int keep, Duration maxAge, String justMade) throws IOException {
        List<Path> mine = complete();
        Instant cutoff = maxAge == null ? null : Instant.now().minus(maxAge);
        int kept = 0;
        for (Path p : mine) {
            if (p.getFileName().toString().equals(justMade)) {
                kept++;
                continue;
            }
            boolean tooMany = kept >= keep;
            boolean tooOld = cutoff != null && Files.getLastModifiedTime(p).toInstant().isBefore(cutoff);
            if (tooMany || tooOld) {
                LOG.infof("retention: deleting %s (%s)", p.getFileName(), tooMany ? "more than " + keep + " backups" : "older than " + maxAge);
                Files.deleteIfExists(p);
                Files.deleteIfExists(p.resolveSibling(p.getFileName() + MANIFEST_SUFFIX));
            } else {
                kept++;
            }
        }
    }

    private void removeIfDamaged(Path manifestFile) throws IOException {
        BackupManifest manifest = read(manifestFile);
        if (manifest == null || !isMine(manifest)) {
            return;
        }
        Path dump = dumpOf(manifestFile);
        if (!Files.exists(dump)) {
            LOG.warnf("removing %s: its dump %s is missing", manifestFile.getFileName(), dump.getFileName());
            Files.deleteIfExists(manifestFile);
        } else if (Files.size(dump) != manifest.sizeBytes()) {
            LOG.warnf("removing %s and its manifest: the dump is %d bytes, its manifest says %d: it is damaged", dump.getFileName(),
                    Files.size(dump), manifest.sizeBytes());
            Files.deleteIfExists(dump);
            Files.deleteIfExists(manifestFile);
        }
    }

    /**
     * Before connecting (preflight): the backup directory can be made or written to, and has room for a backup as large
     * as this database's last one, so a run that cannot back up stops at once (exit 4) and not after connecting, taking
     * the run lock and planning.
     */
    static void preflight(Path dir, ConnectionSettings server, boolean mayGoWithout) {
        Path existing = dir.toAbsolutePath().normalize();
        while (existing.getParent() != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        String what = "the backup directory " + dir + " (--backup-dir)";
        if (!Files.isDirectory(existing)) {
            throw new PgshiftException(ExitCode.BACKUP, what + " cannot be made: " + existing + " is not a directory. Nothing was changed; "
                    + "point --backup-dir at a directory" + (mayGoWithout ? ", or pass --backup=never to go on without a backup" : ""));
        }
        if (!Files.isWritable(existing)) {
            throw new PgshiftException(ExitCode.BACKUP, what + (existing.equals(dir.toAbsolutePath().normalize()) ? " is not writable"
                    : " cannot be made: " + existing + " is not writable") + " for this user (a read-only file system, or its permissions). "
                    + "Nothing was changed; mount a writable volume there, or point --backup-dir at one");
        }
        if (!Files.isDirectory(dir)) {
            return;
        }
        try {
            List<Path> mine = new BackupFiles(dir, server).complete();
            if (!mine.isEmpty()) {
                long last = Files.size(mine.get(0));
                long free = Files.getFileStore(dir).getUsableSpace();
                if (free < last) {
                    throw new PgshiftException(ExitCode.BACKUP, what + " has " + mib(free) + " free, and the last backup of this database ("
                            + mine.get(0).getFileName() + ") took " + mib(last) + ". Nothing was changed; free space there (fewer kept "
                            + "backups: --backup-keep) or point --backup-dir at a larger volume");
                }
            }
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.BACKUP, "cannot read " + what + ": " + inWords(e) + ". Nothing was changed.");
        }
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    /** What went wrong with a file, in words: "permission denied", "Not a directory", not a Java exception's class. */
    static String inWords(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return String.valueOf(e.getMessage());
    }

    /** A manifest is this database's when it names this database, this host and (when it records one) this port. */
    private boolean isMine(BackupManifest m) {
        return server.database().equals(m.database()) && server.host().equalsIgnoreCase(m.host())
                && (m.port() == null || m.port() == server.port());
    }

    /** A dump of this database named with its key (a file without a manifest can only be told apart by its name). */
    private Pattern dumpPattern() {
        return Pattern.compile("\\d{8}T\\d{6}(\\.\\d{3})?Z_.*_" + key + "_[0-9a-f]{8}\\.dump");
    }

    /** The database's name with what a file name should not hold replaced by '-': lossy, and all names had before the key. */
    private String readable() {
        return server.database().replaceAll("[^A-Za-z0-9_-]", "-");
    }

    private List<Path> manifests() throws IOException {
        try (var s = Files.list(dir)) {
            return s.filter(p -> {
                String f = p.getFileName().toString();
                return f.endsWith(".dump" + MANIFEST_SUFFIX) && !f.startsWith(".");
            }).toList();
        }
    }

    private static Path dumpOf(Path manifestFile) {
        String f = manifestFile.getFileName().toString();
        return manifestFile.resolveSibling(f.substring(0, f.length() - MANIFEST_SUFFIX.length()));
    }

    /** The manifest, or null when it cannot be read (then it is nobody's as far as this run can tell, and left alone). */
    private static BackupManifest read(Path manifestFile) {
        try {
            return Json.MAPPER.readerFor(BackupManifest.class).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .readValue(manifestFile.toFile());
        } catch (IOException e) {
            LOG.debugf("not a manifest pgshift can read, left alone: %s (%s)", manifestFile.getFileName(), e.getMessage());
            return null;
        }
    }
}
