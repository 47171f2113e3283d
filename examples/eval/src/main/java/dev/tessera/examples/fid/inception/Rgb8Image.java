package dev.tessera.examples.fid.inception;

/**
 * An 8-bit RGB image as the FID tools receive it: {@code hwc[(y·width + x)·3 + c]}, unsigned bytes (the layout of
 * a PNG's pixels and of an ADM batch's {@code arr_0}).
 */
public record Rgb8Image(int height, int width, byte[] hwc) {
    public Rgb8Image {
        if (height <= 0 || width <= 0 || hwc.length != 3L * height * width) {
            throw new IllegalArgumentException("an RGB image of " + height + "x" + width + " needs "
                    + 3L * height * width + " bytes, got " + hwc.length);
        }
    }

    /** Channel {@code c} as a float plane {@code [height, width]} of the values 0..255, divided by {@code div}. */
    float[] plane(int c, float div) {
        float[] p = new float[height * width];
        for (int i = 0; i < p.length; i++) {
            float v = hwc[3 * i + c] & 0xff;
            p[i] = div == 1f ? v : v / div;
        }
        return p;
    }
}
