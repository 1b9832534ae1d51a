// Generates javadouble.txt: "<bits in hex> <Double.toString>" per line, for the JavaDouble test.
// Run with JDK 17 (the FloatingDecimal algorithm ksqlDB's JDKs use; JDK 19+ prints shortest digits):
//   java sql/types/testdata/JavaDoubles.java > sql/types/testdata/javadouble.txt
import java.util.Random;

public class JavaDoubles {
    static void p(double d) {
        System.out.println(Long.toHexString(Double.doubleToRawLongBits(d)) + " " + Double.toString(d));
    }

    public static void main(String[] args) {
        double[] fixed = {0.0, -0.0, 1.0, -1.0, 100.0, 1e7, 9999999.0, 9999999.999, 0.001, 9.99e-4, 1e-3, 1e-5,
            1.2345678e7, 123.456, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 1e23, 2e23, 2e-3, 5e-324, 1e-323,
            Double.MAX_VALUE, Double.MIN_VALUE, Double.MIN_NORMAL, Double.NaN,
            Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Long.MAX_VALUE, Long.MIN_VALUE,
            Integer.MAX_VALUE, Integer.MIN_VALUE, 4611686018427387904.0, 1946195068359375.0,
            1.5185001792773468E9, 9007199254740993.0, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
            123456789012345678.0, 0.30000000000000004, 1.7976931348623157E308, 4.9E-324};
        for (double d : fixed) {
            p(d);
        }
        for (int k = -1074; k <= 1023; k++) {
            p(Math.scalb(1.0, k));
        }
        for (int k = -325; k <= 308; k++) {
            p(Double.parseDouble("1e" + k));
            p(Double.parseDouble("3e" + k));
        }
        Random r = new Random(14);
        for (int i = 0; i < 3000; i++) {
            p(Double.longBitsToDouble(r.nextLong()));
        }
        for (int i = 0; i < 3000; i++) {
            p(r.nextDouble() * Math.pow(10, r.nextInt(40) - 20));
        }
        for (int i = 0; i < 1000; i++) {
            p((double) (r.nextLong() >>> r.nextInt(64)));
            p(r.nextInt(100000) / Math.pow(10, r.nextInt(10)));
        }
    }
}
