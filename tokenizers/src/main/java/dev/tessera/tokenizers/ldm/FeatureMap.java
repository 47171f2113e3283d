package dev.tessera.tokenizers.ldm;

/** One image's activations, {@code [channels, height, width]} row-major. */
public record FeatureMap(float[] data, int channels, int height, int width) {
    public FeatureMap {
        if (data.length < channels * height * width) {
            throw new IllegalArgumentException(
                    data.length + " values for [" + channels + ", " + height + ", " + width + "]");
        }
    }

    public static FeatureMap zeros(int channels, int height, int width) {
        return new FeatureMap(new float[channels * height * width], channels, height, width);
    }

    public int pixels() {
        return height * width;
    }

    public int size() {
        return channels * height * width;
    }
}
