package dev.pgshift.source;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.TestDb;
import java.io.OutputStream;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/**
 * The corpus's classification proved against a real server: every statement of each @server case runs inside a
 * transaction block on a database holding the corpus's tables; PostgreSQL must refuse (SQLSTATE 25001) exactly the
 * statements pgshift runs outside a transaction, and accept every other one.
 */
class SqlCorpusIT {
    private static final String FIXTURE = """
            create table t (id int primary key, a int, b text, status text);
            create index t_a_idx on t (a);
            create table users (id int primary key, email text, daily_quota int, role text);
            create table characters (id int primary key, user_id int, style_type text, generation_status text, s text);
            create table orders (id int, status text);
            create table m (id int, k date) partition by range (k);
            create table m_2031 partition of m for values from ('2031-01-01') to ('2032-01-01');
            create table m_2032 partition of m for values from ('2032-01-01') to ('2033-01-01');
            create type mood as enum ('sad', 'ok');
            """;

    @Test
    void theServerRefusesInATransactionBlockExactlyWhatRunsOutsideOne() throws Exception {
        TestDb db = PgServer.get().newDatabase("corpus");
        List<String> failures = new ArrayList<>();
        int proved = 0;
        try (Connection c = PgServer.get().admin(db.name())) {
            try (Statement st = c.createStatement()) {
                st.execute(FIXTURE);
            }
            int major = c.getMetaData().getDatabaseMajorVersion();
            c.setAutoCommit(false);
            for (SqlCorpus k : SqlCorpus.cases()) {
                if (k.serverFrom() == 0 || major < k.serverFrom()) {
                    continue;
                }
                for (SqlStatement s : SqlTokenizer.split(k.sql())) {
                    if (s.kind() == SqlStatement.Kind.PSQL_META || s.kind() == SqlStatement.Kind.TRANSACTION_CONTROL) {
                        continue;
                    }
                    boolean outside = s.kind() == SqlStatement.Kind.NON_TRANSACTIONAL;
                    try (Statement st = c.createStatement()) {
                        if (outside) {
                            st.execute("savepoint corpus");
                        }
                        run(c, st, s);
                        if (outside) {
                            failures.add(k.name() + ", line " + s.line() + ": the server accepted it in a transaction block");
                        }
                        proved++;
                    } catch (SQLException e) {
                        if (outside && "25001".equals(e.getSQLState())) {
                            proved++;
                            try (Statement st = c.createStatement()) {
                                st.execute("rollback to savepoint corpus");
                            }
                        } else {
                            failures.add(k.name() + ", line " + s.line() + " (" + SqlCorpus.kind(s.kind()) + "): " + e.getSQLState() + " "
                                    + e.getMessage().lines().findFirst().orElse(""));
                            break;
                        }
                    }
                }
                c.rollback();
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " statement(s) disagree with the server:\n" + String.join("\n", failures));
        assertTrue(proved >= 150, "statements proved: " + proved);
        System.out.println("corpus statements proved against PostgreSQL: " + proved);
    }

    private static void run(Connection c, Statement st, SqlStatement s) throws Exception {
        if (s.copyData() != null) {
            c.unwrap(PGConnection.class).getCopyAPI().copyIn(s.text(), new StringReader(s.copyData()));
        } else if (s.startsWith("COPY") && s.containsSequence("TO", "STDOUT")) {
            c.unwrap(PGConnection.class).getCopyAPI().copyOut(s.text(), OutputStream.nullOutputStream());
        } else {
            st.execute(s.text());
        }
    }
}
