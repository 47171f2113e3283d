package dev.tessera.engine.ops;

/** The error function in double precision (W. J. Cody's rational approximations, relative error below 1e-15). */
final class Erf {
    private Erf() {}

    private static final double[] A = {
        3.16112374387056560e00,
        1.13864154151050156e02,
        3.77485237685302021e02,
        3.20937758913846947e03,
        1.85777706184603153e-1
    };
    private static final double[] B = {
        2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03
    };
    private static final double[] C = {
        5.64188496988670089e-1,
        8.88314979438837594e00,
        6.61191906371416295e01,
        2.98635138197400131e02,
        8.81952221241769090e02,
        1.71204761263407058e03,
        2.05107837782607147e03,
        1.23033935479799725e03,
        2.15311535474403846e-8
    };
    private static final double[] D = {
        1.57449261107098347e01,
        1.17693950891312499e02,
        5.37181101862009858e02,
        1.62138957456669019e03,
        3.29079923573345963e03,
        4.36261909014324716e03,
        3.43936767414372164e03,
        1.23033935480374942e03
    };
    private static final double[] P = {
        3.05326634961232344e-1,
        3.60344899949804439e-1,
        1.25781726111229246e-1,
        1.60837851487422766e-2,
        6.58749161529837803e-4,
        1.63153871373020978e-2
    };
    private static final double[] Q = {
        2.56852019228982242e00,
        1.87295284992346725e00,
        5.27905102951428412e-1,
        6.05183413124413191e-2,
        2.33520497626869185e-3
    };
    private static final double SQRPI = 5.6418958354775628695e-1;

    static double erf(double x) {
        double y = Math.abs(x);
        double result;
        if (y <= 0.46875) {
            double ysq = y > 1.11e-16 ? y * y : 0;
            double xnum = A[4] * ysq, xden = ysq;
            for (int i = 0; i < 3; i++) {
                xnum = (xnum + A[i]) * ysq;
                xden = (xden + B[i]) * ysq;
            }
            return x * (xnum + A[3]) / (xden + B[3]);
        } else if (y <= 4.0) {
            double xnum = C[8] * y, xden = y;
            for (int i = 0; i < 7; i++) {
                xnum = (xnum + C[i]) * y;
                xden = (xden + D[i]) * y;
            }
            result = (xnum + C[7]) / (xden + D[7]);
            double ysq = Math.floor(y * 16.0) / 16.0;
            double del = (y - ysq) * (y + ysq);
            result = Math.exp(-ysq * ysq) * Math.exp(-del) * result;
        } else {
            if (y >= 6.0) {
                result = 0;
            } else {
                double ysq = 1.0 / (y * y);
                double xnum = P[5] * ysq, xden = ysq;
                for (int i = 0; i < 4; i++) {
                    xnum = (xnum + P[i]) * ysq;
                    xden = (xden + Q[i]) * ysq;
                }
                result = ysq * (xnum + P[4]) / (xden + Q[4]);
                result = (SQRPI - result) / y;
                double ysq2 = Math.floor(y * 16.0) / 16.0;
                double del = (y - ysq2) * (y + ysq2);
                result = Math.exp(-ysq2 * ysq2) * Math.exp(-del) * result;
            }
        }
        // result holds erfc(|x|)
        return x < 0 ? result - 1.0 : 1.0 - result;
    }
}
