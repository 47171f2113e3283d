package dev.tessera.samplers;

import java.util.Arrays;

/** Classifier-free guidance's batch layout, as every family's official code builds it. */
public final class Guidance {
    private Guidance() {}

    /**
     * The label of every row: the B conditional rows (the classes, in order), then, when {@code guided}, B
     * unconditional rows carrying the null class. Row b and row B + b belong to the same image.
     */
    public static int[] labels(int[] classes, int nullClass, boolean guided) {
        int B = classes.length;
        int[] labels = Arrays.copyOf(classes, guided ? 2 * B : B);
        if (guided) Arrays.fill(labels, B, 2 * B, nullClass);
        return labels;
    }
}
