package dev.pgshift.source;

import java.nio.charset.StandardCharsets;

/**
 * An object's name as a statement writes it, read the way PostgreSQL reads it: the schema (null when unqualified: the
 * session's search_path decides) and the name, each either quoted (kept as written) or folded (ASCII letters to lower
 * case only, as PostgreSQL folds an unquoted identifier in a multibyte encoding). Both parts are kept as written, not
 * yet cut to {@link #MAX_BYTES}: the server truncates them when it reads them, {@link #truncated()} says to what.
 *
 * @param schema null for an unqualified name
 * @param name   never null
 */
public record QualifiedName(String schema, String name) {
    /** NAMEDATALEN - 1: PostgreSQL keeps this many bytes of an identifier (cut at a character boundary). */
    public static final int MAX_BYTES = 63;

    public QualifiedName {
        if (name == null) {
            throw new IllegalArgumentException("a name is needed");
        }
    }

    /** {@code name} as a quoted identifier: its case and any character kept ({@code MySchema} stays {@code MySchema}). */
    public static String quote(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    /**
     * The name as SQL, both parts quoted: what {@code to_regclass} resolves as the statement's own name would be (the
     * server truncates each part and, for an unqualified name, searches the session's search_path).
     */
    public String sql() {
        return schema == null ? quote(name) : quote(schema) + "." + quote(name);
    }

    /** Each part as PostgreSQL stores it: cut to {@link #MAX_BYTES} bytes of UTF-8 at a character boundary. */
    public QualifiedName truncated() {
        return new QualifiedName(schema == null ? null : truncate(schema), truncate(name));
    }

    /** Whether PostgreSQL will cut a part of this name. */
    public boolean isTruncated() {
        return !equals(truncated());
    }

    /** The name as messages show it, as PostgreSQL will store it: {@code audit.events_idx}, {@code "Mixed Case"."T x"}. */
    @Override
    public String toString() {
        QualifiedName t = truncated();
        return t.schema == null ? display(t.name) : display(t.schema) + "." + display(t.name);
    }

    /** An identifier as psql would print it: bare where it reads back the same, quoted otherwise; control characters escaped. */
    public static String display(String ident) {
        boolean plain = !ident.isEmpty() && (Character.isLetter(ident.charAt(0)) || ident.charAt(0) == '_');
        for (int k = 0; k < ident.length() && plain; k++) {
            char ch = ident.charAt(k);
            plain = ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '$' || ch > 127 && !Character.isUpperCase(ch);
        }
        return dev.pgshift.Printable.escape(plain ? ident : quote(ident));
    }

    /** {@code ident} cut to {@link #MAX_BYTES} bytes of UTF-8, never inside a character (PostgreSQL's pg_mbcliplen). */
    public static String truncate(String ident) {
        if (ident.length() <= MAX_BYTES / 4 || ident.getBytes(StandardCharsets.UTF_8).length <= MAX_BYTES) {
            return ident;
        }
        int bytes = 0;
        int k = 0;
        while (k < ident.length()) {
            int cp = ident.codePointAt(k);
            int len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + len > MAX_BYTES) {
                break;
            }
            bytes += len;
            k += Character.charCount(cp);
        }
        return ident.substring(0, k);
    }

    /**
     * One identifier as the statement wrote it ({@code Users}, {@code "Users"}, {@code U&"d\0061t"}) as PostgreSQL reads
     * it: a quoted one unquoted, a Unicode-escaped one decoded (the default escape character), an unquoted one with its
     * ASCII letters in lower case.
     */
    public static String fold(String written) {
        if (written.length() >= 2 && written.startsWith("\"") && written.endsWith("\"")) {
            return written.substring(1, written.length() - 1).replace("\"\"", "\"");
        }
        if (written.length() >= 4 && (written.startsWith("U&\"") || written.startsWith("u&\"")) && written.endsWith("\"")) {
            return unescape(fold(written.substring(2)));
        }
        StringBuilder out = new StringBuilder(written.length());
        for (int k = 0; k < written.length(); k++) {
            char ch = written.charAt(k);
            out.append(ch >= 'A' && ch <= 'Z' ? (char) (ch + ('a' - 'A')) : ch);
        }
        return out.toString();
    }

    /** The escapes of a U&"..." identifier: {@code \XXXX}, {@code \+XXXXXX}, {@code \\}. */
    private static String unescape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int k = 0; k < s.length(); k++) {
            char ch = s.charAt(k);
            if (ch != '\\' || k + 1 >= s.length()) {
                out.append(ch);
            } else if (s.charAt(k + 1) == '\\') {
                out.append('\\');
                k++;
            } else {
                int digits = s.charAt(k + 1) == '+' ? 6 : 4;
                int from = k + (digits == 6 ? 2 : 1);
                if (from + digits > s.length()) {
                    out.append(ch);
                    continue;
                }
                try {
                    out.appendCodePoint(Integer.parseInt(s.substring(from, from + digits), 16));
                    k = from + digits - 1;
                } catch (IllegalArgumentException e) {
                    out.append(ch);
                }
            }
        }
        return out.toString();
    }
}
