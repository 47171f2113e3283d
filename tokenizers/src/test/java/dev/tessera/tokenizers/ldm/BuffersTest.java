package dev.tessera.tokenizers.ldm;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class BuffersTest {
    @Test
    void reusesGivenArraysAndForgetsSizesAnotherRoundDidNotTake() {
        Buffers buf = new Buffers();
        float[] small = buf.take(10), large = buf.take(20);
        buf.give(small);
        buf.give(large);
        buf.dropUntaken(); // both sizes were taken in this round: both kept
        assertSame(small, buf.take(10));
        buf.give(small);
        buf.dropUntaken(); // this round took only 10 floats: the 20-float array goes
        assertSame(small, buf.take(10));
        assertNotSame(large, buf.take(20));
        buf.dropBelow(15);
        buf.give(small);
        buf.dropBelow(15);
        assertNotSame(small, buf.take(10));
    }

    @Test
    void keepsSmallerArraysWhenAskedTo() {
        Buffers buf = new Buffers();
        float[] small = buf.take(10);
        buf.give(small);
        buf.keepAll(true);
        buf.dropBelow(15); // kept for the next decode's coarser levels
        assertSame(small, buf.take(10));
        buf.give(small);
        buf.keepAll(false);
        buf.dropBelow(15);
        assertNotSame(small, buf.take(10));
    }
}
