package dev.tessera.examples.spark;

import dev.tessera.engine.TesseraException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.deploy.SparkHadoopUtil;

/**
 * Files named by URI ({@code file:}, {@code hdfs:}, {@code s3a:}, ...), reached through Hadoop's FileSystem API with
 * the Hadoop settings Spark gives its jobs ({@code spark.hadoop.*}, core-site.xml). A plain path is not a URI: it is
 * read and written with Java's file I/O as before.
 */
final class Storage {
    /** A scheme of two letters or more (a Windows drive letter is not one), then ':'. */
    private static final Pattern SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]+:.*");

    private Storage() {}

    static boolean isUri(String s) {
        return s != null && SCHEME.matcher(s).matches();
    }

    /**
     * The Hadoop configuration of this JVM: an executor's from its Spark environment, the driver's from the Spark
     * settings it was started with.
     */
    static Configuration conf() {
        SparkEnv env = SparkEnv.get();
        return SparkHadoopUtil.get().newConfiguration(env != null ? env.conf() : new SparkConf());
    }

    static Path path(String uri) {
        try {
            return new Path(new URI(uri));
        } catch (URISyntaxException e) {
            throw new TesseraException(uri + ": not a valid URI (" + e.getReason() + ")", e);
        }
    }

    static FileSystem fs(Path p, Configuration conf) {
        try {
            return p.getFileSystem(conf);
        } catch (IOException e) {
            throw new TesseraException(p + ": no file system for it (" + e.getMessage() + ")", e);
        }
    }
}
