package dev.tessera.opencl;

import dev.tessera.engine.ops.Ops;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An {@link Ops} that hands every {@code float[]} argument of a kernel call to its backend as an array from
 * {@link Ops#allocate} (a fresh copy, announced with {@code hostWrote}; the same array twice in one call stays one
 * array), then brings every such array back with {@code toHost} into the caller's. Run through the kernel tests, it
 * holds the device-resident paths of {@link OpenClOps} (offsets, strides, in-place calls, outputs aliasing inputs) to
 * the reference with every shape those tests use.
 */
final class ResidentArgs implements InvocationHandler {
    private static final Set<String> PLAIN =
            Set.of("name", "allocate", "toHost", "hostWrote", "allocateKv", "releaseKv");
    private final Ops inner;

    private ResidentArgs(Ops inner) {
        this.inner = inner;
    }

    static Ops wrap(Ops inner) {
        return (Ops)
                Proxy.newProxyInstance(Ops.class.getClassLoader(), new Class<?>[] {Ops.class}, new ResidentArgs(inner));
    }

    @Override
    public Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
        if (m.getName().equals("toString")) return "resident arrays on " + inner.name();
        if (m.getName().equals("name")) return "resident arrays on " + inner.name();
        if (m.getDeclaringClass() == Object.class) return m.invoke(this, args);
        if (PLAIN.contains(m.getName()) || args == null) return invoke(m, args);
        Map<float[], float[]> copies = new IdentityHashMap<>();
        Object[] a = args.clone();
        for (int i = 0; i < a.length; i++) {
            if (a[i] instanceof float[] f) {
                a[i] = copies.computeIfAbsent(f, k -> {
                    float[] r = inner.allocate(k.length);
                    System.arraycopy(k, 0, r, 0, k.length);
                    inner.hostWrote(r);
                    return r;
                });
            }
        }
        Object result = invoke(m, a);
        copies.forEach((orig, r) -> {
            inner.toHost(r);
            System.arraycopy(r, 0, orig, 0, orig.length);
        });
        return result;
    }

    private Object invoke(Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(inner, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
