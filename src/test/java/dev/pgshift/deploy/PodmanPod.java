package dev.pgshift.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns a rendered pod spec into {@code podman run} arguments, mechanically and strictly: every field of the spec is
 * either mapped or known to concern only the scheduler, and any other field fails the test, so a pod setting the chart
 * adds later cannot be silently left out of the container run.
 *
 * <p>What podman cannot be handed as it is, and how the kubelet's behaviour is reproduced instead:
 * <ul>
 * <li>Secret and ConfigMap volumes: {@code podman kube play} (4.3) crashes on Secret volumes or mounts the wrong
 * content, so each volume's items are written to a host directory as the kubelet writes them (owner root, group
 * fsGroup, the item's mode or defaultMode plus group read) and bind-mounted read-only. The content comes from the
 * rendered chart's own Secret and ConfigMap objects or, for objects made outside the chart (an existing Secret), from
 * the test.</li>
 * <li>emptyDir: a host directory of mode 2777 and group fsGroup; a PersistentVolumeClaim: one of mode 2775, group
 * fsGroup (the kubelet's fsGroup ownership change on a fresh volume).</li>
 * <li>terminationMessagePath: a host file of mode 0666 mounted at that path, as the kubelet does.</li>
 * <li>The Service address: the test renders the chart with database.host=localhost and runs the pod on the host's
 * network, where PostgreSQL listens.</li>
 * </ul>
 * Scheduling fields (nodeSelector, tolerations, affinity, resource requests) and imagePullSecrets have no meaning here.
 */
final class PodmanPod {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> POD_FIELDS = Set.of("serviceAccountName", "automountServiceAccountToken", "restartPolicy",
            "securityContext", "containers", "volumes", "nodeSelector", "tolerations", "affinity", "imagePullSecrets");
    private static final Set<String> POD_SECURITY_FIELDS = Set.of("runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup", "seccompProfile");
    private static final Set<String> CONTAINER_FIELDS = Set.of("name", "image", "imagePullPolicy", "args", "env", "terminationMessagePath",
            "terminationMessagePolicy", "securityContext", "resources", "volumeMounts");
    private static final Set<String> CONTAINER_SECURITY_FIELDS = Set.of("allowPrivilegeEscalation", "readOnlyRootFilesystem", "runAsNonRoot",
            "runAsUser", "runAsGroup", "capabilities");
    private static final Set<String> VOLUME_SOURCES = Set.of("emptyDir", "persistentVolumeClaim", "secret", "configMap");

    /** Objects a pod refers to: Secret and ConfigMap data by name, and a host directory per PersistentVolumeClaim. */
    record Inputs(Map<String, Map<String, byte[]>> secrets, Map<String, Map<String, String>> configMaps, Map<String, Path> claims) {
    }

    /** The podman arguments for one run, and the host side of its volumes and termination message. */
    record Run(List<String> args, Map<String, Path> volumes, Path terminationLog) {
    }

    private PodmanPod() {
    }

    static Run of(PodSpec pod, String containerName, Inputs inputs, Path workDir) {
        try {
            checkFields(pod);
            Container c = pod.getContainers().get(0);
            PodSecurityContext psc = pod.getSecurityContext();
            SecurityContext sc = c.getSecurityContext();
            List<String> args = new ArrayList<>(List.of("run", "--name", containerName, "--network", "host", "--restart", "no"));
            if (!"Never".equals(pod.getRestartPolicy()) || Boolean.TRUE.equals(pod.getAutomountServiceAccountToken())) {
                throw new AssertionError("only restartPolicy Never without a service account token can be run here");
            }
            // Image: built locally, never pulled.
            args.addAll(List.of("--pull", "never"));
            // Identity: the container's settings win over the pod's, as in Kubernetes.
            Long uid = first(sc.getRunAsUser(), psc.getRunAsUser());
            Long gid = first(sc.getRunAsGroup(), psc.getRunAsGroup());
            boolean nonRoot = Boolean.TRUE.equals(first(sc.getRunAsNonRoot(), psc.getRunAsNonRoot()));
            if (uid == null || (nonRoot && uid == 0)) {
                throw new AssertionError("runAsNonRoot needs a numeric non-root runAsUser here, got " + uid);
            }
            args.addAll(List.of("--user", uid + (gid == null ? "" : ":" + gid)));
            Long fsGroup = psc.getFsGroup();
            if (fsGroup != null) {
                args.addAll(List.of("--group-add", String.valueOf(fsGroup)));
            }
            if (psc.getSeccompProfile() != null && !"RuntimeDefault".equals(psc.getSeccompProfile().getType())) {
                throw new AssertionError("seccomp " + psc.getSeccompProfile().getType() + ": only RuntimeDefault (podman's default profile) is mapped");
            }
            if (Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) {
                args.addAll(List.of("--security-opt", "no-new-privileges"));
            }
            if (Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem())) {
                // podman would add tmpfs on /tmp, /var/tmp and /run: Kubernetes does not.
                args.addAll(List.of("--read-only", "--read-only-tmpfs=false"));
            }
            if (sc.getCapabilities() != null) {
                for (String cap : sc.getCapabilities().getDrop()) {
                    args.addAll(List.of("--cap-drop", cap));
                }
                for (String cap : sc.getCapabilities().getAdd()) {
                    args.addAll(List.of("--cap-add", cap));
                }
            }
            if (c.getResources() != null && c.getResources().getLimits() != null) {
                for (Map.Entry<String, Quantity> limit : c.getResources().getLimits().entrySet()) {
                    switch (limit.getKey()) {
                        case "memory" -> args.addAll(List.of("--memory", Quantity.getAmountInBytes(limit.getValue()).toBigInteger().toString()));
                        case "cpu" -> args.addAll(List.of("--cpus", Quantity.getAmountInBytes(limit.getValue()).toPlainString()));
                        default -> throw new AssertionError("resource limit " + limit.getKey() + " is not mapped");
                    }
                }
            }
            args.addAll(List.of("--env-file", envFile(c.getEnv(), inputs, workDir).toString()));

            Map<String, Path> volumes = new LinkedHashMap<>();
            for (Volume v : pod.getVolumes()) {
                volumes.put(v.getName(), volume(v, fsGroup, inputs, workDir.resolve("volumes").resolve(v.getName())));
            }
            for (VolumeMount m : c.getVolumeMounts()) {
                Path host = volumes.get(m.getName());
                if (host == null) {
                    throw new AssertionError("volumeMount " + m.getName() + " names no volume");
                }
                args.addAll(List.of("-v", host + ":" + m.getMountPath() + (Boolean.TRUE.equals(m.getReadOnly()) ? ":ro" : ":rw")));
            }
            Path terminationLog = workDir.resolve("termination-log");
            Files.writeString(terminationLog, "");
            Files.setPosixFilePermissions(terminationLog, perms(0666));
            args.addAll(List.of("-v", terminationLog + ":" + c.getTerminationMessagePath() + ":rw"));

            args.add(c.getImage());
            args.addAll(c.getArgs());
            return new Run(List.copyOf(args), volumes, terminationLog);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void checkFields(PodSpec pod) {
        JsonNode p = JSON.valueToTree(pod);
        only(p, POD_FIELDS, "pod");
        only(p.path("securityContext"), POD_SECURITY_FIELDS, "pod securityContext");
        if (pod.getContainers().size() != 1 || !pod.getInitContainers().isEmpty()) {
            throw new AssertionError("one container, no init containers, is what can be run here");
        }
        JsonNode c = p.path("containers").get(0);
        only(c, CONTAINER_FIELDS, "container");
        only(c.path("securityContext"), CONTAINER_SECURITY_FIELDS, "container securityContext");
        for (JsonNode v : p.path("volumes")) {
            Set<String> sources = new java.util.TreeSet<>(fieldNames(v));
            sources.remove("name");
            if (sources.size() != 1 || !VOLUME_SOURCES.containsAll(sources)) {
                throw new AssertionError("volume " + v.path("name").asText() + ": " + sources + " is not mapped (" + VOLUME_SOURCES + ")");
            }
        }
        for (JsonNode m : c.path("volumeMounts")) {
            only(m, Set.of("name", "mountPath", "readOnly"), "volumeMount");
        }
        for (JsonNode e : c.path("env")) {
            only(e, Set.of("name", "value", "valueFrom"), "env");
            only(e.path("valueFrom"), Set.of("secretKeyRef"), "env valueFrom");
        }
    }

    private static void only(JsonNode node, Set<String> known, String where) {
        for (String f : fieldNames(node)) {
            if (!known.contains(f)) {
                throw new AssertionError(where + " field " + f + " is not mapped to podman: map it in PodmanPod, or run the pod otherwise");
            }
        }
    }

    /** Fields that are set: fabric8 serializes unset lists and maps as empty ones. */
    private static List<String> fieldNames(JsonNode node) {
        List<String> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (!v.isNull() && !((v.isArray() || v.isObject()) && v.isEmpty() && !e.getKey().equals("emptyDir"))) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    // Values only: the password is a mounted file, and the env file is not in podman's arguments anyway.
    private static Path envFile(List<EnvVar> env, Inputs inputs, Path workDir) throws IOException {
        // The kubelet gives every container the API server's Service address; pgshift writes its termination message
        // by default only where it finds it.
        StringBuilder sb = new StringBuilder("KUBERNETES_SERVICE_HOST=10.96.0.1\nKUBERNETES_SERVICE_PORT=443\n");
        for (EnvVar e : env) {
            String value = e.getValue();
            if (e.getValueFrom() != null) {
                var ref = e.getValueFrom().getSecretKeyRef();
                byte[] bytes = secret(inputs, ref.getName()).get(ref.getKey());
                if (bytes == null) {
                    throw new AssertionError("Secret " + ref.getName() + " has no key " + ref.getKey());
                }
                value = new String(bytes, StandardCharsets.UTF_8);
            }
            if (value == null) {
                value = "";
            }
            if (value.contains("\n")) {
                throw new AssertionError("env " + e.getName() + " holds a newline, which an env file cannot carry");
            }
            sb.append(e.getName()).append('=').append(value).append('\n');
        }
        Path f = workDir.resolve("env");
        Files.writeString(f, sb.toString());
        Files.setPosixFilePermissions(f, perms(0600));
        return f;
    }

    private static Map<String, byte[]> secret(Inputs inputs, String name) {
        Map<String, byte[]> data = inputs.secrets().get(name);
        if (data == null) {
            throw new AssertionError("the pod uses Secret " + name + ", which neither the chart nor the test provides");
        }
        return data;
    }

    private static Path volume(Volume v, Long fsGroup, Inputs inputs, Path dir) throws IOException {
        Files.createDirectories(dir);
        if (v.getEmptyDir() != null) {
            if (v.getEmptyDir().getMedium() != null && !v.getEmptyDir().getMedium().isEmpty()) {
                throw new AssertionError("emptyDir medium " + v.getEmptyDir().getMedium() + " is not mapped");
            }
            own(dir, fsGroup, 0777 | 02000);
        } else if (v.getPersistentVolumeClaim() != null) {
            Path claim = inputs.claims().get(v.getPersistentVolumeClaim().getClaimName());
            if (claim == null) {
                throw new AssertionError("the pod uses PersistentVolumeClaim " + v.getPersistentVolumeClaim().getClaimName() + ", which the test does not provide");
            }
            own(claim, fsGroup, 0775 | 02000);
            return claim;
        } else if (v.getSecret() != null) {
            Map<String, byte[]> data = secret(inputs, v.getSecret().getSecretName());
            write(dir, data, v.getSecret().getItems(), v.getSecret().getDefaultMode(), fsGroup);
        } else {
            Map<String, String> cm = inputs.configMaps().get(v.getConfigMap().getName());
            if (cm == null) {
                throw new AssertionError("the pod uses ConfigMap " + v.getConfigMap().getName() + ", which neither the chart nor the test provides");
            }
            Map<String, byte[]> data = new TreeMap<>();
            cm.forEach((k, s) -> data.put(k, s.getBytes(StandardCharsets.UTF_8)));
            write(dir, data, v.getConfigMap().getItems(), v.getConfigMap().getDefaultMode(), fsGroup);
        }
        return dir;
    }

    // The kubelet's atomic writer: the items (or every key), each file at defaultMode (0644 unless given), with fsGroup
    // the group and group read added.
    private static void write(Path dir, Map<String, byte[]> data, List<KeyToPath> items, Integer defaultMode, Long fsGroup) throws IOException {
        Map<String, KeyToPath> files = new LinkedHashMap<>();
        if (items == null || items.isEmpty()) {
            data.keySet().forEach(k -> files.put(k, new KeyToPath(k, null, k)));
        } else {
            items.forEach(i -> files.put(i.getKey(), i));
        }
        for (KeyToPath item : files.values()) {
            byte[] bytes = data.get(item.getKey());
            if (bytes == null) {
                throw new AssertionError("no key " + item.getKey() + " for volume item " + item.getPath());
            }
            Path f = dir.resolve(item.getPath());
            Files.createDirectories(f.getParent());
            own(f.getParent(), fsGroup, 0755);
            Files.write(f, bytes);
            int mode = item.getMode() != null ? item.getMode() : defaultMode != null ? defaultMode : 0644;
            own(f, fsGroup, fsGroup == null ? mode : mode | 0440);
        }
        own(dir, fsGroup, 0755);
    }

    private static void own(Path p, Long group, int mode) throws IOException {
        if (group != null) {
            GroupPrincipal g = p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(String.valueOf(group));
            Files.getFileAttributeView(p, PosixFileAttributeView.class).setGroup(g);
        }
        Files.setPosixFilePermissions(p, perms(mode));
        if ((mode & 02000) != 0) {
            // java.nio cannot set the setgid bit (new files then take the directory's group, as the kubelet arranges).
            Process chmod = new ProcessBuilder("chmod", "g+s", p.toString()).inheritIO().start();
            try {
                if (chmod.waitFor() != 0) {
                    throw new IOException("chmod g+s " + p + " failed");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
    }

    static Set<PosixFilePermission> perms(int mode) {
        Set<PosixFilePermission> s = java.util.EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(order[i]);
            }
        }
        return s;
    }

    private static <T> T first(T a, T b) {
        return a != null ? a : b;
    }
}
