package dev.pgshift.db;

import io.quarkus.runtime.annotations.RegisterForReflection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.SocketFactory;
import jdk.net.ExtendedSocketOptions;

/**
 * pgjdbc's sockets (named to pgjdbc by class: socketFactory) with TCP keepalive probes after 30 s of silence, every 10 s,
 * 3 unanswered meaning the peer is gone: a partitioned network or a vanished server is noticed within about a minute
 * while pgshift waits on a statement, not after the operating system's two hours. A long, healthy statement is never
 * cut: the server's kernel answers the probes while it runs. A proxy that stops forwarding answers them too: that case
 * is {@link Heartbeat}'s.
 */
@RegisterForReflection
public final class KeepaliveSocketFactory extends SocketFactory {
    static final int IDLE_SECONDS = 30;
    static final int INTERVAL_SECONDS = 10;
    static final int COUNT = 3;

    public KeepaliveSocketFactory() {
    }

    @Override
    public Socket createSocket() throws IOException {
        return configure(new Socket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return configure(new Socket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return configure(new Socket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return configure(new Socket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return configure(new Socket(address, port, localAddress, localPort));
    }

    private static Socket configure(Socket s) throws IOException {
        s.setKeepAlive(true);
        try {
            s.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, IDLE_SECONDS);
            s.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, INTERVAL_SECONDS);
            s.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, COUNT);
        } catch (UnsupportedOperationException e) {
            // a platform without per-socket keepalive times: its defaults, and the heartbeat
        }
        return s;
    }
}
