package dev.tessera.examples.daemon;

import com.sun.management.OperatingSystemMXBean;
import dev.tessera.engine.io.PackedWeightCache;
import dev.tessera.examples.Main;
import dev.tessera.examples.cli.Terminal;
import dev.tessera.examples.cli.WeightCacheOption;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The background process that runs {@code tessera generate} and {@code tessera edit} for the launcher, so that a
 * command does not pay a fresh JVM's start and JIT warm-up: after a few commands the kernels run compiled, and each
 * command costs what the same generation costs in a warm process. Each command still loads its model, runs exactly as
 * in its own process (same code, same output bytes, same exit status) and releases the model when it ends; only
 * compiled code, the heap while commands come, and the packed weights' file mappings stay.
 *
 * <p>One command at a time, in arrival order, on a Unix-domain socket in a folder only its user can open, for peers
 * of the same user only. The process works in the directory and environment it was started with: the launcher keys
 * the socket by both, and by the jar, so a client always reaches a process that sees its paths as it would. A client
 * that finds it busy runs its command in its own JVM instead. It exits after {@code idle} without a command, when its
 * jar changes (a rebuild), and after an error that leaves the JVM in doubt. A client that disconnects (Ctrl-C)
 * cancels its command at its next progress step, before anything is written.
 */
public final class DaemonServer {
    /** The machine's memory, read once. */
    private static final long PHYSICAL_MEMORY = physicalMemory();

    /** Mapped packed weights kept between commands: a quarter of the memory, at most 16 GB. */
    static final long KEPT_BYTES = Math.min(16L << 30, PHYSICAL_MEMORY / 4);

    /** Idle time after which the heap is given back to the system (until the next command). */
    static final Duration TRIM_AFTER = Duration.ofSeconds(30);

    /** Quiet time after a command before the garbage it left (off-heap panels included) is collected. */
    static final Duration COLLECT_AFTER = Duration.ofSeconds(1);

    /** How long a client may take to send its request or its go-ahead. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final Path socket;
    private final Duration idle;
    private final Runner runner;
    private final Path codeSource;
    private final FileTime builtAt;

    /** Packed weights the commands mapped, kept for the next command (file-backed: the kernel may drop the pages). */
    private final PackedWeightCache.Mappings mappings = new PackedWeightCache.Mappings(KEPT_BYTES);

    private final HeapTrim heap = new HeapTrim();
    private volatile long lastActive = System.nanoTime();
    private volatile boolean busy, doubtful, collected = true;
    private volatile ServerSocketChannel listening;

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

    /**
     * Serves until idle, until the jar changes or until an error leaves the JVM in doubt: 0 then; 3 when another
     * process already serves this socket or it cannot be bound.
     */
    int serve() throws IOException {
        ServerSocketChannel server = bind();
        if (server == null) return 3;
        listening = server;
        Object boundFile = fileKey(socket);
        log("listening on " + socket + " (pid " + ProcessHandle.current().pid() + ", idle limit " + idle + ")");
        Thread watchdog =
                Thread.ofPlatform().daemon().name("tessera-daemon-watchdog").start(() -> watch(server));
        try (server) {
            while (!doubtful) {
                SocketChannel client;
                try {
                    client = server.accept();
                } catch (ClosedChannelException e) {
                    break;
                }
                busy = true;
                heap.keep();
                if (!collected && freeMemory() < PHYSICAL_MEMORY / 4) collect(); // memory is short: not later

                try {
                    handle(client);
                } finally {
                    lastActive = System.nanoTime();
                    busy = false;
                }
                // panels packed in memory (no weight cache, small layers) live off the heap until a collection
                // finds them unreachable, and the heap is kept large between commands: the watchdog collects once
                // the process is quiet (not at once: a full collection would slow a command that follows directly)
                collected = false;
            }
        } finally {
            watchdog.interrupt();
            // only our own socket: a process that replaced a stale one keeps its own
            if (boundFile != null && boundFile.equals(fileKey(socket))) Files.deleteIfExists(socket);
        }
        log("stopped");
        return 0;
    }

