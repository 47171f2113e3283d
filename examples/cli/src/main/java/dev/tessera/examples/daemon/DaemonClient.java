package dev.tessera.examples.daemon;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The launcher's client of {@link DaemonServer}: sends the command line, copies what the command prints to this
 * process's standard output and error as it comes, and exits with the command's status. It loads nothing else, so
 * its own JVM starts in a tenth of a second. Exit status {@link #UNAVAILABLE} says that no process took the command
 * (none listening, or it stopped before starting it): the launcher then starts one, or runs the command itself;
 * {@link #BUSY} that the process is running another command: the launcher runs this one in its own JVM. The client
 * ends (and so cancels its command) when the launcher that started it is gone.
 */
public final class DaemonClient {
    /** No background process took the command (sysexits' EX_TEMPFAIL); the command did not start. */
    public static final int UNAVAILABLE = 75;

    /** The process is busy with another command; this one did not start (run it in its own JVM). */
    public static final int BUSY = 76;

    /** How long a client waits for a process that is running another command. */
    static final double BUSY_SECONDS = 2;

    private DaemonClient() {}

    /**
     * {@code DaemonClient SOCKET WAIT_SECONDS PID ARGS...}: waits up to WAIT_SECONDS for the process PID (0: none
     * given) that is starting to listen, and stops waiting if that process ends.
     */
    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: DaemonClient SOCKET WAIT_SECONDS PID ARGS... (run by the tessera launcher)");
            System.exit(2);
        }
        List<String> command = Arrays.asList(args).subList(3, args.length);
        double wait = Double.parseDouble(args[1]);
        long pid = Long.parseLong(args[2]);
        ProcessHandle starting = pid > 0 ? ProcessHandle.of(pid).orElse(null) : null;
        boolean terminal = System.console() != null;
        watchParent();
        System.exit(run(Path.of(args[0]), wait, starting, command, terminal, System.out, System.err));
    }

    static int run(
            Path socket,
            double waitSeconds,
            ProcessHandle starting,
            List<String> args,
            boolean terminal,
            PrintStream out,
            PrintStream err) {
        SocketChannel channel = connect(socket, waitSeconds, starting);
        if (channel == null) return UNAVAILABLE;
        boolean started = false;
        AtomicBoolean gaveUp = new AtomicBoolean();
        // a process busy with another command does not answer: give up after a while (closing the channel ends the
        // read below), and the launcher runs the command in its own JVM
        Thread waiting = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep((long) (BUSY_SECONDS * 1000));
                gaveUp.set(true);
                channel.close();
            } catch (InterruptedException | IOException e) {
                // answered in time
            }
        });
        try (channel) {
            DataOutputStream request = new DataOutputStream(Channels.newOutputStream(channel));
            Frames.writeRequest(request, terminal, out.charset(), err.charset(), args);
            DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
            while (true) {
                byte kind = in.readByte();
                switch (kind) {
                    case Frames.ACCEPTED -> {
                        waiting.interrupt();
                        try {
                            waiting.join();
                        } catch (InterruptedException e) {
                            return UNAVAILABLE;
                        }
                        if (gaveUp.get()) return BUSY;
                        request.write(Frames.GO);
                        request.flush();
                        started = true;
                    }
                    case Frames.EXIT -> {
                        out.flush();
                        err.flush();
                        return in.readInt();
                    }
                    case Frames.OUT, Frames.ERR -> {
                        byte[] b = in.readNBytes(in.readInt());
                        PrintStream to = kind == Frames.OUT ? out : err;
                        to.write(b, 0, b.length);
                        to.flush();
                    }
                    default -> throw new IOException("unknown frame " + kind);
                }
            }
        } catch (IOException e) {
            waiting.interrupt();
            if (!started) return gaveUp.get() ? BUSY : UNAVAILABLE;
            String why = e instanceof EOFException ? "it stopped" : e.getMessage();
            err.println("tessera: the background process ended before the command did (" + why + "); its log: "
                    + log(socket));
            return 1;
        }
    }

    /**
     * Ends this client when the launcher that started it is gone (killed by its PID, even with SIGKILL): the
     * connection closes and the process cancels the command, as Ctrl-C does.
     */
    private static void watchParent() {
        long parent = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
        if (parent <= 1) return;
        Thread.ofPlatform().daemon().name("tessera-client-parent").start(() -> {
            while (true) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
                long now =
                        ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
                if (now != parent) Runtime.getRuntime().halt(130);
            }
        });
    }

    /** The process's log beside its socket (the launcher writes it there). */
    static Path log(Path socket) {
        String name = socket.getFileName().toString();
        return socket.resolveSibling(name.replaceFirst("\\.sock$", "") + ".log");
    }

    /** A connection, trying for up to {@code waitSeconds} while {@code starting} lives; null when nothing listens. */
    private static SocketChannel connect(Path socket, double waitSeconds, ProcessHandle starting) {
        long deadline = System.nanoTime() + (long) (waitSeconds * 1e9);
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(socket);
        while (true) {
            try {
                SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    ch.connect(address);
                    return ch;
                } catch (IOException e) {
                    ch.close();
                }
            } catch (IOException e) {
                return null;
            }
            if (System.nanoTime() >= deadline || (starting != null && !starting.isAlive())) return null;
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return null;
            }
        }
    }
}
