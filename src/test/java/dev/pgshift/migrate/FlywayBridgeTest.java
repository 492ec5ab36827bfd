package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.Reader;
import java.io.StringReader;
import java.util.List;
import org.flywaydb.core.api.resource.LoadableResource;
import org.flywaydb.core.internal.resolver.ChecksumCalculator;
import org.junit.jupiter.api.Test;

/**
 * pgshift records the checksum Flyway itself would record for a SQL file, so histories written by Flyway, by earlier
 * pgshift releases and by this one stay interchangeable. Flyway's rule lives in an internal class; this test fails when
 * a Flyway upgrade changes it.
 */
class FlywayBridgeTest {

    @Test
    void theChecksumIsFlywaysOwnForEveryKindOfFile() {
        for (String content : List.of("", "CREATE TABLE t (id int);\n", "CREATE TABLE t (id int);", "\uFEFFSELECT 1;\r\nSELECT 2;\r\n",
                "-- ünïcödé\nSELECT 'ß';\n\n\n", "a\rb\nc\r\n", "COPY t FROM stdin;\n1\tx\n\\.\n")) {
            assertEquals(ChecksumCalculator.calculate(resource(content)), FlywayBridge.checksum(content), content);
        }
    }

    private static LoadableResource resource(String content) {
        return new LoadableResource() {
            @Override
            public Reader read() {
                return new StringReader(content);
            }

            @Override
            public String getAbsolutePath() {
                return "V1__x.sql";
            }

            @Override
            public String getAbsolutePathOnDisk() {
                return "V1__x.sql";
            }

            @Override
            public String getFilename() {
                return "V1__x.sql";
            }

            @Override
            public String getRelativePath() {
                return "V1__x.sql";
            }
        };
    }
}
