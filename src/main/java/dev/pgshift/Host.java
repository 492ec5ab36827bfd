package dev.pgshift;

/** Where pgshift runs, as its reports name it. */
public final class Host {
    private Host() {
    }

    /** The pod's name in Kubernetes (which sets HOSTNAME to it), else the machine's host name; null when none is known. */
    public static String name() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/etc/hostname")).strip();
        } catch (java.io.IOException e) {
            try {
                return java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException u) {
                return null;
            }
        }
    }
}
