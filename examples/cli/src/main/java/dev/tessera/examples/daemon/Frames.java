package dev.tessera.examples.daemon;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The background process's wire format, over a Unix-domain socket. The client sends one request: {@link #MAGIC},
 * {@link #VERSION}, whether its standard error is a terminal, the charsets of its standard output and error (what its
 * JVM would print in), the argument count and the arguments (modified UTF-8).
 * The process answers {@link #ACCEPTED} when it is ready to run the command, and runs it only when the client
 * answers {@link #GO} (a client that gave up waiting for a busy process closes instead and runs the command itself;
 * so a command never runs twice), then sends frames: {@link #OUT} or {@link #ERR} (a length and that many bytes for
 * the client's standard output or error), then one {@link #EXIT} with the exit status. A client that closes its end
 * cancels the command.
 */
final class Frames {
    static final int MAGIC = 0x54455353; // "TESS"
    static final int VERSION = 1;
    static final byte EXIT = 0, OUT = 1, ERR = 2, ACCEPTED = 3;

    /** The client's answer to {@link #ACCEPTED}: it still wants the command run here. */
    static final int GO = 'g';

    private Frames() {}

    record Request(boolean terminal, Charset outCharset, Charset errCharset, List<String> args) {}

    static void writeRequest(DataOutputStream out, boolean terminal, Charset outCs, Charset errCs, List<String> args)
            throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeBoolean(terminal);
        out.writeUTF(outCs.name());
        out.writeUTF(errCs.name());
        out.writeInt(args.size());
        for (String a : args) out.writeUTF(a);
        out.flush();
    }

    /** The request, or an IOException naming what was wrong with it. */
    static Request readRequest(DataInputStream in) throws IOException {
        if (in.readInt() != MAGIC) throw new IOException("not a tessera client");
        int version = in.readInt();
        if (version != VERSION)
            throw new IOException("client protocol " + version + ", this process speaks " + VERSION);
        boolean terminal = in.readBoolean();
        Charset outCs = charset(in.readUTF()), errCs = charset(in.readUTF());
        int n = in.readInt();
        if (n < 0 || n > 10_000) throw new IOException("bad argument count " + n);
        List<String> args = new ArrayList<>(n);
        for (int i = 0; i < n; i++) args.add(in.readUTF());
        return new Request(terminal, outCs, errCs, args);
    }

    private static Charset charset(String name) {
        try {
            return Charset.forName(name);
        } catch (IllegalArgumentException e) {
            return StandardCharsets.UTF_8;
        }
    }

    /**
     * One stream of the command (its standard output or error) sent to the client as frames, a frame per write.
     * Writes after the client went away are dropped: the command is being cancelled then.
     */
    static final class Sink {
        private final DataOutputStream out;
        private volatile boolean gone;

        Sink(OutputStream socket) {
            this.out = new DataOutputStream(socket);
        }

        OutputStream stream(byte kind) {
            return new OutputStream() {
                @Override
                public void write(int b) {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    frame(kind, b, off, len);
                }
            };
        }

        private synchronized void frame(byte kind, byte[] b, int off, int len) {
            if (gone || len == 0) return;
            try {
                out.writeByte(kind);
                out.writeInt(len);
                out.write(b, off, len);
                out.flush();
            } catch (IOException e) {
                gone = true;
            }
        }

        /** Says the process is ready; false when the client is gone. */
        synchronized boolean accepted() {
            try {
                out.writeByte(ACCEPTED);
                out.flush();
                return true;
            } catch (IOException e) {
                gone = true;
                return false;
            }
        }

        synchronized void exit(int status) {
            if (gone) return;
            try {
                out.writeByte(EXIT);
                out.writeInt(status);
                out.flush();
            } catch (IOException e) {
                gone = true;
            }
        }
    }
}
