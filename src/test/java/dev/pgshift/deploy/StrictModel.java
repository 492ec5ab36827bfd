package dev.pgshift.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses rendered manifests into the fabric8 Kubernetes API types, strictly: fabric8 keeps unknown fields in
 * additionalProperties instead of failing, so every level is walked and each such map must be empty. A misspelled
 * field then fails the build.
 */
final class StrictModel {
    private static final ObjectMapper YAML = new YAMLMapper();
    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of("Job", Job.class, "Pod", Pod.class, "Secret", Secret.class,
            "ConfigMap", ConfigMap.class, "ServiceAccount", ServiceAccount.class, "PersistentVolumeClaim", PersistentVolumeClaim.class);

    private StrictModel() {
    }

    static List<HasMetadata> parse(String yaml) throws Exception {
        List<HasMetadata> out = new ArrayList<>();
        try (var parser = new YAMLFactory().createParser(yaml)) {
            var it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc == null || doc.isNull() || doc.isEmpty()) {
                    continue;
                }
                String kind = doc.path("kind").asText();
                Class<? extends HasMetadata> type = KINDS.get(kind);
                if (type == null) {
                    throw new AssertionError("unexpected kind " + kind + " in\n" + doc);
                }
                HasMetadata o = YAML.treeToValue(doc, type);
                List<String> unknown = new ArrayList<>();
                walk(o, kind + "/" + o.getMetadata().getName(), unknown, new IdentityHashMap<>());
                assertEquals(List.of(), unknown, "fields the Kubernetes API does not know");
                out.add(o);
            }
        }
        return out;
    }

    private static void walk(Object o, String path, List<String> unknown, IdentityHashMap<Object, Boolean> seen) throws Exception {
        if (o == null || seen.put(o, true) != null) {
            return;
        }
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                walk(e, path + "[" + i++ + "]", unknown, seen);
            }
            return;
        }
        if (o instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                walk(e.getValue(), path + "." + e.getKey(), unknown, seen);
            }
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method m : o.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || m.getDeclaringClass() == Object.class) {
                continue;
            }
            if (m.getName().equals("getAdditionalProperties")) {
                Map<?, ?> extra = (Map<?, ?>) m.invoke(o);
                if (extra != null && !extra.isEmpty()) {
                    unknown.add(path + ": " + extra.keySet());
                }
            } else if (m.getName().startsWith("get") && !m.getName().equals("getClass")) {
                walk(m.invoke(o), path + "." + m.getName().substring(3), unknown, seen);
            }
        }
    }
}
