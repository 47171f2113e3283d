package dev.tessera.examples.fid;

import dev.tessera.engine.ops.Parallel;
import dev.tessera.examples.fid.inception.FidInception;
import dev.tessera.examples.fid.inception.InceptionFeatures;
import dev.tessera.examples.fid.inception.Preprocessing;
import dev.tessera.examples.fid.inception.Rgb8Image;
import dev.tessera.samplers.Progress;
import java.util.List;

/** Images to Inception features: a preprocessing mode and the network, a batch (one image per core) at a time. */
public final class FeatureExtractor {
    /** Images per forward call: a multiple of the core count keeps every core busy. */
    public static final int BATCH = Math.max(2, 2 * Parallel.threads());

    private final FidInception net;
    private final Preprocessing preprocessing;

    public FeatureExtractor(FidInception net, Preprocessing preprocessing) {
        this.net = net;
        this.preprocessing = preprocessing;
    }

    public Preprocessing preprocessing() {
        return preprocessing;
    }

    public List<InceptionFeatures> features(List<Rgb8Image> images) {
        float[][] inputs = new float[images.size()][];
        Parallel.forEach(images.size(), i -> inputs[i] = preprocessing.apply(images.get(i)));
        return net.forward(List.of(inputs));
    }

    /** Receives the features of consecutive images, a batch at a time. */
    @FunctionalInterface
    public interface Sink {
        void accept(List<InceptionFeatures> batch);
    }

    /**
     * Runs the images of {@code source} from index {@code start} on through the network, reporting "images" progress.
     */
    public void run(ImageSource source, int start, Sink sink, Progress progress) {
        int total = source.count();
        source.skip(start);
        for (int done = start; done < total; ) {
            int n = Math.min(BATCH, total - done);
            sink.accept(features(source.next(n)));
            done += n;
            progress.update("images", done, total);
        }
    }
}
