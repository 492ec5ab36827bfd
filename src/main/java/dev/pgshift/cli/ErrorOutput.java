package dev.pgshift.cli;

import dev.pgshift.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * The lines pgshift itself prints on stderr when a command ends in an error: "pgshift: message" as text, or, in JSON log
 * mode (PGSHIFT_LOG_JSON=true), one JSON object per line with the fields of the log lines, so a log collector parses
 * every line of the stream.
 */
final class ErrorOutput {
    private ErrorOutput() {
    }

    /** Whether logs are JSON lines: Quarkus' setting, which PGSHIFT_LOG_JSON sets. */
    static boolean json() {
        return ConfigProvider.getConfig().getOptionalValue("quarkus.log.console.json.enabled", Boolean.class).orElse(false);
    }

    /** Prints {@code message} (and, when not null, the stack trace of {@code trace}) as one error line. */
    static void print(PrintWriter err, String message, Throwable trace) {
        if (json()) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("timestamp", OffsetDateTime.now().toString());
            line.put("loggerName", "pgshift");
            line.put("level", "ERROR");
            line.put("message", message);
            if (trace != null) {
                StringWriter sw = new StringWriter();
                trace.printStackTrace(new PrintWriter(sw));
                line.put("stackTrace", sw.toString());
            }
            try {
                err.println(Json.ONE_LINE.writeValueAsString(line));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        } else {
            err.println("pgshift: " + message);
            if (trace != null) {
                trace.printStackTrace(err);
            }
        }
        err.flush();
    }
}
