package dev.tessera.examples.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * One generation request on its way through the queue: its state, its latest progress, and its PNGs once done.
 * Listeners (the event streams) hear every change; {@link #finished} completes when the job ends in any state.
 */
final class Job {
    enum State {
        QUEUED,
        RUNNING,
        DONE,
        FAILED,
        CANCELLED;

        boolean ended() {
            return this == DONE || this == FAILED || this == CANCELLED;
        }

        String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** A change a listener hears: a new state, or progress ({@code stage} {@code done} of {@code total}). */
    record Event(State state, String stage, int done, int total) {}

    final String id;
    final GenerationRequest request;
    final long createdNanos = System.nanoTime();
    final CompletableFuture<Job> finished = new CompletableFuture<>();
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    /** Every event so far (a few per scale, token or image: bounded by the request's caps). */
    private final List<Event> history = new ArrayList<>();

    private volatile State state = State.QUEUED;
    private volatile Event last;
    private volatile List<byte[]> pngs = List.of();
    private volatile String error;
    private volatile boolean cancelRequested;
    volatile long startedNanos, endedNanos;

    Job(String id, GenerationRequest request) {
        this.id = id;
        this.request = request;
        this.last = new Event(State.QUEUED, null, 0, 0);
        history.add(last);
    }

    State state() {
        return state;
    }

    Event lastEvent() {
        return last;
    }

    List<byte[]> pngs() {
        return pngs;
    }

    String error() {
        return error;
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    void requestCancel() {
        cancelRequested = true;
    }

    /**
     * Adds a listener and returns every event so far, in order: the listener then hears each later one exactly once,
     * so that a follower who comes late still sees the whole progress. Listeners are called under the job's lock
     * and must not block (the event streams queue what they hear).
     */
    synchronized List<Event> listen(Consumer<Event> l) {
        listeners.add(l);
        return List.copyOf(history);
    }

    void unlisten(Consumer<Event> l) {
        listeners.remove(l);
    }

    void progress(String stage, int done, int total) {
        emit(new Event(State.RUNNING, stage, done, total));
    }

    void running() {
        startedNanos = System.nanoTime();
        state = State.RUNNING;
        emit(new Event(State.RUNNING, null, 0, 0));
    }

    void done(List<byte[]> images) {
        pngs = List.copyOf(images);
        end(State.DONE, null);
    }

    void failed(String message) {
        end(State.FAILED, message);
    }

    void cancelled() {
        end(State.CANCELLED, "cancelled");
    }

    private void end(State s, String message) {
        synchronized (this) {
            if (state.ended()) return;
            endedNanos = System.nanoTime();
            error = message;
            state = s;
        }
        emit(new Event(s, null, 0, 0));
        finished.complete(this);
    }

    private synchronized void emit(Event e) {
        last = e;
        history.add(e);
        for (Consumer<Event> l : listeners) l.accept(e);
    }
}
