package dev.pgshift.source;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pgshift.source.SqlStatement.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqlTokenizerTest {

    /** A statement shown in a message cannot carry a terminal escape or a line break into the log. */
    @Test
    void excerptsEscapeControlCharacters() {
        SqlStatement s = SqlTokenizer.split("CREATE TABLE \"a\u001b[2Jb\" (c int);").get(0);
        assertEquals("CREATE TABLE \"a\\x1b[2Jb\" (c int)", s.excerpt(80));
    }

    /** A large text read statement by statement gives what a text kept whole gives. */
    @Test
    void aLargeTextReadOneStatementAtATimeGivesTheSameStatements() {
        StringBuilder sb = new StringBuilder("SET lock_timeout = '1s';\n");
        for (int i = 0; sb.length() <= Statements.KEPT_UP_TO; i++) {
            sb.append("INSERT INTO t VALUES (").append(i).append(", 'x;y', $$a;b$$); -- c;\n");
        }
        sb.append("COPY t FROM stdin;\n1\tx\n\\.\nCREATE INDEX CONCURRENTLY i ON t (c);\n");
        String sql = sb.toString();
        List<SqlStatement> whole = SqlTokenizer.split(sql);
        List<SqlStatement> streamed = new java.util.ArrayList<>();
        Statements.of(sql).forEach(streamed::add);
        assertEquals(whole.size(), streamed.size());
        for (int k = 0; k < whole.size(); k++) {
            assertEquals(whole.get(k).text(), streamed.get(k).text());
            assertEquals(whole.get(k).line(), streamed.get(k).line());
            assertEquals(whole.get(k).copyData(), streamed.get(k).copyData());
        }
        assertEquals(whole.size() - 3, Statements.of(sql).stream().skip(1).filter(st -> st.startsWith("INSERT")).count());
        assertEquals("CREATE", Statements.of(sql).after(whole.size() - 1).next().words().get(0));
    }

    private static List<Kind> kinds(String sql) {
        return SqlTokenizer.split(sql).stream().map(SqlStatement::kind).toList();
    }

    @Test
    void recognisesWhatPostgresRefusesInATransactionBlock() {
        assertEquals(Kind.NON_TRANSACTIONAL, kinds("CREATE INDEX CONCURRENTLY i ON t(c)").get(0));
        assertEquals(Kind.NON_TRANSACTIONAL, kinds("create unique index concurrently if not exists i on t(c)").get(0));
        assertEquals(Kind.NON_TRANSACTIONAL, kinds("DROP INDEX CONCURRENTLY IF EXISTS i").get(0));
        assertEquals(Kind.NON_TRANSACTIONAL, kinds("REINDEX INDEX CONCURRENTLY i").get(0));
        assertEquals(Kind.NON_TRANSACTIONAL, kinds("REINDEX (VERBOSE) TABLE CONCURRENTLY t").get(0));
        assertEquals(Kind.NON_TRANSACTIONAL, kinds("ALTER TABLE m DETACH PARTITION m_2023 CONCURRENTLY").get(0));
        assertEquals(Kind.TRANSACTIONAL, kinds("ALTER TABLE m DETACH PARTITION m_2023 FINALIZE").get(0), "the server takes it in a transaction block");
        assertEquals(Kind.NON_TRANSACTIONAL, kinds("VACUUM (ANALYZE) users").get(0));
        assertEquals(Kind.NON_TRANSACTIONAL, kinds("CREATE DATABASE x").get(0));
        assertEquals(Kind.NON_TRANSACTIONAL, kinds("ALTER SYSTEM SET work_mem = '8MB'").get(0));
        assertEquals(Kind.TRANSACTIONAL, kinds("REINDEX INDEX i").get(0));
        assertEquals(Kind.TRANSACTIONAL, kinds("CREATE INDEX i ON t(c)").get(0));
        assertEquals(Kind.TRANSACTIONAL, kinds("ALTER TABLE m DETACH PARTITION m_2023").get(0));
        assertEquals(Kind.NEUTRAL, kinds("SET lock_timeout = '5s'").get(0));
    }

    @Test
    void concurrentlyInCommentsStringsAndBodiesIsNoKeyword() {
        String sql = """
                -- CREATE INDEX CONCURRENTLY in a line comment;
                /* outer /* nested; CREATE INDEX CONCURRENTLY */ still comment; */
                CREATE TABLE t (c text DEFAULT 'CREATE INDEX CONCURRENTLY x; y');
                CREATE TABLE "CONCURRENTLY;" (c int);
                CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$
                BEGIN
                  EXECUTE 'CREATE INDEX CONCURRENTLY i ON t(c)'; -- inside the body
                END $body$;
                CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC
                  SELECT 1;
                  SELECT CASE WHEN true THEN 2 END;
                END;
                INSERT INTO t VALUES (E'it\\'s; CONCURRENTLY');
                """;
        List<SqlStatement> st = SqlTokenizer.split(sql);
        assertEquals(5, st.size(), st.toString());
        st.forEach(s -> assertEquals(Kind.TRANSACTIONAL, s.kind(), s.text()));
        assertEquals(3, st.get(0).line());
        assertEquals(4, st.get(1).line());
        assertEquals(5, st.get(2).line());
        assertEquals(9, st.get(3).line());
        assertEquals(13, st.get(4).line());
    }

    @Test
    void splitsAndNumbersLinesOfAConcurrentFile() {
        List<SqlStatement> st = SqlTokenizer.split("SET lock_timeout = '2s';\n\n-- build\nCREATE INDEX CONCURRENTLY a ON t(x);\nCREATE INDEX CONCURRENTLY b ON t(y)");
        assertEquals(List.of(Kind.NEUTRAL, Kind.NON_TRANSACTIONAL, Kind.NON_TRANSACTIONAL), st.stream().map(SqlStatement::kind).toList());
        assertEquals(List.of(1, 4, 5), st.stream().map(SqlStatement::line).toList());
        assertEquals("CREATE INDEX CONCURRENTLY b ON t(y)", st.get(2).text());
    }

    @Test
    void positionalParametersAreNoDollarQuotes() {
        List<SqlStatement> st = SqlTokenizer.split("PREPARE p AS SELECT $1; CREATE INDEX CONCURRENTLY i ON t(c);");
        assertEquals(2, st.size());
        assertEquals(Kind.NON_TRANSACTIONAL, st.get(1).kind());
    }

    @Test
    void namesTheIndexAndTableAStatementWorksOn() {
        SqlStatement named = SqlTokenizer.split("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"Users_Email\" ON public.users (email)").get(0);
        assertEquals("Users_Email", named.createdIndex());
        assertEquals(false, named.isUnnamedConcurrentIndex());
        assertEquals("idx_a", SqlTokenizer.split("create index idx_A on t (a)").get(0).createdIndex());
        SqlStatement unnamed = SqlTokenizer.split("CREATE INDEX CONCURRENTLY ON t (a)").get(0);
        assertEquals(null, unnamed.createdIndex());
        assertEquals(true, unnamed.isUnnamedConcurrentIndex());
        assertEquals(new QualifiedName("app", "m"), SqlTokenizer.split("ALTER TABLE IF EXISTS ONLY app.m DETACH PARTITION m_1 CONCURRENTLY").get(0)
                .alteredTable());
        assertEquals(null, SqlTokenizer.split("DROP TABLE t").get(0).alteredTable());
    }

    @Test
    void aByteOrderMarkIsSkippedAsPsqlSkipsIt() {
        List<SqlStatement> st = SqlTokenizer.split("\uFEFFCREATE TABLE bom (id int);\r\nSELECT 1;");
        assertEquals(2, st.size());
        assertEquals("CREATE TABLE bom (id int)", st.get(0).text());
        assertEquals(2, st.get(1).line());
    }

    /** Names as PostgreSQL reads them: schema kept, quoted kept, unquoted folded (ASCII only, as in a UTF8 database). */
    @Test
    void namesAreReadAsPostgresReadsThem() {
        SqlStatement s = SqlTokenizer.split("CREATE INDEX CONCURRENTLY \"Idx\" ON \"Mixed Case\" . /* x */ \"T x\" (a)").get(0);
        assertEquals(new QualifiedName("Mixed Case", "T x"), s.indexedTable());
        assertEquals("Idx", s.createdIndex());
        assertEquals(new QualifiedName("audit", "events"), SqlTokenizer.split("CREATE INDEX i ON AUDIT.Events (a)").get(0).indexedTable());
        assertEquals(new QualifiedName("s", "t"), SqlTokenizer.split("ALTER TABLE db.s.t ADD COLUMN c int").get(0).alteredTable(),
                "a database-qualified name: schema and name");
        assertEquals(new QualifiedName(null, "größe"), SqlTokenizer.split("ALTER TABLE Größe ADD x int").get(0).alteredTable());
        assertEquals(new QualifiedName(null, "Äbc"), SqlTokenizer.split("ALTER TABLE ÄBC ADD x int").get(0).alteredTable(),
                "only ASCII letters fold");
        assertEquals(new QualifiedName(null, "dat"), SqlTokenizer.split("ALTER TABLE U&\"d\\0061t\" ADD x int").get(0).alteredTable());
        assertEquals(null, SqlTokenizer.split("ALTER TABLE 'x' ADD y int").get(0).alteredTable(), "a literal is no name");
    }

    @Test
    void namesAreTruncatedTo63BytesAtACharacterBoundary() {
        String ascii64 = "a".repeat(64);
        assertEquals("a".repeat(63), QualifiedName.truncate(ascii64));
        assertEquals("a".repeat(63), QualifiedName.truncate("a".repeat(63)));
        String multibyte = "ä".repeat(35); // 70 bytes
        assertEquals("ä".repeat(31), QualifiedName.truncate(multibyte), "31 two-byte characters: 62 bytes, never half of one");
        assertEquals("x" + "ä".repeat(31), QualifiedName.truncate("x" + multibyte));
        assertEquals(true, new QualifiedName("s", ascii64).isTruncated());
        assertEquals("s." + "a".repeat(63), new QualifiedName("s", ascii64).toString());
        assertEquals("\"Mixed Case\".\"T\\x0ax\"", new QualifiedName("Mixed Case", "T\nx").toString(), "control characters escaped");
        assertEquals(List.of(ascii64), SqlTokenizer.split("CREATE INDEX " + ascii64 + " ON t (a)").get(0).truncatedNames());
    }
}
