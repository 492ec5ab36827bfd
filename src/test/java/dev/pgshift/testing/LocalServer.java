package dev.pgshift.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;

/**
 * A throwaway PostgreSQL for the benchmarks in bench/: starts one (role and database "bench", password "bench"),
 * writes its port to the file named by the first argument, and stops it when standard input closes. A second argument
 * names a directory the server archives its WAL into (archive_mode on, archive_command cp).
 */
public final class LocalServer {

    public static void main(String[] args) throws Exception {
        PgServer server = PgServer.start(0, null, args.length > 1 ? java.util.Map.of("archive_mode", "on") : java.util.Map.of());
        try {
            try (Connection c = server.admin("postgres"); Statement st = c.createStatement()) {
                st.execute("create role bench login superuser password 'bench'");
                st.execute("create database bench owner bench");
                if (args.length > 1) { // set here: a command with spaces cannot go on pg_ctl's command line
                    st.execute("alter system set archive_command = 'test ! -f " + args[1] + "/%f && cp %p " + args[1] + "/%f'");
                    st.execute("select pg_reload_conf()");
                }
            }
            Files.writeString(Path.of(args[0]), String.valueOf(server.port()));
            while (System.in.read() >= 0) {
                // wait for the benchmark to close our standard input
            }
        } finally {
            server.stop();
        }
        System.exit(0);
    }
}
