package dev.pgshift.source;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The conformance corpus in {@code src/test/resources/sql-corpus/classification.txt}: its format is described at its top. */
record SqlCorpus(String name, String sql, int serverFrom, List<String> expected) {
    static final String RESOURCE = "/sql-corpus/classification.txt";

    static List<SqlCorpus> cases() {
        String text;
        try (InputStream in = SqlCorpus.class.getResourceAsStream(RESOURCE)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<SqlCorpus> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        int i = 0;
        while (i < lines.length) {
            if (!lines[i].startsWith("### ")) {
                i++;
                continue;
            }
            String header = lines[i].substring(4);
            int serverFrom = header.endsWith(" @server") ? 14 : header.endsWith(" @server15") ? 15 : 0;
            String name = serverFrom > 0 ? header.substring(0, header.lastIndexOf(" @server")) : header;
            StringBuilder sql = new StringBuilder();
            i++;
            while (!lines[i].equals("--- expect")) {
                sql.append(lines[i]).append('\n');
                i++;
            }
            i++;
            List<String> expected = new ArrayList<>();
            while (i < lines.length && !lines[i].startsWith("### ")) {
                if (!lines[i].isBlank()) {
                    expected.add(lines[i]);
                }
                i++;
            }
            String body = sql.toString();
            if (name.contains("[crlf]")) {
                body = body.replace("\n", "\r\n");
            }
            out.add(new SqlCorpus(name, body, serverFrom, List.copyOf(expected)));
        }
        return out;
    }

    /** What pgshift's reading of SQL makes of the case, in the corpus's expectation format. */
    List<String> actual() {
        List<String> out = new ArrayList<>();
        List<SqlStatement> statements = SqlTokenizer.split(sql);
        for (SqlStatement s : statements) {
            out.add(s.line() + " " + kind(s.kind()) + " " + s.head(3).replace("\n", "\\n"));
        }
        MigrationScript script;
        try {
            script = new MigrationScript("1", "case", MigrationScript.Scheme.FLYWAY, new MigrationFile("V1__case.sql", "/corpus", sql),
                    Statements.of(sql), ExecutionMode.of("/corpus/V1__case.sql", statements), null, null);
        } catch (dev.pgshift.PgshiftException e) {
            String line = e.getMessage().replaceFirst("^/corpus/V1__case\\.sql:(\\d+):.*", "$1").lines().findFirst().orElse("?");
            out.add("refused " + line);
            return out;
        }
        out.add("mode " + script.mode().name().toLowerCase(Locale.ROOT));
        for (Finding w : Lint.check(List.of(script), CORPUS_CATALOG, LintSettings.DEFAULT)) {
            out.add("warn " + w.line() + " " + w.risk());
        }
        return out;
    }

    /** Warnings are expected by fragment: "warn 3 blocks every write" matches "warn 3 blocks every write to t while ...". */
    boolean matches(List<String> actual) {
        if (actual.size() != expected.size()) {
            return false;
        }
        for (int k = 0; k < actual.size(); k++) {
            String e = expected.get(k);
            String a = actual.get(k);
            if (e.startsWith("warn ") ? !a.startsWith("warn ") || !a.contains(e.substring(5).split(" ", 2)[1])
                    || !a.split(" ")[1].equals(e.split(" ")[1]) : !a.equals(e)) {
                return false;
            }
        }
        return true;
    }

    static String kind(SqlStatement.Kind k) {
        return switch (k) {
            case TRANSACTIONAL -> "tx";
            case NON_TRANSACTIONAL -> "out";
            case NEUTRAL -> "neu";
            case TRANSACTION_CONTROL -> "ctl";
            case PSQL_META -> "meta";
        };
    }

    /** The corpus's database: these tables exist; whether a type change rewrites is not known without a server. */
    static final TableCatalog CORPUS_CATALOG = new TableCatalog() {
        @Override
        public boolean exists(QualifiedName table) {
            return List.of("t", "users", "m", "characters", "orders").contains(table.truncated().name());
        }

        @Override
        public Boolean rewrites(QualifiedName table, String column, String newType) {
            return null;
        }
    };

    @Override
    public String toString() {
        return name;
    }

    static String diff(SqlCorpus c, List<String> actual) {
        return c.name + "\n  expected: " + String.join(" | ", c.expected) + "\n  actual:   " + actual.stream().collect(Collectors.joining(" | "));
    }
}
