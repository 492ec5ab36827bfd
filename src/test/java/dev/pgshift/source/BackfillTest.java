package dev.pgshift.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.PgshiftException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** How a backfill file's directive is read and where its batches' key range goes in its statement (BackfillIT runs them). */
class BackfillTest {
    private static final String RANGE = "(k > 1 AND k <= 9)";

    private static Backfill read(String sql) {
        MigrationFile f = new MigrationFile("V2__b.sql", "/m", sql);
        return Backfill.of(f, Statements.of(sql));
    }

    private static String batch(String statement) {
        return read("-- pgshift:backfill\n" + statement).batchSql(RANGE);
    }

    @Test
    void theRangeJoinsTheWhereOfEachShapeAtItsOwnLevel() {
        assertEquals("UPDATE characters SET s = 'C' WHERE (k > 1 AND k <= 9) AND ( s IS NULL\n)", batch("UPDATE characters SET s = 'C' WHERE s IS NULL;"));
        assertEquals("UPDATE t SET a = 1\nWHERE (k > 1 AND k <= 9)\n", batch("UPDATE t SET a = 1;"));
        assertEquals("DELETE FROM t WHERE (k > 1 AND k <= 9) AND ( a < 0 -- old rows\n)", batch("DELETE FROM t WHERE a < 0 -- old rows\n;"));
        assertEquals("INSERT INTO b (x) SELECT s.x FROM a AS s WHERE (k > 1 AND k <= 9) AND ( s.x % 2 = 0\n) ON CONFLICT (x) DO UPDATE SET x = 1 WHERE b.x < 0",
                batch("INSERT INTO b (x) SELECT s.x FROM a AS s WHERE s.x % 2 = 0 ON CONFLICT (x) DO UPDATE SET x = 1 WHERE b.x < 0;"));
        assertEquals("INSERT INTO b SELECT * FROM a\nWHERE (k > 1 AND k <= 9)\nON CONFLICT DO NOTHING",
                batch("INSERT INTO b SELECT * FROM a ON CONFLICT DO NOTHING;"));
        assertEquals("UPDATE t SET a = (SELECT max(v) FROM u WHERE u.id = t.id) WHERE (k > 1 AND k <= 9) AND ( $$x$$ = t.b\n)",
                batch("UPDATE t SET a = (SELECT max(v) FROM u WHERE u.id = t.id) WHERE $$x$$ = t.b;"));
    }

    @Test
    void theTableAndWhatQualifiesItsColumnsAreReadAsPostgresqlReadsThem() {
        Backfill b = read("-- pgshift:backfill\nUPDATE ONLY \"Tenant Data\".\"Characters\" AS c SET s = 1;");
        assertEquals(new QualifiedName("Tenant Data", "Characters"), b.table());
        assertEquals("c", b.qualifier());
        assertEquals("\"Tenant Data\".\"Characters\"", read("-- pgshift:backfill\nUPDATE \"Tenant Data\".\"Characters\" SET s = 1;").qualifier());
        Backfill i = read("-- pgshift:backfill\nINSERT INTO b (x) SELECT x FROM App.Src s JOIN other o ON o.id = s.id;");
        assertEquals(new QualifiedName("app", "src"), i.table());
        assertEquals("s", i.qualifier());
    }

    @Test
    void theColumnsAnUpdateSetsAreReadForTheKeyCheck() {
        assertEquals(java.util.List.of("id", "Msg", "a", "b"),
                read("-- pgshift:backfill\nUPDATE t SET id = id + 1, \"Msg\" = f(x, y), (a, b) = (1, 2) FROM u WHERE t.x = u.x;").assigned());
        assertEquals(java.util.List.of(), read("-- pgshift:backfill\nDELETE FROM t WHERE a = 1;").assigned());
    }

