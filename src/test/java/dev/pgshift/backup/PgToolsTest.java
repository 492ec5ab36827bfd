package dev.pgshift.backup;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What pg_dump and pg_restore say when their connection goes away (exit 75, retried) and when something else failed (exit 4). */
class PgToolsTest {

    @Test
    void aLostOrRefusedConnectionIsToldFromOtherFailures() {
        for (String lost : new String[] {
                "pg_dump: detail: Error message from server: FATAL:  terminating connection due to administrator command",
                "pg_dump: error: connection to server at \"db\" (10.0.0.5), port 5432 failed: Connection refused",
                "pg_dump: error: connection to server at \"db\", port 5432 failed: FATAL:  sorry, too many clients already",
                "pg_dump: error: connection to server at \"db\", port 5432 failed: FATAL:  remaining connection slots are reserved for roles "
                        + "with the SUPERUSER attribute",
                "pg_dump: error: connection to server at \"db\", port 5432 failed: FATAL:  the database system is starting up",
                "pg_restore: error: could not execute query: server closed the connection unexpectedly",
                "pg_dump: error: query failed: SSL SYSCALL error: EOF detected"}) {
            assertTrue(PgTools.lostConnection(lost), lost);
        }
        for (String other : new String[] {
                "pg_dump: error: connection to server at \"db\", port 5432 failed: FATAL:  password authentication failed for user \"app\"",
                "pg_dump: error: query failed: ERROR:  permission denied for table secrets",
                "pg_dump: error: could not open output file \"/backups/x\": No space left on device",
                "pg_dump: error: aborting because of server version mismatch"}) {
            assertFalse(PgTools.lostConnection(other), other);
        }
    }

    /** The children's sessions notice a dead peer as pgshift's own do: keepalives in the connection string libpq reads. */
    @Test
    void theTargetDatabaseArgumentCarriesTheKeepalives() {
        String arg = PgTools.dbnameArgument("it's");
        assertTrue(arg.startsWith("--dbname=dbname='it\\'s' keepalives=1 keepalives_idle=30"), arg);
        assertTrue(arg.contains("tcp_user_timeout=60000"), arg);
    }
}
