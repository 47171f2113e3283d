package dev.tessera.examples.daemon;

import dev.tessera.engine.io.PackedWeightCache;
import dev.tessera.examples.Main;
import dev.tessera.examples.cli.Terminal;
import dev.tessera.examples.cli.WeightCacheOption;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The background process that runs {@code tessera generate} and {@code tessera edit} for the launcher, so that a
 * command does not pay a fresh JVM's start and JIT warm-up: after a few commands the kernels run compiled, and each
 * command costs what the same generation costs in a warm process. Each command still loads its model, runs exactly as
 * in its own process (same code, same output bytes, same exit status) and releases the model when it ends; only
 * compiled code and class data stay.
 *
 * <p>One command at a time, in arrival order, on a Unix-domain socket in a folder only its user can open. The process
 * works in the directory and environment it was started with: the launcher keys the socket by both, and by the jar,
 * so a client always reaches a process that sees its paths as it would. It exits after {@code idle} without a command,
 * and when its jar changes (a rebuild). A client that disconnects (Ctrl-C) cancels its command at its next progress
 * step, before anything is written.
 */
public final class DaemonServer {
    /** Mapped packed weights kept between commands: VAR-d30's float32 weights and then some. */
    static final long KEPT_BYTES = 16L << 30;

    /** Idle time after which the heap is given back to the system (until the next command). */
    static final Duration TRIM_AFTER = Duration.ofSeconds(30);

    private final Path socket;
    private final Duration idle;
    private final Runner runner;
    private final Path codeSource;
    private final FileTime builtAt;
    /** Packed weights the commands mapped, kept for the next command (file-backed: the kernel may drop the pages). */
    private final PackedWeightCache.Mappings mappings = new PackedWeightCache.Mappings(KEPT_BYTES);

    private final HeapTrim heap = new HeapTrim();
    private volatile long lastActive = System.nanoTime();
    private volatile boolean busy;

    /** What runs a command line: {@link Main#run} in the real process. */
    interface Runner {
        int run(List<String> args, PrintStream out, PrintStream err);
    }

    DaemonServer(Path socket, Duration idle, Runner runner, Path codeSource) {
        this.socket = socket;
        this.idle = idle;
        this.runner = runner;
        this.codeSource = codeSource;
        this.builtAt = modified(codeSource);
    }

    /** {@code DaemonServer SOCKET IDLE_SECONDS}: serves until idle; the launcher starts it, its log is its output. */
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: DaemonServer SOCKET IDLE_SECONDS (started by the tessera launcher)");
            System.exit(2);
        }
        Path jar = Path.of(DaemonServer.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        Duration idle = Duration.ofMillis((long) (Double.parseDouble(args[1]) * 1000));
        System.exit(new DaemonServer(Path.of(args[0]), idle, Main::run, jar).serve());
    }

    /** Serves until idle or until the jar changes; 0 then, 3 when the socket cannot be bound. */
    int serve() throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            log("cannot listen on " + socket + ": " + e.getMessage());
            server.close();
            return 3;
        }
        log("listening on " + socket + " (pid " + ProcessHandle.current().pid() + ", idle limit " + idle + ")");
        Thread watchdog =
                Thread.ofPlatform().daemon().name("tessera-daemon-watchdog").start(() -> watch(server));
        try (server) {
            while (true) {
                SocketChannel client;
                try {
                    client = server.accept();
                } catch (ClosedChannelException e) {
                    break;
                }
                busy = true;
                heap.keep();
                try {
                    handle(client);
                } finally {
                    lastActive = System.nanoTime();
                    busy = false;
                }
            }
        } finally {
            watchdog.interrupt();
            Files.deleteIfExists(socket);
        }
        log("stopped");
        return 0;
    }

    /** Closes the server when it has been idle too long or its jar was rebuilt. */
    private void watch(ServerSocketChannel server) {
        try {
            while (server.isOpen()) {
                Thread.sleep(Math.min(1000, Math.max(10, idle.toMillis() / 4)));
                boolean rebuilt = !builtAt.equals(modified(codeSource));
                boolean idleTooLong = System.nanoTime() - lastActive > idle.toNanos();
                if (!busy && (rebuilt || idleTooLong)) {
                    log(rebuilt ? "the jar changed: stopping" : "idle for " + idle + ": stopping");
                    server.close();
                } else if (!busy && System.nanoTime() - lastActive > TRIM_AFTER.toNanos()) {
                    heap.trim();
                }
            }
        } catch (InterruptedException | IOException e) {
            // the server stopped
        }
    }

    private void handle(SocketChannel client) {
        try (client) {
            DataInputStream in = new DataInputStream(Channels.newInputStream(client));
            Frames.Request request;
            try {
                request = Frames.readRequest(in);
            } catch (IOException e) {
                log("refused a client: " + e.getMessage());
                return;
            }
            Frames.Sink sink = new Frames.Sink(Channels.newOutputStream(client));
            sink.accepted();
            Thread worker = Thread.currentThread();
            Object lock = new Object();
            boolean[] done = {false};
            // the client never writes after its request: end of stream means it went away
            Thread.ofPlatform().daemon().name("tessera-daemon-client-watch").start(() -> {
                try {
                    while (in.read() >= 0) {}
                } catch (IOException e) {
                    // closed: the same as gone
                }
                synchronized (lock) {
                    if (!done[0]) worker.interrupt();
                }
            });
            int status = run(request, sink);
            synchronized (lock) {
                done[0] = true;
                Thread.interrupted();
            }
            sink.exit(status);
            log("ran " + String.join(" ", request.args()) + " -> " + status + " (kept mapped: "
                    + mappings.bytesKept() / (1 << 20) + " MB)");
        } catch (IOException e) {
            log("client connection: " + e.getMessage());
        }
    }

    private int run(Frames.Request request, Frames.Sink sink) {
        // in the client's charsets, as its own JVM would print
        PrintStream out = new PrintStream(sink.stream(Frames.OUT), true, request.outCharset()),
                err = new PrintStream(sink.stream(Frames.ERR), true, request.errCharset());
        PrintStream systemOut = System.out, systemErr = System.err;
        // anything that writes to System.out/err directly reaches the client too (one command runs at a time)
        System.setOut(out);
        System.setErr(err);
        try {
            return ScopedValue.where(Terminal.CLIENT_TERMINAL, request.terminal())
                    .where(WeightCacheOption.KEPT_MAPPINGS, mappings)
                    .call(() -> runner.run(request.args(), out, err));
        } finally {
            out.flush();
            err.flush();
            System.setOut(systemOut);
            System.setErr(systemErr);
        }
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    private static void log(String message) {
        System.err.println(Instant.now() + " " + message);
    }
}
