package dev.tessera.examples.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import dev.tessera.examples.Main;
import dev.tessera.examples.cli.ProgressBar;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's background process: a command run through it prints, writes and exits exactly as in its own
 * process; a client that finds nothing listening says so (and the launcher then runs the command itself) unless
 * the command had started; a client that goes away cancels its command; the process stops when idle or rebuilt.
 */
class DaemonTest {
    @TempDir
    Path dir;

    /** What a client printed and its exit status. */
    record Result(int status, String out, String err) {}

    /** A client that waits for a process that is starting. */
    private static Result client(Path socket, String... args) {
        return client(10, socket, args);
    }

    private static Result client(double waitSeconds, Path socket, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = DaemonClient.run(
                socket,
                waitSeconds,
                null,
                List.of(args),
                false,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Result here(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(
                List.of(args),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private final List<DaemonServer> servers = new ArrayList<>();
    private final List<CompletableFuture<Integer>> serving = new ArrayList<>();

    /** Every server a test started stops with it (a server left running would log into the next test's stderr). */
    @AfterEach
    void stopServers() throws Exception {
        for (DaemonServer s : servers) s.stop();
        for (CompletableFuture<Integer> f : serving) f.get(10, TimeUnit.SECONDS);
    }

    /** A server on its own thread; the future completes with serve()'s status. */
    private CompletableFuture<Integer> start(DaemonServer server) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        servers.add(server);
        serving.add(done);
        Thread.ofPlatform().daemon().start(() -> {
            try {
                done.complete(server.serve());
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done;
    }

    private Path jar() throws IOException {
        return Files.writeString(dir.resolve("fake.jar"), "the process's code");
    }

    @Test
    void aCommandThroughTheProcessIsTheCommandRunHere() throws Exception {
        Path socket = dir.resolve("d.sock");
        CompletableFuture<Integer> served = start(new DaemonServer(socket, Duration.ofMinutes(1), Main::run, jar()));
        Path a = dir.resolve("a"), b = dir.resolve("b");
        Result remote = client(socket, "generate", "var", "--class", "1", "--class", "sneaker", "--out", a + "/");
        Result local = here("generate", "var", "--class", "1", "--class", "sneaker", "--out", b + "/");
        assertEquals(0, remote.status(), remote.err());
        assertEquals(local.status(), remote.status());
        for (String png : List.of("000.png", "001.png")) {
            assertArrayEquals(Files.readAllBytes(b.resolve(png)), Files.readAllBytes(a.resolve(png)), png);
        }
        assertEquals(
                wrote(local.out()).replace(b.toString(), "OUT"),
                wrote(remote.out()).replace(a.toString(), "OUT"));
        assertTrue(remote.out().contains("patch_nums 1,2,3,4"), remote.out());
        // a usage error and a failure: the same line and status
        String[][] bad = {
            {"generate", "var", "--class", "shoe", "--out", dir.resolve("x.png").toString()},
            {
                "generate",
                "var",
                "--model",
                Files.writeString(dir.resolve("m.pth"), "no").toString(),
                "--vae",
                dir.resolve("m.pth").toString(),
                "--class",
                "1",
                "--out",
                dir.resolve("y.png").toString()
            },
            {"generate", "var", "--help"}
        };
        for (String[] args : bad) {
            Result r = client(socket, args), l = here(args);
            assertEquals(l.status(), r.status(), String.join(" ", args));
            assertEquals(l.err(), r.err(), String.join(" ", args));
            assertEquals(l.out(), r.out(), String.join(" ", args));
        }
        assertEquals(2, client(socket, bad[0]).status());
        assertFalse(Files.exists(dir.resolve("x.png")) || Files.exists(dir.resolve("y.png")));
        assertFalse(served.isDone(), "the process keeps serving");
    }

    private static String wrote(String out) {
        return out.lines().filter(l -> l.startsWith("wrote ")).reduce("", (x, y) -> x + y + "\n");
    }

    @Test
    void nothingListeningMeansTheCommandDidNotStart() throws Exception {
        assertEquals(
                DaemonClient.UNAVAILABLE,
                client(0, dir.resolve("none.sock"), "generate", "var").status());
        // a socket file left behind by a process that is gone
        Path stale = dir.resolve("stale.sock");
        ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        gone.bind(UnixDomainSocketAddress.of(stale));
        gone.close();
        assertTrue(Files.exists(stale));
        Result r = client(0, stale, "generate", "var");
        assertEquals(DaemonClient.UNAVAILABLE, r.status());
        assertEquals("", r.out() + r.err());
        // a process that closes the connection before it starts the command: the client may run it elsewhere
        Path early = dir.resolve("early.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(early));
            Thread.ofPlatform().daemon().start(() -> {
                try (SocketChannel c = s.accept()) {
                    // closed without a word
                } catch (IOException ignored) {
                    // the test ended
                }
            });
            assertEquals(
                    DaemonClient.UNAVAILABLE, client(early, "generate", "var").status());
        }
        // ... but one that stops after starting it is a failure of that command, not a reason to run it again
        Path late = dir.resolve("late.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(late));
            Thread.ofPlatform().daemon().start(() -> {
                try (SocketChannel c = s.accept()) {
                    DataInputStream in = new DataInputStream(Channels.newInputStream(c));
                    Frames.readRequest(in);
                    new Frames.Sink(Channels.newOutputStream(c)).accepted();
                    in.read(); // the client's go; then the process "dies"
                } catch (IOException ignored) {
                    // the test ended
                }
            });
            Result stopped = client(late, "generate", "var");
            assertEquals(1, stopped.status());
            assertEquals(1, stopped.err().lines().count(), stopped.err());
            assertTrue(stopped.err().contains("late.log"), stopped.err());
        }
    }

    @Test
    void aClientThatGoesAwayCancelsItsCommand() throws Exception {
        CountDownLatch started = new CountDownLatch(1), cancelled = new CountDownLatch(1);
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        DaemonServer.Runner runner = (args, out, err) -> {
            if (args.get(0).equals("quick")) {
                interruptedAfter.set(Thread.currentThread().isInterrupted());
                out.println("quick");
                return 0;
            }
            // busy steps, not sleeps: only the progress bar's check can stop this command
            ProgressBar bar = new ProgressBar("long", err, false);
            started.countDown();
            try {
                for (int i = 0; i < 600; i++) {
                    bar.update("step", i, 600);
                    for (long end = System.nanoTime() + 50_000_000L; System.nanoTime() < end; ) {
                        Thread.onSpinWait();
                    }
                }
            } catch (TesseraException e) {
                cancelled.countDown();
                return 1;
            }
            return 0;
        };
        Path socket = dir.resolve("c.sock");
        start(new DaemonServer(socket, Duration.ofMinutes(1), runner, jar()));
        try (SocketChannel c = connect(socket)) {
            Frames.writeRequest(
                    new DataOutputStream(Channels.newOutputStream(c)),
                    false,
                    StandardCharsets.UTF_8,
                    StandardCharsets.UTF_8,
                    List.of("long"));
            assertEquals(Frames.ACCEPTED, new DataInputStream(Channels.newInputStream(c)).readByte());
            Channels.newOutputStream(c).write(Frames.GO);
            assertTrue(started.await(10, TimeUnit.SECONDS));
        } // the client goes away (Ctrl-C)
        assertTrue(cancelled.await(10, TimeUnit.SECONDS), "the command must stop when its client is gone");
        Result next = client(socket, "quick");
        assertEquals(0, next.status());
        assertEquals("quick\n", next.out());
        assertFalse(interruptedAfter.get(), "the next command must not inherit the cancellation");
    }

    /** A raw connection, once the server listens (within 10 s). */
    private static SocketChannel connect(Path socket) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                c.connect(UnixDomainSocketAddress.of(socket));
                return c;
            } catch (IOException e) {
                c.close();
                if (System.nanoTime() > deadline) throw e;
                Thread.sleep(20);
            }
        }
    }

    @Test
    void aBusyProcessSendsTheNextCommandToItsOwnJvmAndNeverRunsItTwice() throws Exception {
        CountDownLatch started = new CountDownLatch(1), release = new CountDownLatch(1);
        AtomicInteger quickRuns = new AtomicInteger();
        DaemonServer.Runner runner = (args, out, err) -> {
            if (args.get(0).equals("quick")) {
                quickRuns.incrementAndGet();
                return 0;
            }
            started.countDown();
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return 1;
            }
            return 0;
        };
        Path socket = dir.resolve("b.sock");
        start(new DaemonServer(socket, Duration.ofMinutes(1), runner, jar()));
        CompletableFuture<Result> slow = CompletableFuture.supplyAsync(() -> client(socket, "slow"));
        assertTrue(started.await(10, TimeUnit.SECONDS));
        long t0 = System.nanoTime();
        assertEquals(DaemonClient.BUSY, client(0, socket, "quick").status());
        double waited = (System.nanoTime() - t0) * 1e-9;
        assertTrue(waited < DaemonClient.BUSY_SECONDS + 3, "gave up after " + waited + " s");
        release.countDown();
        assertEquals(0, slow.get(20, TimeUnit.SECONDS).status());
        assertEquals(0, client(socket, "quick").status()); // the abandoned request is dropped, this one runs
        assertEquals(1, quickRuns.get(), "the command that went to its own JVM must not also run here");
    }

    @Test
    void anErrorInACommandIsOneLineAndADoubtfulJvmStops() throws Exception {
        DaemonServer.Runner runner = (args, out, err) -> switch (args.get(0)) {
            case "bug" -> throw new IllegalStateException("a bug");
            case "overflow" -> throw new StackOverflowError();
            default -> 0;
        };
        Path socket = dir.resolve("e.sock");
        CompletableFuture<Integer> served = start(new DaemonServer(socket, Duration.ofMinutes(1), runner, jar()));
        Result bug = client(socket, "bug");
        assertEquals(1, bug.status());
        assertEquals(1, bug.err().lines().count(), bug.err());
        assertTrue(bug.err().startsWith("tessera: internal error") && bug.err().contains("a bug"), bug.err());
        assertEquals(0, client(socket, "ok").status(), "the process keeps serving after an ordinary exception");
        Result overflow = client(socket, "overflow");
        assertEquals(1, overflow.status());
        assertTrue(overflow.err().contains("StackOverflowError"), overflow.err());
        assertEquals(0, served.get(10, TimeUnit.SECONDS), "a JVM in doubt stops after replying");
        assertFalse(Files.exists(socket));
    }

    @Test
    void aNewProcessReplacesAStaleSocketButNotALiveOne() throws Exception {
        Path socket = dir.resolve("st.sock");
        ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        gone.bind(UnixDomainSocketAddress.of(socket));
        gone.close(); // its file stays behind
        CompletableFuture<Integer> served =
                start(new DaemonServer(socket, Duration.ofMillis(500), (a, o, e) -> 0, jar()));
        assertEquals(0, client(socket, "x").status());
        assertEquals(3, new DaemonServer(socket, Duration.ofMinutes(1), (a, o, e) -> 0, jar()).serve());
        assertEquals(0, served.get(10, TimeUnit.SECONDS));
        assertFalse(Files.exists(socket), "the process removes its own socket");
    }

    @Test
    void anIdleProcessStopsAndRemovesItsSocket() throws Exception {
        Path socket = dir.resolve("i.sock");
        CompletableFuture<Integer> served =
                start(new DaemonServer(socket, Duration.ofMillis(300), (a, o, e) -> 0, jar()));
        assertEquals(0, client(socket, "x").status());
        assertEquals(0, served.get(10, TimeUnit.SECONDS));
        assertFalse(Files.exists(socket));
        assertEquals(DaemonClient.UNAVAILABLE, client(0, socket, "x").status());
    }

    @Test
    void aRebuiltJarStopsTheProcess() throws Exception {
        Path socket = dir.resolve("r.sock"), jar = jar();
        CompletableFuture<Integer> served =
                start(new DaemonServer(socket, Duration.ofMinutes(10), (a, o, e) -> 0, jar));
        assertEquals(0, client(socket, "x").status());
        Files.setLastModifiedTime(
                jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 5000));
        assertEquals(0, served.get(10, TimeUnit.SECONDS));
        assertFalse(Files.exists(socket));
    }

    @Test
    void aSecondProcessOnTheSameSocketGivesWay() throws Exception {
        Path socket = dir.resolve("s.sock");
        start(new DaemonServer(socket, Duration.ofMinutes(1), (a, o, e) -> 0, jar()));
        assertEquals(0, client(socket, "x").status());
        assertEquals(3, new DaemonServer(socket, Duration.ofMinutes(1), (a, o, e) -> 0, jar()).serve());
        assertEquals(0, client(socket, "x").status(), "the first process still serves");
    }
}
