package dev.tessera.examples.spark;

import dev.tessera.examples.Main;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;

/**
 * The main class for {@code spark-submit}: {@code tessera eval} with the master spark-submit was given
 * ({@code --master}); the arguments are those of {@code tessera eval}, without {@code --spark}.
 * <pre>
 * spark-submit --master spark://head:7077 --class dev.tessera.examples.spark.SparkEvalMain ... tessera-spark.jar \
 *     --model-family var --model ... --out /shared/eval-d16/
 * </pre>
 */
public final class SparkEvalMain {
    private SparkEvalMain() {}

    public static void main(String[] args) {
        System.exit(run(new SparkConf().get("spark.master", ""), List.of(args), System.out, System.err));
    }

    /** {@code tessera eval --spark MASTER ARGS...}; a missing master is one line and status 2. */
    static int run(String master, List<String> args, PrintStream out, PrintStream err) {
        if (master.isEmpty()) {
            err.println("tessera: no Spark master (run this class with spark-submit --master URL, or use "
                    + "tessera eval --spark URL)");
            return 2;
        }
        List<String> a = new ArrayList<>(List.of("eval", "--spark", master));
        a.addAll(args);
        return Main.run(a, out, err);
    }
}
