package io.cleave.core.reduce;

import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.pack.ModelPack;
import java.util.Arrays;

/**
 * Reduces the tokens after a split before they cross the link, as {@code onnx-models/cleave_vit/reduce.py} does
 * (the reference: the same choices, the same tie-break, survivors in their original order; parity is tested on the
 * pack's golden tensors and on the test set's accuracy).
 *
 * <ul>
 *   <li>{@link TokenReduction.Method#ATTENTION} (EViT, Liang et al., ICLR 2022): the {@code n - 1} patch tokens the
 *       class token attends to most, in order, then one token fusing the rest weighted by that attention.
 *   <li>{@link TokenReduction.Method#MERGE} (ToMe, Bolya et al., ICLR 2023): rounds of bipartite soft matching on
 *       the keys: the patch tokens alternate between sets A and B, each A token finds its most similar B token
 *       (cosine), the r most similar A tokens are averaged into their match weighted by the tokens each already
 *       holds, until {@code n} patch tokens remain.
 * </ul>
 * Both read the pack's probe of the first block after the split (its class-token attention and keys, heads averaged),
 * run on the split's tokens: {@link SegmentEngine#probe}.
 *
 * <pre>{@code
 * Tensor sent = TokenReducer.reduce(engine, 2, tokensAfterBlock2, TokenReduction.parse("attention:0.5"));
 * }</pre>
 */
public final class TokenReducer {
    private TokenReducer() {}

    /**
     * The tokens after block {@code split} ({@code [B, T, D]}, full count) reduced as {@code r} says: {@code [B, T', D]}
     * with {@code T' = r.tokens(prefix, T)}; {@code tokens} itself when {@code r} keeps every token.
     *
     * @throws CleaveException FAILED_PRECONDITION when the pack is not reducible, INVALID_ARGUMENT for a split with no
     *     block after it
     */
    public static Tensor reduce(SegmentEngine engine, int split, Tensor tokens, TokenReduction r) {
        if (!r.reduces()) {
            return tokens;
        }
        ModelPack pack = engine.pack();
        if (!pack.reducible()) {
            throw new CleaveException(ErrorCode.FAILED_PRECONDITION, "model pack " + pack.id() + " " + pack.version()
                    + " has no token reduction (its graphs take a fixed token count): make it reducible with onnx-models/add_token_reduction.py");
        }
        if (split < 1 || split >= pack.blockCount()) {
            throw CleaveException.invalid("tokens after block " + split + " cannot be reduced: only after blocks 1.." + (pack.blockCount() - 1));
        }
        int[] shape = tokens.shape();
        int b = shape[0];
        int t = shape[1];
        int d = shape[2];
        int prefix = pack.prefixTokens();
        int n = r.keptPatches(t - prefix);
        SegmentEngine.Probe probe = engine.probe(split + 1, tokens);
        int p = t - prefix;
        int kd = probe.keys().shape()[2];
        int out = prefix + n;
        float[] y = new float[b * out * d];
        for (int i = 0; i < b; i++) {
            float[] x = Arrays.copyOfRange(tokens.data(), i * t * d, (i + 1) * t * d);
            float[] one = r.method() == TokenReduction.Method.ATTENTION
                    ? attention(x, t, d, prefix, Arrays.copyOfRange(probe.clsAttention().data(), i * p, (i + 1) * p), n)
                    : merge(x, t, d, prefix, Arrays.copyOfRange(probe.keys().data(), i * t * kd, (i + 1) * t * kd), kd, n);
            System.arraycopy(one, 0, y, i * out * d, out * d);
        }
        return new Tensor(y, new int[] {b, out, d});
    }

    /**
     * EViT on one sample: {@code x} [T, D] row-major, {@code scores} [T - prefix]; keeps the prefix, the {@code n - 1}
     * highest-scoring patch tokens in their order, and their complement fused by score (n patch tokens in all).
     */
    static float[] attention(float[] x, int t, int d, int prefix, float[] scores, int n) {
        int p = t - prefix;
        if (n >= p) {
            return x;
        }
        Integer[] order = byScore(scores, p);
        int[] top = new int[n - 1];
        for (int i = 0; i < n - 1; i++) {
            top[i] = order[i];
        }
        Arrays.sort(top);
        float[] y = new float[(prefix + n) * d];
        System.arraycopy(x, 0, y, 0, prefix * d);
        for (int i = 0; i < top.length; i++) {
            System.arraycopy(x, (prefix + top[i]) * d, y, (prefix + i) * d, d);
        }
        float sum = 0;
        for (int i = n - 1; i < p; i++) {
            sum += scores[order[i]];
        }
        int f = (prefix + n - 1) * d;
        for (int i = n - 1; i < p; i++) {
            float w = scores[order[i]] / sum;
            int src = (prefix + order[i]) * d;
            for (int j = 0; j < d; j++) {
                y[f + j] += x[src + j] * w;
            }
        }
        return y;
    }

