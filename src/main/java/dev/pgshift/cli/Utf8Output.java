package dev.pgshift.cli;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.logging.Handler;
import java.util.logging.Logger;
import org.jboss.logmanager.ExtHandler;
import org.jboss.logmanager.handlers.OutputStreamHandler;
import picocli.CommandLine;

/**
 * Writes stdout and stderr (the summary, plan, history, errors and logs) in UTF-8 whatever the locale. A container
 * image has no locale (POSIX), where the JVM would encode in ASCII and print a file name, a server message or the
 * summary's "…" as "?"; Kubernetes and log collectors read container output as UTF-8.
 */
final class Utf8Output {

    private Utf8Output() {
    }

    static void install(CommandLine cl) {
        cl.setOut(writer(System.out));
        cl.setErr(writer(System.err));
        for (Handler h : Logger.getLogger("").getHandlers()) {
            toUtf8(h);
        }
    }

    // System.out itself (not the file descriptor): a PrintStream passes bytes through untouched, and tests that
    // capture System.out still see the output.
    private static PrintWriter writer(PrintStream stream) {
        return new PrintWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), true);
    }

    // Quarkus puts its console handler under a delayed (and optionally an async) handler on the root logger.
    private static void toUtf8(Handler h) {
        if (h instanceof OutputStreamHandler o) {
            o.setCharset(StandardCharsets.UTF_8);
        }
        if (h instanceof ExtHandler ext) {
            for (Handler child : ext.getHandlers()) {
                toUtf8(child);
            }
        }
    }
}
