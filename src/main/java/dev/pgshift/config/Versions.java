package dev.pgshift.config;

/** What a migration version given on the command line may look like (--adopt-through, rollback --to). */
public final class Versions {
    /** For messages: what a version is. */
    public static final String EXPECTED = "expected a migration version as plan shows it: digits and dots, e.g. 2, 1.1, 20240115143000 or "
            + "20240110120000.1";

    private Versions() {
    }

    public static boolean valid(String version) {
        return version != null && version.matches("\\d+([._]\\d+)*");
    }
}
