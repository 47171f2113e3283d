package dev.tessera.examples.cli;

import dev.tessera.engine.io.Npy;
import dev.tessera.engine.io.NpzWriter;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.examples.fid.FeatureExtractor;
import dev.tessera.examples.fid.FeatureRows;
import dev.tessera.examples.fid.FeatureStats;
import dev.tessera.examples.fid.FrechetDistance;
import dev.tessera.examples.fid.ImageSource;
import dev.tessera.examples.fid.ReferenceSet;
import dev.tessera.examples.fid.inception.FidInception;
import dev.tessera.examples.fid.inception.InceptionFeatures;
import dev.tessera.examples.fid.inception.Preprocessing;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tessera fid features|stats|distance}: Inception features, pytorch-fid statistics, and the distance. */
@Command(
        name = "fid",
        sortOptions = false,
        header = "Inception features, FID statistics and the Frechet distance of image folders",
        description = {
            "The FID Inception-v3 (2015-12-05 graph, pytorch-fid's pt_inception-2015-12-05-6726825d.pth) in Java, "
                    + "as the",
            "standard tools run it, with their preprocessing modes (adm, pytorch-fid, clean-fid).",
            ""
        },
        subcommands = {FidCommand.Features.class, FidCommand.Stats.class, FidCommand.Distance.class},
        footer = {
            "",
            "Example:",
            "  tessera fid stats --inception pt_inception-2015-12-05-6726825d.pth --images samples/ --out samples.npz",
            "  tessera fid features --inception pt_inception-2015-12-05-6726825d.pth --images samples/ --out f.npy \\",
            "      --device opencl",
            "  tessera fid distance samples.npz fid_stats_imagenet.npz"
        })
public final class FidCommand extends GroupCommand {
    public FidCommand(PrintStream out) {
        super(out);
    }

    @Override
    public String noun() {
        return "fid command";
    }

    /** The --preprocess option (default adm). */
    static Preprocessing preprocessing(String mode) {
        if (mode == null) return Preprocessing.ADM;
        Preprocessing p = Preprocessing.byId(mode);
        if (p == null) {
            throw new UsageException("--preprocess must be one of "
                    + Arrays.stream(Preprocessing.values())
                            .map(Preprocessing::id)
                            .collect(Collectors.joining(", ")) + ", got '" + mode + "'");
        }
        return p;
    }

    /** {@code fid features} and {@code fid stats}: the same options, a different output. */
    abstract static class ImagesCommand extends CommandBase {
        @Option(
                names = "--inception",
                paramLabel = "FILE",
                description =
                        "(required) pt_inception-2015-12-05-6726825d.pth (pytorch-fid's weights, as released; the "
                                + "same tensors as torch-fidelity's weights-inception-2015-12-05-6726825d.pth)")
        Path inception;

        @Option(
                names = "--images",
                paramLabel = "DIR",
                description = "(required) a folder of PNG/JPEG/BMP images, or an .npz image batch (arr_0: uint8 "
                        + "[N,H,W,3])")
        Path images;

        @Option(
                names = "--preprocess",
                paramLabel = "MODE",
                description = {
                    "how images become the 299x299 input; compare only statistics made the same way:",
                    "  adm          TF1 bilinear resize, (x-128)/128: the ADM evaluator (guided-diffusion) used by "
                            + "VAR,",
                    "               LlamaGen, DiT, FlowAR; TTUR (default)",
                    "  pytorch-fid  PyTorch's bilinear resize, 2x-1: pytorch-fid",
                    "  clean-fid    Pillow's antialiased bicubic resize: clean-fid's \"clean\" mode"
                })
        String preprocess;

        @Option(names = "--out", paramLabel = "FILE", description = "(required) where to write")
        Path out;

        @Mixin
        ThreadsOption threads = new ThreadsOption();

        @Mixin
        DeviceOption device = new DeviceOption();

        private final boolean stats;

        ImagesCommand(PrintStream out, boolean stats) {
            super(out);
            this.stats = stats;
        }

        @Override
        public Integer call() {
            threads.check();
            PrintStream out = super.out;
            Path inception = require(this.inception, "--inception"),
                    images = require(this.images, "--images"),
                    target = require(this.out, "--out");
            String ext = stats ? ".npz" : ".npy";
            if (!target.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(ext)) {
                throw new UsageException("--out must name a " + ext + " file, got " + target);
            }
            Preprocessing mode = preprocessing(preprocess);
            Ops ops = device.open();
            try {
                return extract(out, ops, inception, images, target, mode);
            } finally {
                DeviceOption.close(ops);
            }
        }

