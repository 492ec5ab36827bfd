package dev.pgshift;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes on disk as PostgreSQL writes them (1024-based: kB, MB, GB, TB). */
public final class Sizes {
    private static final Pattern SIZE = Pattern.compile("\\s*([0-9]{1,12})\\s*(B|kB|KB|MB|GB|TB)\\s*", Pattern.CASE_INSENSITIVE);

    private Sizes() {
    }

    /** Bytes, or -1 when {@code s} is no size with a unit. */
    public static long parse(String s) {
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) {
            return -1;
        }
        int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
            case "B" -> 0;
            case "KB" -> 10;
            case "MB" -> 20;
            case "GB" -> 30;
            default -> 40;
        };
        long n = Long.parseLong(m.group(1));
        return n > Long.MAX_VALUE >> (shift + 1) ? Long.MAX_VALUE : n << shift; // more than any disk holds: never reached, not wrapped
    }

    /** As pg_size_pretty would show it, near enough. */
    public static String display(long bytes) {
        String[] units = {"bytes", "kB", "MB", "GB", "TB"};
        double v = bytes;
        int u = 0;
        while (v >= 10 * 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%d %s", Math.round(v), units[u]);
    }
}
