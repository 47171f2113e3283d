package dev.tessera.examples.spark;

import dev.tessera.examples.Main;
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
        String master = new SparkConf().get("spark.master", "");
        if (master.isEmpty()) {
            System.err.println("tessera: no Spark master (run this class with spark-submit --master URL, or use "
                    + "tessera eval --spark URL)");
            System.exit(2);
        }
        List<String> a = new ArrayList<>(List.of("eval", "--spark", master));
        a.addAll(List.of(args));
        System.exit(Main.run(a, System.out, System.err));
    }
}
