package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.NpzFile;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.examples.fid.inception.InceptionFeatures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a reference {@code .npz} offers, following the ADM evaluator's rule (statistics from the file when it has
 * {@code mu}, otherwise computed from its images):
 * <ul>
 *   <li>pytorch-fid / TTUR statistics: {@code mu} [2048], {@code sigma} [2048, 2048] — FID only;</li>
 *   <li>an ADM reference batch ({@code VIRTUAL_imagenet256_labeled.npz}): {@code arr_0} images plus {@code mu},
 *       {@code sigma}, {@code mu_s} [2023], {@code sigma_s} — FID, sFID, and precision/recall/KID from the images;</li>
 *   <li>images only ({@code arr_0}): every statistic computed from them.</li>
 * </ul>
 * Statistics written by Tessera also carry the preprocessing mode they were made with ({@code preprocess}).
 */
public final class ReferenceSet implements AutoCloseable {
    private final NpzFile npz;
    private final FeatureStats fid, sfid;
    private final String preprocess;

    private ReferenceSet(NpzFile npz, FeatureStats fid, FeatureStats sfid, String preprocess) {
        this.npz = npz;
        this.fid = fid;
        this.sfid = sfid;
        this.preprocess = preprocess;
    }

    public static ReferenceSet open(Path file) {
        NpzFile npz = NpzFile.open(file);
        try {
            boolean stats = npz.contains("mu") || npz.contains("sigma");
            if (!stats && !npz.contains(NpzImages.KEY)) {
                throw new TesseraException(file + ": not a reference: expected 'mu' and 'sigma' (FID statistics) or '"
                        + NpzImages.KEY + "' (an image batch), the file holds: "
                        + (npz.keys().isEmpty() ? "nothing" : String.join(", ", npz.keys())));
            }
            FeatureStats fid = stats ? read(npz, "mu", "sigma", InceptionFeatures.POOL3) : null;
            FeatureStats sfid = npz.contains("mu_s") || npz.contains("sigma_s")
                    ? read(npz, "mu_s", "sigma_s", InceptionFeatures.SPATIAL)
                    : null;
            String mode = npz.contains("preprocess") ? npz.string("preprocess") : null;
            if (npz.contains(NpzImages.KEY)) NpzImages.checkHeader(npz);
            return new ReferenceSet(npz, fid, sfid, mode);
        } catch (RuntimeException e) {
            npz.close();
            throw e;
        }
    }

    /** Reads a statistics pair; both keys must be there with the shapes of {@code dim}. */
    static FeatureStats read(NpzFile npz, String muKey, String sigmaKey, int dim) {
        for (String k : new String[] {muKey, sigmaKey}) {
            if (!npz.contains(k)) {
                throw new TesseraException(npz.path() + ": has '" + (k.equals(muKey) ? sigmaKey : muKey) + "' but no '"
                        + k + "' (statistics need both)");
            }
        }
        Tensor mu = npz.tensor(muKey), sigma = npz.tensor(sigmaKey);
        if (!mu.dtype().isFloatingPoint()
                || !sigma.dtype().isFloatingPoint()
                || !mu.hasShape(dim)
                || !sigma.hasShape(dim, dim)) {
            throw new TesseraException(npz.path() + ": '" + muKey + "' and '" + sigmaKey + "' must be float [" + dim
                    + "] and ["
                    + dim + ", " + dim + "], found " + mu.dtype() + Arrays.toString(mu.shape()) + " and "
                    + sigma.dtype() + Arrays.toString(sigma.shape()));
        }
        return new FeatureStats(mu.toDoubleArray(), sigma.toDoubleArray(), dim, 0);
    }

    /** Reads FID statistics ({@code mu}, {@code sigma}) of any dimension, for {@code tessera fid distance}. */
    public static FeatureStats statistics(Path file) {
        try (NpzFile npz = NpzFile.open(file)) {
            if (!npz.contains("mu") || !npz.contains("sigma")) {
                String hint = npz.contains(NpzImages.KEY)
                        ? " (it is an image batch: make its statistics with 'tessera fid stats --images " + file + "')"
                        : "";
                throw new TesseraException(file + ": no FID statistics: expected 'mu' and 'sigma', the file holds: "
                        + (npz.keys().isEmpty() ? "nothing" : String.join(", ", npz.keys())) + hint);
            }
            Tensor mu = npz.tensor("mu");
            if (mu.rank() != 1)
                throw new TesseraException(file + ": 'mu' must be a vector, found " + Arrays.toString(mu.shape()));
            return read(npz, "mu", "sigma", (int) mu.dim(0));
        }
    }

    /** The preprocessing recorded in a statistics file, or null. */
    public static String preprocessOf(Path file) {
        try (NpzFile npz = NpzFile.open(file)) {
            return npz.contains("preprocess") ? npz.string("preprocess") : null;
        }
    }

    public Path path() {
        return npz.path();
    }

    /** FID statistics from the file, or null (then they come from the images). */
    public FeatureStats fidStatistics() {
        return fid;
    }

    /** sFID statistics from the file, or null. */
    public FeatureStats sfidStatistics() {
        return sfid;
    }

    public boolean hasImages() {
        return npz.contains(NpzImages.KEY);
    }

    public ImageSource images() {
        return NpzImages.open(npz.path());
    }

    /** The preprocessing the file says it was made with, or null. */
    public String preprocess() {
        return preprocess;
    }

    /** A short description for reports. */
    public String kind() {
        List<String> parts = new ArrayList<>();
        if (fid != null) parts.add("FID statistics");
        if (sfid != null) parts.add("sFID statistics");
        if (hasImages()) parts.add("images (arr_0)");
        return String.join(" + ", parts);
    }

    @Override
    public void close() {
        npz.close();
    }
}
