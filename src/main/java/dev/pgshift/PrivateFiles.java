package dev.pgshift;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Files and directories pgshift creates are its user's only (0600, 0700): a report or termination message names the
 * database, its users and its schema; a backup directory holds whole copies of the data.
 */
public final class PrivateFiles {
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");

    private PrivateFiles() {
    }

    /** Creates {@code file}, empty, 0600 (it must not exist). */
    public static void create(Path file) throws IOException {
        try {
            Files.createFile(file, attribute(FILE));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
    }

    /** Writes {@code content} to {@code file}: a new file is created 0600; an existing one is narrowed to 0600 first where that is allowed. */
    public static void write(Path file, byte[] content) throws IOException {
        try {
            Files.createFile(file, attribute(FILE));
        } catch (FileAlreadyExistsException e) {
            try {
                Files.setPosixFilePermissions(file, FILE);
            } catch (IOException | UnsupportedOperationException ignored) {
                // not ours to narrow (a file Kubernetes mounted): written as it is
            }
        } catch (UnsupportedOperationException e) {
            // a file system without POSIX modes
        }
        Files.write(file, content, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.CREATE);
    }

    /** Creates {@code dir} and its missing parents 0700; an existing directory keeps its modes (a mounted volume's are its owner's). */
    public static void createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir, attribute(DIRECTORY));
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir);
        }
    }

    private static FileAttribute<Set<PosixFilePermission>> attribute(Set<PosixFilePermission> p) {
        return PosixFilePermissions.asFileAttribute(p);
    }
}
