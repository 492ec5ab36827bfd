package dev.pgshift.source;

/**
 * A file found in a migration location, before its name is interpreted.
 *
 * @param relativePath path inside the location, with "/" separators (e.g. {@code 20240101000000_init/migration.sql})
 * @param location     where the location is, for messages ({@code classpath:db/migration} or a directory)
 * @param content      the file's text (UTF-8)
 */
public record MigrationFile(String relativePath, String location, String content) {

    /** Location and path, as a user finds the file; control characters in a name escaped ({@link dev.pgshift.Printable}). */
    public String displayPath() {
        return dev.pgshift.Printable.escape(location + "/" + relativePath);
    }
}
