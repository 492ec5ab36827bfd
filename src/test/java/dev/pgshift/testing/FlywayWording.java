package dev.pgshift.testing;

import java.util.regex.Pattern;

/** Flyway's options, methods and messages: none may reach a pgshift user, who has no Flyway command line to give them to. */
public final class FlywayWording {
    public static final Pattern PATTERN = Pattern.compile("Flyway|flyway repair|-X\\b|Error Code :|baseline\\(\\)|baselineOnMigrate|baselined|outOfOrder|"
            + "ignoreMigrationPatterns|validateMigrationNaming|cleanDisabled|org\\.flywaydb|run repair|Failed to execute script|"
            + "Changes successfully rolled back");

    private FlywayWording() {
    }

    /** The first Flyway word in {@code text} with the line it stands on, or null. */
    public static String find(String text) {
        var m = PATTERN.matcher(text);
        if (!m.find()) {
            return null;
        }
        int start = text.lastIndexOf('\n', m.start()) + 1;
        int end = text.indexOf('\n', m.end());
        return m.group() + " in: " + text.substring(start, end < 0 ? text.length() : end);
    }
}
