package dev.pgshift.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.config.SettingsResolver;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.TestDb;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The run's sessions in process: a session lent to Flyway (Database#lend), so Flyway works on the run's session instead
 * of opening one of its own; the stop's registry of sessions.
 */
class DatabaseLendIT {

    @Test
    void closedSessionsLeaveTheStopsRegistryAndNoWorkSessionOpensOnceStopped() throws Exception {
        TestDb tdb = PgServer.get().newDatabase("registry");
        StopSignal stop = new StopSignal();
        Database db = Database.of(new SettingsResolver(tdb.env()).resolve(Map.of(), null), stop);
        for (int i = 0; i < 30; i++) {
            db.getConnection().close();
        }
        try (Connection open = db.getConnection()) {
            assertTrue(stop.registeredSessions() <= 2, "closed sessions are dropped from the registry: " + stop.registeredSessions());
            stop.stop("SIGTERM");
            SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, db::getConnection);
            assertEquals("57014", refused.getSQLState());
            try (Connection cleanup = db.afterStop().getConnection()) {
                assertTrue(pid(cleanup) > 0, "a session to record what the run did still opens after a stop");
            }
        }
    }

    @Test
    void aLentSessionServesOneRequestAndClosingItLeavesTheSessionOpen() throws Exception {
        TestDb tdb = PgServer.get().newDatabase("lend");
        Database db = Database.of(new SettingsResolver(tdb.env()).resolve(Map.of(), null), new StopSignal());
        try (Connection session = db.getConnection()) {
            int pid = pid(session);
            db.lend(session, () -> {
                try (Connection lent = db.getConnection(); Connection second = db.getConnection()) {
                    assertEquals(pid, pid(lent), "the first session asked for in the loan is the lent one");
                    assertNotEquals(pid, pid(second), "a second one in the same loan is a session of its own");
                    lent.close();
                    assertTrue(lent.isClosed(), "closed for the borrower");
                    return null;
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertFalse(session.isClosed());
            assertEquals(pid, pid(session), "the owner's session is still open and answering");
            try (Connection after = db.getConnection()) {
                assertNotEquals(pid, pid(after), "after the loan, a new session");
            }
        }
    }

    @Test
    void flywayReadingTheHistoryOnTheRunsSessionLeavesItAsItWas() throws Exception {
        TestDb tdb = PgServer.get().newDatabase("lendstate");
        tdb.execute("create schema app");
        tdb.execute("create table app.flyway_schema_history (installed_rank int primary key, version varchar(50), description varchar(200) "
                + "not null, type varchar(20) not null, script varchar(1000) not null, checksum int, installed_by varchar(100) not null, "
                + "installed_on timestamp not null default now(), execution_time int not null, success boolean not null)");
        Database db = Database.of(new SettingsResolver(tdb.env()).resolve(Map.of(), null), new StopSignal());
        try (Connection session = db.getConnection(); Statement st = session.createStatement()) {
            st.execute("set search_path to app, public");
            String before = state(session);
            int pid = pid(session);
            new dev.pgshift.migrate.Migrator(db, java.util.List.of(), "app", new StopSignal(), java.time.Duration.ofSeconds(5), false)
                    .check(session);
            assertEquals(before, state(session), "search_path and role as before Flyway's look");
            assertEquals(pid, pid(session));
            assertTrue(session.getAutoCommit());
        }
    }

    private static String state(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "select current_setting('search_path') || ' / ' || current_user || ' / ' || session_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static int pid(Connection c) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
