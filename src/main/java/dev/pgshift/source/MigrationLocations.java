package dev.pgshift.source;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads migration files from the bundled location and from directories given at run time.
 *
 * <p>Bundled files are found through an index.txt written at build time (e.g. {@value #INDEX}), never by listing a classpath
 * directory: that works on the JVM but finds nothing in a native binary.
 */
public final class MigrationLocations {
    public static final String BUNDLED_ROOT = "db/migration";
    public static final String INDEX = "db/migration/index.txt";

    private MigrationLocations() {
    }

    /** All files of the bundled location and of {@code dirs}, in that order. */
    public static List<MigrationFile> read(boolean bundled, List<Path> dirs) {
        List<MigrationFile> files = new ArrayList<>();
        if (bundled) {
            files.addAll(bundled(Thread.currentThread().getContextClassLoader()));
        }
        for (Path dir : dirs) {
            files.addAll(directory(dir));
        }
        return files;
    }

    /** The bundled migrations, read file by file from the build-time index. */
    public static List<MigrationFile> bundled(ClassLoader loader) {
        return bundled(loader, BUNDLED_ROOT);
    }

    /** The files under a bundled classpath root, read file by file from its build-time {@code index.txt}. */
    public static List<MigrationFile> bundled(ClassLoader loader, String root) {
        String index = readResource(loader, root + "/index.txt");
        if (index == null) {
            return List.of();
        }
        List<MigrationFile> files = new ArrayList<>();
        for (String line : index.split("\n")) {
            String rel = line.strip();
            if (rel.isEmpty() || rel.startsWith("#")) {
                continue;
            }
            String content = readResource(loader, root + "/" + rel);
            if (content == null) {
                throw new PgshiftException(ExitCode.INTERNAL, "bundled file " + rel + " is listed in " + root + "/index.txt but missing");
            }
            files.add(new MigrationFile(rel, "classpath:" + root, content));
        }
        return files;
    }

    /**
     * The files below {@code dir}. Entries starting with "." are skipped: a mounted ConfigMap holds "..data" and
     * "..2024_01_01..." links beside its keys.
     */
    public static List<MigrationFile> directory(Path dir) {
        List<MigrationFile> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
                Path rel = dir.relativize(p);
                if (rel.toString().isEmpty() || hidden(rel) || !Files.isRegularFile(p)) {
                    continue;
                }
                files.add(new MigrationFile(rel.toString().replace('\\', '/'), dir.toString(), utf8(p)));
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new PgshiftException(ExitCode.CONFIG, "cannot read migration directory " + dir + ": " + e.getMessage());
        }
        return files;
    }

    /** The file as UTF-8 text; one that is not names itself, the line and the byte (a Latin-1 file gave "Input length = 1"). */
    private static String utf8(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        // Checked through a small buffer, then decoded once into the String: a buffer of the whole text would cost twice
        // the file's size again (a char is two bytes) on top of the bytes and the String.
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer chunk = CharBuffer.allocate(8192);
        java.nio.charset.CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CoderResult result;
        do {
            chunk.clear();
            result = decoder.decode(in, chunk, true);
        } while (result.isOverflow());
        boolean utf16 = bytes.length >= 2 && ((bytes[0] & 0xff) == 0xFF && (bytes[1] & 0xff) == 0xFE
                || (bytes[0] & 0xff) == 0xFE && (bytes[1] & 0xff) == 0xFF);
        int nul = -1;
        int nulsAtStart = 0; // UTF-16 text has a NUL in every other byte of its ASCII part
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                nul = nul < 0 ? i : nul;
                nulsAtStart += i < 1024 ? 1 : 0;
            }
        }
        utf16 = utf16 || nulsAtStart * 4 >= Math.min(bytes.length, 1024);
        if (result.isError() || nul >= 0) {
            int at = result.isError() ? in.position() : nul;
            int line = 1;
            for (int i = 0; i < at; i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            String what = result.isError() ? "not UTF-8 text" : "a NUL byte, which no PostgreSQL text can hold";
            String fix = utf16 ? "it looks like UTF-16: save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)"
                    : nul >= 0 ? "remove the byte (an editor or a tool wrote it; PostgreSQL refuses it in any text)"
                    : "save it as UTF-8 (e.g. iconv -f LATIN1 -t UTF-8 for a Latin-1 file)";
            throw new PgshiftException(ExitCode.CONFIG, file + ":" + line + ": " + what + " (byte 0x" + String.format("%02X", bytes[at] & 0xff)
                    + " at offset " + at + "): pgshift reads migration files as UTF-8, as PostgreSQL tools do; " + fix);
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static boolean hidden(Path rel) {
        for (Path part : rel) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static String readResource(ClassLoader loader, String name) {
        try (InputStream in = loader.getResourceAsStream(name)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PgshiftException(ExitCode.INTERNAL, "cannot read bundled resource " + name + ": " + e.getMessage());
        }
    }
}
