package dev.pgshift.testing;

import java.util.regex.Pattern;

/** Flyway's options, methods and messages: none may reach a pgshift user, who has no Flyway command line to give them to. */
public final class FlywayWording {
    public static final Pattern PATTERN = Pattern.compile("Flyway|flyway repair|-X\\b|Error Code :|baseline\\(\\)|baselineOnMigrate|baselined|outOfOrder|"
            + "ignoreMigrationPatterns|validateMigrationNaming|cleanDisabled|org\\.flywaydb|run repair|Failed to execute script|"
            + "Changes successfully rolled back|Creating schema|\\[o\\.f\\.");

    /** A Java class or exception name: pgshift says what went wrong in words. */
    public static final Pattern JAVA = Pattern.compile("\\b(?:java|javax|org|com|io)\\.[a-z0-9]+\\.[\\w.$]*[A-Z]\\w*|\\b[A-Z]\\w*(?:Exception|Error)\\b");

    private FlywayWording() {
    }

    /** The first Flyway word (or Java class name) in {@code text} with the line it stands on, or null. */
    public static String find(String text) {
        String flyway = find(PATTERN, text);
        return flyway != null ? flyway : find(JAVA, text);
    }

    private static String find(Pattern pattern, String text) {
        var m = pattern.matcher(text);
        if (!m.find()) {
            return null;
        }
        int start = text.lastIndexOf('\n', m.start()) + 1;
        int end = text.indexOf('\n', m.end());
        return m.group() + " in: " + text.substring(start, end < 0 ? text.length() : end);
    }
}