    /**
     * ToMe on one sample: {@code x} [T, D], {@code keys} [T, K]; merges patch tokens in rounds of bipartite matching
     * until {@code n} remain, each a size-weighted average of the tokens it holds.
     */
    static float[] merge(float[] x, int t, int d, int prefix, float[] keys, int kd, int n) {
        int cur = t - prefix;
        float[][] tok = new float[cur][];
        float[][] met = new float[cur][];
        float[] size = new float[cur];
        int[] pos = new int[cur];
        for (int i = 0; i < cur; i++) {
            tok[i] = Arrays.copyOfRange(x, (prefix + i) * d, (prefix + i + 1) * d);
            met[i] = Arrays.copyOfRange(keys, (prefix + i) * kd, (prefix + i + 1) * kd);
            size[i] = 1;
            pos[i] = i;
        }
        while (cur > n) {
            int na = (cur + 1) / 2;
            int nb = cur / 2;
            int r = Math.min(cur - n, nb);
            if (r <= 0) {
                break;
            }
            float[][] unit = new float[cur][];
            for (int i = 0; i < cur; i++) {
                float norm = 0;
                for (float v : met[i]) {
                    norm += v * v;
                }
                norm = (float) Math.sqrt(norm);
                unit[i] = new float[kd];
                for (int j = 0; j < kd; j++) {
                    unit[i][j] = met[i][j] / norm;
                }
            }
            float[] bestSim = new float[na];
            int[] best = new int[na];
            for (int a = 0; a < na; a++) {
                float[] ua = unit[2 * a];
                bestSim[a] = Float.NEGATIVE_INFINITY;
                for (int bb = 0; bb < nb; bb++) {
                    float[] ub = unit[2 * bb + 1];
                    float s = 0;
                    for (int j = 0; j < kd; j++) {
                        s += ua[j] * ub[j];
                    }
                    if (s > bestSim[a]) { // ties to the lower B index, as torch's max does
                        bestSim[a] = s;
                        best[a] = bb;
                    }
                }
            }
            Integer[] order = byScore(bestSim, na);
            boolean[] merged = new boolean[na];
            float[][] bTok = new float[nb][];
            float[][] bMet = new float[nb][];
            float[] bSize = new float[nb];
            for (int bb = 0; bb < nb; bb++) {
                int i = 2 * bb + 1;
                bSize[bb] = size[i];
                bTok[bb] = scaled(tok[i], size[i]);
                bMet[bb] = scaled(met[i], size[i]);
            }
            for (int k = 0; k < r; k++) {
                int a = order[k];
                merged[a] = true;
                int i = 2 * a;
                int dst = best[a];
                addScaled(bTok[dst], tok[i], size[i]);
                addScaled(bMet[dst], met[i], size[i]);
                bSize[dst] += size[i];
            }
            int next = cur - r;
            float[][] nTok = new float[next][];
            float[][] nMet = new float[next][];
            float[] nSize = new float[next];
            int[] nPos = new int[next];
            int w = 0;
            for (int i = 0; i < cur; i++) { // survivors keep their order: A and B interleave by position
                if (i % 2 == 0) {
                    if (merged[i / 2]) {
                        continue;
                    }
                    nTok[w] = tok[i];
                    nMet[w] = met[i];
                    nSize[w] = size[i];
                } else {
                    int bb = i / 2;
                    nTok[w] = divided(bTok[bb], bSize[bb]);
                    nMet[w] = divided(bMet[bb], bSize[bb]);
                    nSize[w] = bSize[bb];
                }
                nPos[w++] = pos[i];
            }
            tok = nTok;
            met = nMet;
            size = nSize;
            pos = nPos;
            cur = next;
        }
        float[] y = new float[(prefix + cur) * d];
        System.arraycopy(x, 0, y, 0, prefix * d);
        for (int i = 0; i < cur; i++) {
            System.arraycopy(tok[i], 0, y, (prefix + i) * d, d);
        }
        return y;
    }

    /** Indices 0..n-1 by score, highest first, ties to the lower index. */
    private static Integer[] byScore(float[] scores, int n) {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(scores[b], scores[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        return order;
    }

    private static float[] scaled(float[] v, float s) {
        float[] out = new float[v.length];
        for (int j = 0; j < v.length; j++) {
            out[j] = v[j] * s;
        }
        return out;
    }

    private static void addScaled(float[] acc, float[] v, float s) {
        for (int j = 0; j < v.length; j++) {
            acc[j] += v[j] * s;
        }
    }

    private static float[] divided(float[] v, float s) {
        float[] out = new float[v.length];
        for (int j = 0; j < v.length; j++) {
            out[j] = v[j] / s;
        }
        return out;
    }
}
