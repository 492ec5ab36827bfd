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
                "-- ünïcödé\nSELECT 'ß';\n\n\n", "a\rb\nc\r\n", "COPY t FROM stdin;\n1\tx\n\\.\n",
                "SELECT 1;\n\uFEFFSELECT 2;\n" /* two files with byte order marks, concatenated: Flyway drops the first line's only */)) {
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

    @Test
    void prismasChecksumIsAcceptedPaddedOrNotAndWithEitherLineEnd() throws Exception {
        String lf = "-- CreateTable\nCREATE TABLE \"A\" (\"id\" INT);\n";
        byte[] hash = java.security.MessageDigest.getInstance("SHA-256").digest(lf.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        StringBuilder unpadded = new StringBuilder();
        for (byte b : hash) {
            unpadded.append(Integer.toHexString(b & 0xff));
        }
        String padded = java.util.HexFormat.of().formatHex(hash);
        org.junit.jupiter.api.Assertions.assertTrue(PrismaAdoption.checksumMatches(lf, padded));
        org.junit.jupiter.api.Assertions.assertTrue(PrismaAdoption.checksumMatches(lf, unpadded.toString()));
        org.junit.jupiter.api.Assertions.assertTrue(PrismaAdoption.checksumMatches(lf.replace("\n", "\r\n"), padded), "CRLF checkout of an LF file");
        org.junit.jupiter.api.Assertions.assertFalse(PrismaAdoption.checksumMatches(lf + "-- edited\n", padded));
    }
}
