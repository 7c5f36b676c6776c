package io.cleave.core.reduce;

import java.util.Locale;

/**
 * How the tokens at a split are reduced before they cross the link: a method and the share of the patch tokens
 * kept. The prefix tokens (class, distillation) always cross; of the P patch tokens, {@code ceil(keep * P)} do
 * (at least one), so {@code prefix + ceil(keep * P)} tokens go on the wire and through the cloud's blocks.
 *
 * <pre>{@code
 * TokenReduction r = TokenReduction.parse("merge:0.5");   // ToMe-style merging, half the patch tokens
 * int sent = r.tokens(1, 50);                              // 26 of the default pack's 50
 * }</pre>
 *
 * @param method {@link Method#NONE}, or how tokens are chosen (see {@link TokenReducer})
 * @param keep share of the patch tokens kept, in (0, 1]; 1 with {@code NONE}
 */
public record TokenReduction(Method method, double keep) {
    /** Every token crosses. */
    public static final TokenReduction NONE = new TokenReduction(Method.NONE, 1.0);

    /** The ways of reducing tokens; {@link #wireName()} is how configuration and reports spell them. */
    public enum Method {
        NONE,
        /** EViT: the patch tokens the class token attends to most, the others fused into one. */
        ATTENTION,
        /** ToMe: bipartite soft matching on the keys, the most similar tokens averaged. */
        MERGE;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The method named {@code name} (as the pack's manifest spells it), or an error naming those there are. */
        public static Method named(String name) {
            for (Method m : values()) {
                if (m.wireName().equals(name)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown token reduction '" + name + "': none, attention or merge");
        }
    }

    public TokenReduction {
        if (method == null) {
            throw new IllegalArgumentException("token reduction method missing");
        }
        if (!(keep > 0 && keep <= 1)) {
            throw new IllegalArgumentException("keep ratio " + keep + " outside (0, 1]");
        }
        if (method == Method.NONE && keep != 1) {
            throw new IllegalArgumentException("no reduction keeps every token, not " + keep);
        }
    }

    /**
     * {@code none}, or {@code METHOD:KEEP} with METHOD {@code attention} or {@code merge} and KEEP in (0, 1]
     * ({@code merge:0.5}); an {@link IllegalArgumentException} names what is allowed.
     */
    public static TokenReduction parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.equals("none")) {
            return NONE;
        }
        int colon = s.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("token reduction '" + text + "': none, or attention:KEEP or merge:KEEP with KEEP in (0, 1]");
        }
        Method m = Method.named(s.substring(0, colon));
        if (m == Method.NONE) {
            throw new IllegalArgumentException("token reduction '" + text + "': none takes no keep ratio");
        }
        double keep;
        try {
            keep = Double.parseDouble(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("token reduction '" + text + "': keep ratio '" + s.substring(colon + 1) + "' is not a number in (0, 1]");
        }
        return new TokenReduction(m, keep);
    }

    /** Whether fewer tokens cross than the split produced (a keep ratio of 1 keeps them all). */
    public boolean reduces() {
        return method != Method.NONE && keep < 1;
    }

    /** Patch tokens that cross out of {@code patches}: {@code ceil(keep * patches)}, at least 1 (the same rule as cleave_vit/reduce.py). */
    public int keptPatches(int patches) {
        if (!reduces()) {
            return patches;
        }
        return Math.max(1, Math.min(patches, (int) Math.ceil(keep * patches - 1e-9)));
    }

    /** Tokens that cross out of {@code total}, {@code prefix} of which always do. */
    public int tokens(int prefix, int total) {
        return prefix + keptPatches(total - prefix);
    }

    @Override
    public String toString() {
        return reduces() ? method.wireName() + ":" + keep : "none";
    }
}
