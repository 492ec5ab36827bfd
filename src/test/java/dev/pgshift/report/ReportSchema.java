package dev.pgshift.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** docs/report.schema.json, for tests that check a report against the documented format. */
public final class ReportSchema {
    private static JsonSchema schema;

    private ReportSchema() {
    }

    public static synchronized void assertValid(String json) throws Exception {
        if (schema == null) {
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
                    .getSchema(Files.readString(Path.of("docs/report.schema.json")));
        }
        JsonNode node = new ObjectMapper().readTree(json);
        Set<ValidationMessage> errors = schema.validate(node);
        assertEquals(Set.of(), errors, json);
    }
}