    /**
     * The listening socket, or null when another live process serves it. A socket file left by a process that is
     * gone is replaced; the check and the replacement happen under a lock beside it, so that two processes starting
     * at once cannot both replace it.
     */
    private ServerSocketChannel bind() throws IOException {
        Path lockFile = socket.resolveSibling(socket.getFileName() + ".lock");
        try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = lockChannel.lock()) {
            Objects.requireNonNull(lock);
            if (Files.exists(socket)) {
                try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    probe.connect(UnixDomainSocketAddress.of(socket));
                    log("another process serves " + socket + ": leaving it");
                    return null;
                } catch (IOException gone) {
                    Files.deleteIfExists(socket);
                }
            }
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                server.bind(UnixDomainSocketAddress.of(socket));
                return server;
            } catch (IOException e) {
                log("cannot listen on " + socket + ": " + e.getMessage());
                server.close();
                return null;
            }
        }
    }

    /** Stops serving (after the command that runs, if any); {@link #serve} then returns. */
    void stop() throws IOException {
        ServerSocketChannel s = listening;
        if (s != null) s.close();
    }

    /** Closes the server when it has been idle too long or its jar was rebuilt; gives the heap back when quiet. */
    private void watch(ServerSocketChannel server) {
        while (server.isOpen()) {
            try {
                Thread.sleep(Math.min(1000, Math.max(10, idle.toMillis() / 4)));
                boolean rebuilt = !builtAt.equals(modified(codeSource));
                boolean idleTooLong = System.nanoTime() - lastActive > idle.toNanos();
                if (!busy && (rebuilt || idleTooLong)) {
                    log(rebuilt ? "the jar changed: stopping" : "idle for " + idle + ": stopping");
                    server.close();
                } else if (!busy && System.nanoTime() - lastActive > TRIM_AFTER.toNanos()) {
                    heap.trim();
                } else if (!busy && !collected && System.nanoTime() - lastActive > COLLECT_AFTER.toNanos()) {
                    collect();
                }
            } catch (InterruptedException e) {
                return; // the server stopped
            } catch (Throwable t) {
                log("watchdog: " + t); // keep watching: without it the process would never stop
            }
        }
    }

    private void handle(SocketChannel client) {
        try (client) {
            if (!sameUser(client)) {
                log("refused a client of another user");
                return;
            }
            DataInputStream in = new DataInputStream(Channels.newInputStream(client));
            Frames.Request request;
            Frames.Sink sink = new Frames.Sink(Channels.newOutputStream(client));
            // a client that connects and then says nothing must not hold the process
            Thread timeout = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(REQUEST_TIMEOUT);
                    client.close();
                } catch (InterruptedException | IOException e) {
                    // the client spoke in time
                }
            });
            try {
                request = Frames.readRequest(in);
                // the client may have given up waiting (it runs the command itself then): start only on its go
                if (!sink.accepted() || in.read() != Frames.GO) return;
            } catch (IOException e) {
                log("dropped a client: " + e.getMessage());
                return;
            } finally {
                timeout.interrupt();
            }
            Thread worker = Thread.currentThread();
            Object lock = new Object();
            boolean[] done = {false};
            // the client never writes after its go: end of stream means it went away
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
            int status;
            try {
                status = run(request, sink);
            } catch (Throwable t) {
                // what Main.run does not turn into a one-line error: say so in one line, keep the trace in the log
                log("internal error running " + String.join(" ", request.args()) + ":");
                t.printStackTrace();
                status = 1;
                new PrintStream(sink.stream(Frames.ERR), true, request.errCharset())
                        .println("tessera: internal error in the background process (" + t + "); its log: "
                                + DaemonClient.log(socket));
                if (t instanceof VirtualMachineError) doubtful = true; // stop after replying
            }
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

    /** Whether the peer runs as this process's user (the folder's permissions already keep others out). */
    private static boolean sameUser(SocketChannel client) {
        try {
            UnixDomainPrincipal peer = client.getOption(ExtendedSocketOptions.SO_PEERCRED);
            return peer.user().getName().equals(System.getProperty("user.name"));
        } catch (IOException | UnsupportedOperationException e) {
            return true; // no credentials on this system: the folder's permissions are the check
        }
    }

    private static Object fileKey(Path p) {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    private synchronized void collect() {
        if (collected) return;
        System.gc();
        collected = true;
    }

    private static long freeMemory() {
        try {
            return ManagementFactory.getPlatformMXBean(OperatingSystemMXBean.class)
                    .getFreeMemorySize();
        } catch (RuntimeException | LinkageError e) {
            return Long.MAX_VALUE;
        }
    }

    private static long physicalMemory() {
        try {
            return ManagementFactory.getPlatformMXBean(OperatingSystemMXBean.class)
                    .getTotalMemorySize();
        } catch (RuntimeException | LinkageError e) {
            return 8L << 30;
        }
    }

    private static void log(String message) {
        System.err.println(Instant.now() + " " + message);
    }
}