        private int extract(PrintStream out, Ops ops, Path inception, Path images, Path target, Preprocessing mode) {
            long t0 = System.nanoTime();
            try (ImageSource source = ImageSource.open(images);
                    FidInception net = FidInception.load(inception, ops)) {
                int n = source.count(), D = InceptionFeatures.POOL3;
                if (stats && n < 2)
                    throw new UsageException("statistics need at least 2 images, " + images + " has " + n);
                float[] pool3 = new float[Math.multiplyExact(n, D)];
                int[] done = {0};
                ProgressBar bar = new ProgressBar("inception");
                new FeatureExtractor(net, mode)
                        .run(
                                source,
                                0,
                                batch -> {
                                    for (InceptionFeatures f : batch)
                                        System.arraycopy(f.pool3(), 0, pool3, D * done[0]++, D);
                                },
                                bar);
                bar.finish();
                double seconds = (System.nanoTime() - t0) * 1e-9;
                if (stats) {
                    FeatureStats s = FeatureStats.of(FeatureRows.of(pool3, n, D));
                    new NpzWriter()
                            .put("mu", doubles("mu", s.mu(), D))
                            .put("sigma", doubles("sigma", s.sigma(), D, D))
                            .putString("preprocess", mode.id())
                            .write(target);
                    out.printf(
                            "wrote %s (pytorch-fid statistics of %d images, %s preprocessing; %.2f s per image)%n",
                            target, n, mode.id(), seconds / n);
                } else {
                    Npy.writeFile(target, Tensor.ofFloats("pool3", pool3, n, D));
                    out.printf(
                            "wrote %s (%d x %d pool3 features, %s preprocessing; %.2f s per image)%n",
                            target, n, D, mode.id(), seconds / n);
                }
                if (device.given()) out.println(DeviceOption.describe(ops));
                return 0;
            }
        }
    }

    @Command(
            name = "features",
            sortOptions = false,
            abbreviateSynopsis = true,
            header = "Inception pool3 features of a folder of images (.npy)",
            description = {"N x 2048 float32 pool3 features of the images, in sorted file-name order (.npy).", ""})
    static final class Features extends ImagesCommand {
        Features(PrintStream out) {
            super(out, false);
        }
    }

    @Command(
            name = "stats",
            sortOptions = false,
            abbreviateSynopsis = true,
            header = "FID statistics of a folder of images (pytorch-fid .npz)",
            description = {
                "Their mean and covariance (float64, N-1) in pytorch-fid's .npz format (mu, sigma), plus the",
                "preprocessing mode under 'preprocess'.",
                ""
            })
    static final class Stats extends ImagesCommand {
        Stats(PrintStream out) {
            super(out, true);
        }
    }

    static Tensor doubles(String name, double[] v, long... shape) {
        MemorySegment seg = MemorySegment.ofArray(new byte[v.length * 8]);
        MemorySegment.copy(
                v, 0, seg, ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, v.length);
        return new Tensor(name, DType.F64, shape, seg);
    }

    @Command(
            name = "distance",
            sortOptions = false,
            header = "the Frechet distance of two statistics files",
            description = {
                "The Frechet distance of two statistics files (ours, pytorch-fid's, TTUR's, or an ADM reference",
                "batch's mu/sigma); prints \"FID: <value>\".",
                ""
            })
    static final class Distance extends CommandBase {
        @Parameters(paramLabel = "STATS.npz", arity = "0..*", description = "two statistics files, A.npz B.npz")
        List<Path> files = new ArrayList<>();

        Distance(PrintStream out) {
            super(out);
        }

        @Override
        public Integer call() {
            if (files.size() != 2)
                throw new UsageException("expected two statistics files, A.npz B.npz (" + hint() + ")");
            Path pa = files.get(0), pb = files.get(1);
            FeatureStats sa = ReferenceSet.statistics(pa), sb = ReferenceSet.statistics(pb);
            if (sa.dim() != sb.dim()) {
                throw new UsageException(pa + " has " + sa.dim() + "-d statistics and " + pb + " " + sb.dim()
                        + "-d ones: not comparable");
            }
            String ma = ReferenceSet.preprocessOf(pa), mb = ReferenceSet.preprocessOf(pb);
            if (ma != null && mb != null && !ma.equals(mb)) {
                out.printf(
                        "note: %s was made with %s preprocessing and %s with %s: the distance mixes two pipelines%n",
                        pa, ma, pb, mb);
            }
            FrechetDistance.Result r = FrechetDistance.of(sa, sb);
            if (r.minEigenvalue() < -1e-6) {
                out.printf(
                        "note: clearly negative eigenvalues (%.2g of the largest): are both files covariance "
                                + "matrices?%n",
                        r.minEigenvalue());
            }
            out.println("FID: " + r.distance());
            return 0;
        }
    }
}
