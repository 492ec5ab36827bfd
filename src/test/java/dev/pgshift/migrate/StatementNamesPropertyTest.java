package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.pgshift.source.QualifiedName;
import dev.pgshift.source.SqlStatement;
import dev.pgshift.source.SqlTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Property tests of the tokenizer: generated files of concurrent statements (and statements that only look like them)
 * with comments, quoted and Unicode-escaped identifiers, dollar quotes and string forms placed anywhere a separator may
 * stand. Whatever the placement, the statement boundaries, their lines, words and kinds, and the qualified names the
 * concurrent engine reads from them must be what the generator wrote. A failing seed is printed by QuickTheories; keep
 * it in {@link #CORPUS}, which runs every time.
 */
class StatementNamesPropertyTest {

    /** Seeds that once failed (none so far) and a few fixed ones, run on every build. */
    private static final long[] CORPUS = {1L, 42L, 20261202L};

    /** An identifier as written, and as PostgreSQL reads it. */
    record Ident(String written, String folded) {
    }

    private static final List<Ident> IDENTS = List.of(
            new Ident("users", "users"), new Ident("Users", "users"), new Ident("t_1$x", "t_1$x"), new Ident("größe", "größe"),
            new Ident("ÄBC", "Äbc"), new Ident("\"Mixed Case\"", "Mixed Case"), new Ident("\"with \"\"quote\"\"\"", "with \"quote\""),
            new Ident("\"semi;colon\"", "semi;colon"), new Ident("\"--not a comment\"", "--not a comment"), new Ident("\"/*no*/\"", "/*no*/"),
            new Ident("\"select\"", "select"), new Ident("U&\"d\\0061t\"", "dat"), new Ident("\"$$\"", "$$"),
            new Ident("BackgroundWorkerTask_runtimeEnvironmentId_slug_triggerSource_idx", "backgroundworkertask_runtimeenvironmentid_slug_triggersource_idx"));

    private static final List<String> SEPARATORS = List.of(" ", "\n", "\t", "  \n  ", "\r\n", "-- a ; comment ' \" $$ /*\n",
            "/* block ; ' \" */", "/* nested /* ; */ still -- */", " /**/ ", "--\n");

    /** A generated file: its text, and what each statement must come out as. */
    record Generated(String text, List<Expected> statements) {
    }

    /** What one statement must come out as: its words, kind, first line and the names the engine reads. */
    record Expected(List<String> canonical, int line, String names) {
    }

    @Test
    void boundariesAndNamesDoNotDependOnCommentsOrSpacing() {
        for (long seed : CORPUS) {
            check(seed);
        }
        qt().withExamples(400).forAll(longs().all()).checkAssert(StatementNamesPropertyTest::check);
    }

    private static void check(long seed) {
        Generated g = generate(new Random(seed));
        List<SqlStatement> got = SqlTokenizer.split(g.text());
        String context = "seed " + seed + ", file:\n" + g.text();
        assertEquals(g.statements().size(), got.size(), "statement count; " + context);
        for (int k = 0; k < got.size(); k++) {
            SqlStatement s = got.get(k);
            Expected e = g.statements().get(k);
            SqlStatement canonical = SqlTokenizer.split(String.join(" ", e.canonical())).get(0);
            assertEquals(canonical.words(), s.words(), "words of statement " + k + "; " + context);
            assertEquals(canonical.kind(), s.kind(), "kind of statement " + k + "; " + context);
            assertEquals(e.line(), s.line(), "line of statement " + k + "; " + context);
            assertEquals(e.names(), names(s), "names of statement " + k + "; " + context);
        }
    }

    /** The names the concurrent engine reads from {@code s}, as one string. */
    static String names(SqlStatement s) {
        if (s.isCreateIndexConcurrently()) {
            return "create " + s.createdIndex() + " on " + parts(s.indexedTable());
        }
        if (s.isDropIndexConcurrently()) {
            return "drop " + parts(ConcurrentStatements.droppedIndex(s));
        }
        if (s.isDetachPartition()) {
            ConcurrentStatements.Detach d = ConcurrentStatements.detach(s);
            return "detach " + parts(d.partition()) + " from " + parts(d.table());
        }
        if (s.isReindexConcurrently()) {
            ConcurrentStatements.Reindex r = ConcurrentStatements.reindex(s);
            return "reindex " + r.kind() + " " + parts(r.name());
        }
        return "";
    }

    private static String parts(QualifiedName n) {
        return n == null ? "null" : "[" + n.schema() + "|" + n.name() + "]";
    }

    private static Generated generate(Random r) {
        StringBuilder text = new StringBuilder(pick(r, SEPARATORS));
        List<Expected> out = new ArrayList<>();
        int count = 1 + r.nextInt(4);
        for (int k = 0; k < count; k++) {
            List<String> tokens = new ArrayList<>();
            String names = statement(r, tokens);
            int line = 1 + (int) text.chars().filter(ch -> ch == '\n').count();
            for (int t = 0; t < tokens.size(); t++) {
                text.append(tokens.get(t));
                if (t + 1 < tokens.size()) {
                    boolean punct = isPunct(tokens.get(t)) || isPunct(tokens.get(t + 1));
                    text.append(punct && r.nextInt(3) == 0 ? "" : pick(r, SEPARATORS));
                }
            }
            text.append(r.nextBoolean() ? ";" : pick(r, SEPARATORS) + ";").append(pick(r, SEPARATORS));
            out.add(new Expected(tokens, line, names));
        }
        return new Generated(text.toString(), out);
    }

    private static boolean isPunct(String t) {
        return t.equals("(") || t.equals(")") || t.equals(".") || t.equals(",");
    }

    /** Appends one statement's tokens; returns the names the engine must read from it. */
    private static String statement(Random r, List<String> t) {
        Ident a = pick(r, IDENTS);
        Ident b = pick(r, IDENTS);
        Ident c = pick(r, IDENTS);
        boolean qualified = r.nextBoolean();
        switch (r.nextInt(6)) {
            case 0 -> {
                t.add("CREATE");
                boolean unique = r.nextBoolean();
                if (unique) {
                    t.add("unique");
                }
                t.addAll(List.of("INDEX", "concurrently"));
                if (r.nextBoolean()) {
                    t.addAll(List.of("IF", "NOT", "exists"));
                }
                t.addAll(List.of(a.written(), "ON"));
                String table = name(t, qualified, b, c);
                t.addAll(List.of("(", pick(r, IDENTS).written(), ")"));
                return "create " + a.folded() + " on " + table;
            }
            case 1 -> {
                t.addAll(List.of("DROP", "INDEX", "CONCURRENTLY"));
                if (r.nextBoolean()) {
                    t.addAll(List.of("IF", "EXISTS"));
                }
                return "drop " + name(t, qualified, a, b);
            }
            case 2 -> {
                t.addAll(List.of("ALTER", "TABLE"));
                if (r.nextBoolean()) {
                    t.addAll(List.of("IF", "EXISTS"));
                }
                String table = name(t, qualified, a, b);
                t.addAll(List.of("DETACH", "PARTITION"));
                String partition = name(t, r.nextBoolean(), c, a);
                t.add(r.nextBoolean() ? "CONCURRENTLY" : "FINALIZE");
                return "detach " + partition + " from " + table;
            }
            case 3 -> {
                t.add("REINDEX");
                if (r.nextBoolean()) {
                    t.addAll(List.of("(", "VERBOSE", ")"));
                }
                String kind = r.nextBoolean() ? "INDEX" : "TABLE";
                t.addAll(List.of(kind, "CONCURRENTLY"));
                return "reindex " + kind + " " + name(t, qualified, a, b);
            }
            case 4 -> {
                // strings that hold what would end or start something elsewhere
                t.addAll(List.of("SELECT", "'a;b -- c'", ",", "E'x\\';y'", ",", "$$ ; DROP INDEX CONCURRENTLY x $$", ",", "$f$;$$;$f$", ",",
                        "U&'d\\0061t;'"));
                return "";
            }
            default -> {
                t.addAll(List.of("INSERT", "INTO"));
                name(t, qualified, a, b);
                t.addAll(List.of("VALUES", "(", "'CREATE INDEX CONCURRENTLY i ON t (c);'", ")"));
                return "";
            }
        }
    }

    /** Appends a name, qualified or not; returns it as the engine must read it. */
    private static String name(List<String> t, boolean qualified, Ident schema, Ident name) {
        if (qualified) {
            t.addAll(List.of(schema.written(), ".", name.written()));
            return "[" + schema.folded() + "|" + name.folded() + "]";
        }
        t.add(name.written());
        return "[null|" + name.folded() + "]";
    }

    private static <T> T pick(Random r, List<T> from) {
        return from.get(r.nextInt(from.size()));
    }
}
