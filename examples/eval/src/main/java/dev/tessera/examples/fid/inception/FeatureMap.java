package dev.tessera.examples.fid.inception;

/** One image's activations {@code [channels, height, width]}, row-major, in an array of their own. */
record FeatureMap(float[] data, int channels, int height, int width) {

    static FeatureMap allocate(int channels, int height, int width) {
        return new FeatureMap(new float[channels * height * width], channels, height, width);
    }

    int plane() {
        return height * width;
    }
}
