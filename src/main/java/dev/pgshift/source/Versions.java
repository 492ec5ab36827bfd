package dev.pgshift.source;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * Migration versions: what one given on the command line may look like (--adopt-through, rollback --to, repair) and
 * the one order of versions everywhere in pgshift, Flyway's: dot- or underscore-separated numbers compared part by
 * part, trailing zero parts ignored (1.0 is 1, 1.10 follows 1.9).
 */
public final class Versions {
    /** For messages: what a version is. */
    public static final String EXPECTED = "expected a migration version as plan shows it: digits and dots, e.g. 2, 1.1, 20240115143000 or "
            + "20240110120000.1";

    private Versions() {
    }

    public static boolean valid(String version) {
        return version != null && version.matches("\\d+([._]\\d+)*");
    }

    /** Orders two {@link #valid} versions. */
    public static int compare(String a, String b) {
        List<BigInteger> x = key(a);
        List<BigInteger> y = key(b);
        for (int i = 0; i < Math.max(x.size(), y.size()); i++) {
            int c = (i < x.size() ? x.get(i) : BigInteger.ZERO).compareTo(i < y.size() ? y.get(i) : BigInteger.ZERO);
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    /** The version as Flyway writes it: parts joined by dots, no leading or trailing zeros (1.0 and 01 are both 1). */
    public static String canonical(String version) {
        return key(version).stream().map(BigInteger::toString).collect(java.util.stream.Collectors.joining("."));
    }

    private static List<BigInteger> key(String v) {
        List<BigInteger> parts = new ArrayList<>();
        for (String p : v.replace('_', '.').split("\\.")) {
            parts.add(new BigInteger(p));
        }
        while (parts.size() > 1 && parts.get(parts.size() - 1).signum() == 0) {
            parts.remove(parts.size() - 1);
        }
        return parts;
    }
}
