package dev.pgshift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's exit-code table is the one in {@link ExitCode}, and its test command is the one CI runs. */
class ReadmeTest {

    @Test
    void exitCodeTableMatchesTheCode() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Matcher m = Pattern.compile("(?m)^\\| (\\d+) \\| ([^|]+) \\| ([^|]+) \\|$").matcher(readme);
        List<String> rows = new java.util.ArrayList<>();
        while (m.find()) {
            rows.add(m.group(1) + " " + m.group(2).trim() + " " + m.group(3).trim());
        }
        List<String> expected = ExitCode.all().stream().map(c -> c.code() + " " + c.meaning() + " "
                + c.kubernetes()).toList();
        assertEquals(expected, rows);
    }

    /** CI runs it on every major: .ci/run calls .ci/pg-majors.sh, which runs verify once and the integration tests per major. */
    @Test
    void ciRunsTheReadmesTestCommand() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        String ci = Files.readString(Path.of(".ci/run"));
        String majors = Files.readString(Path.of(".ci/pg-majors.sh"));
        assertTrue(readme.contains("./mvnw -B verify"));
        assertTrue(readme.contains(".ci/pg-majors.sh"));
        assertTrue(ci.contains(".ci/pg-majors.sh"), ci);
        assertTrue(majors.contains("./mvnw -B -ntp verify"), majors);
    }
}
