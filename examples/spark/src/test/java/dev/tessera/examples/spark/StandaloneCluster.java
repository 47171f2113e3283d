package dev.tessera.examples.spark;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A Spark standalone cluster on this machine for tests: a Master and one Worker, each a child JVM started from
 * spark-core's own classes ({@code org.apache.spark.deploy.master.Master}, {@code ...worker.Worker}; no Spark
 * distribution). The Worker launches each application's executor as a further JVM. {@link #close} ends every
 * process it started, the executors included.
 */
final class StandaloneCluster implements AutoCloseable {
    private final Path logs;
    private final List<Process> processes = new ArrayList<>();
    final String master;

    /**
     * @param home  a folder to serve as the Worker's SPARK_HOME (its empty {@code jars} folder: the executors' class
     *              path is spark.executor.extraClassPath)
     * @param cores the Worker's cores
     */
    StandaloneCluster(Path home, int cores, String memory, long timeoutSeconds)
            throws IOException, InterruptedException, TimeoutException {
        this.logs = home.resolve("logs");
        Files.createDirectories(home.resolve("jars"));
        Files.createDirectories(logs);
        int port = freePort(), ui = freePort();
        master = "spark://127.0.0.1:" + port;
        try {
            Process m = start(
                    home,
                    "master",
                    "org.apache.spark.deploy.master.Master",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    String.valueOf(port),
                    "--webui-port",
                    String.valueOf(ui));
            // the Master's status page (JSON) answers once it is up, and counts the Workers registered with it
            Pattern alive = Pattern.compile("\"aliveworkers\"\\s*:\\s*1\\b");
            await(m, "master", ui, t -> true, timeoutSeconds);
            Process w = start(
                    home,
                    "worker",
                    "org.apache.spark.deploy.worker.Worker",
                    "--host",
                    "127.0.0.1",
                    "--cores",
                    String.valueOf(cores),
                    "--memory",
                    memory,
                    "--webui-port",
                    String.valueOf(freePort()),
                    "--work-dir",
                    home.resolve("work").toString(),
                    master);
            await(w, "worker", ui, t -> alive.matcher(t).find(), timeoutSeconds);
        } catch (IOException | InterruptedException | TimeoutException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** A JVM with the test's class path and the JVM options Spark needs on Java 25. */
    static List<String> java(String mainClass, String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "--add-modules",
                "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow",
                "@" + Path.of("jvm.args").toAbsolutePath(),
                mainClass));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private Process start(Path home, String name, String mainClass, String... args) throws IOException {
        List<String> cmd = java(mainClass, args);
        cmd.add(1, "-Xmx256m");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log(name).toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    Path log(String name) {
        return logs.resolve(name + ".log");
    }

    /** The log of every process, for a failed assertion's message. */
    String logs() {
        StringBuilder s = new StringBuilder();
        for (String name : new String[] {"master", "worker"}) {
            try {
                String text = Files.readString(log(name), StandardCharsets.UTF_8);
                s.append("--- ")
                        .append(name)
                        .append('\n')
                        .append(text, Math.max(0, text.length() - 4000), text.length());
            } catch (IOException e) {
                s.append("--- ").append(name).append(": no log\n");
            }
        }
        return s.toString();
    }

    /** Waits until the Master's status page at port {@code ui} satisfies {@code ready}. */
    private void await(Process p, String name, int ui, Predicate<String> ready, long timeoutSeconds)
            throws IOException, InterruptedException, TimeoutException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        HttpRequest status = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ui + "/json/"))
                .timeout(Duration.ofSeconds(5))
                .build();
        try (HttpClient http = HttpClient.newHttpClient()) {
            while (System.nanoTime() < end) {
                if (!p.isAlive()) throw new IOException(name + " exited with " + p.exitValue() + "\n" + logs());
                try {
                    HttpResponse<String> r = http.send(status, HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200 && ready.test(r.body())) return;
                } catch (IOException e) {
                    // not up yet
                }
                Thread.sleep(250);
            }
        }
        throw new TimeoutException(name + " not ready in " + timeoutSeconds + " s\n" + logs());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Ends the Worker's executors, the Worker and the Master (politely, then forcibly). */
    @Override
    public void close() {
        for (Process p : processes.reversed()) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        for (Process p : processes.reversed()) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
    }
}
