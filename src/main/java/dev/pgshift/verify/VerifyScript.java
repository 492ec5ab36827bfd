package dev.pgshift.verify;

import dev.pgshift.source.MigrationFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A project verify script, Sqitch's idea: a query that must return no rows. A first-lines comment
 * {@code -- pgshift:after <version>} ties it to a migration: it runs only once that version is applied.
 */
record VerifyScript(MigrationFile file, String afterVersion) {
    private static final Pattern AFTER = Pattern.compile("(?m)^--\\s*pgshift:after\\s+(\\S+)\\s*$");

    static VerifyScript of(MigrationFile f) {
        Matcher m = AFTER.matcher(f.content());
        return new VerifyScript(f, m.find() ? m.group(1) : null);
    }

    String name() {
        return file.relativePath().replaceAll("\\.sql$", "");
    }
}