    @Test
    void theDirectiveIsReadOnlyOnTheFirstLineWithItsOptions() {
        assertNull(read("UPDATE t SET a = 1;"));
        Backfill b = read("-- pgshift:backfill batch=5000 pause=50ms target=0 lock-timeout=1s max-lag=0\r\nUPDATE t SET a = 1;");
        assertEquals(5000, b.options().batch());
        assertEquals(Duration.ofMillis(50), b.options().pause());
        assertEquals(Duration.ZERO, b.options().target());
        assertEquals(Duration.ZERO, b.options().maxLag());
        assertEquals(10, b.options().retries());
        String[][] bad = {
            {"-- note\n-- pgshift:backfill\nUPDATE t SET a = 1;", "/m/V2__b.sql:2: '-- pgshift:backfill' counts only on the file's first line"},
            {"-- pgshift:backfill batch=1e3\nUPDATE t SET a = 1;", "/m/V2__b.sql:1: bad value '1e3' for backfill option batch"},
            {"-- pgshift:backfill batch=1 batch=2\nUPDATE t SET a = 1;", "option 'batch' is given twice"},
            {"-- pgshift:backfill pause=soon\nUPDATE t SET a = 1;", "bad duration 'soon' for /m/V2__b.sql:1: backfill option pause"},
            {"-- pgshift:backfill lock-timeout=0\nUPDATE t SET a = 1;", "lock-timeout and statement-timeout bound each batch and cannot be 0"},
            {"-- pgshift:backfill\n", "a backfill file needs its statement"},
            {"-- pgshift:backfill\nUPDATE t SET a = 1 WHERE CURRENT OF c;", "WHERE CURRENT OF works on a cursor"},
            {"-- pgshift:backfill\nINSERT INTO b SELECT 1;", "its SELECT reads no table"},
            {"-- pgshift:backfill\nINSERT INTO b SELECT x FROM (SELECT 1 AS x) s;", "names no table"},
            {"-- pgshift:backfill\nINSERT INTO b SELECT DISTINCT x FROM a;", "DISTINCT, GROUP BY"},
            {"-- pgshift:backfill\nINSERT INTO b SELECT x FROM a LIMIT 10;", "LIMIT, OFFSET"},
            {"-- pgshift:backfill\nCREATE INDEX CONCURRENTLY i ON t (a);", "a backfill's statement is an UPDATE, a DELETE or an INSERT ... SELECT"},
            {"-- pgshift:backfill\nUPDATE t SET a = 1 WHERE a IS NULL RETURNING id;", "RETURNING would hand each batch's rows to pgshift"},
            {"-- pgshift:backfill\nINSERT INTO totals (n, s) SELECT count(*), sum(amount) FROM orders;", "an aggregate (count)"},
            {"-- pgshift:backfill\nINSERT INTO r SELECT id, row_number() OVER (ORDER BY amount) FROM orders;", "a window function"},
            {"-- pgshift:backfill\nUPDATE products SET price = price * 2 WHERE price < (SELECT avg(price) FROM products);",
                "it reads products, the table it batches, again"},
            {"-- pgshift:backfill\nUPDATE app.t AS a SET v = b.v FROM app.t b WHERE b.id = a.parent;", "it reads app.t, the table it batches, again"},
            {"-- pgshift:backfill\nINSERT INTO arch WITH s AS (SELECT * FROM a) SELECT * FROM s;", "a WITH query cannot be batched"},
            {"-- pgshift: backfill batch=500\nUPDATE t SET a = 1;", "/m/V2__b.sql:1: line 1 looks like a backfill directive but is not one as written"},
            {"-- PGSHIFT:BACKFILL\nUPDATE t SET a = 1;", "line 1 looks like a backfill directive"},
            {"/* header */ -- pgshift:backfill\nUPDATE t SET a = 1;", "line 1 looks like a backfill directive"},
            {"-- pgshift:backfill,batch=500\nUPDATE t SET a = 1;", "line 1 looks like a backfill directive"},
            {"-- pgshift:backfill pause=50\nUPDATE t SET a = 1;", "backfill option pause=50 needs a unit: 50ms or 50s"},
        };
        for (String[] c : bad) {
            PgshiftException e = assertThrows(PgshiftException.class, () -> read(c[0]), c[0]);
            assertEquals(3, e.exitCode().code(), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[1] + " in " + e.getMessage());
        }
    }
}
