package dev.pgshift;

/**
 * Text from outside pgshift (a file or folder name, an object's name) as pgshift prints it: control characters escaped
 * as {@code \xNN}, so that a name holding a newline cannot forge a log line or a line of the summary.
 */
public final class Printable {

    private Printable() {
    }

    public static String escape(String s) {
        StringBuilder out = null;
        for (int k = 0; k < s.length(); k++) {
            char ch = s.charAt(k);
            if (Character.isISOControl(ch) || ch == '\u2028' || ch == '\u2029') {
                if (out == null) {
                    out = new StringBuilder(s.length() + 8).append(s, 0, k);
                }
                out.append(String.format("\\x%02x", (int) ch));
            } else if (out != null) {
                out.append(ch);
            }
        }
        return out == null ? s : out.toString();
    }
}
