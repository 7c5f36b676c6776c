package io.cleave.cli;

import io.cleave.core.pack.ModelPack;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The one place that makes imported packs on demand: named recipes for {@code onnx-models/import_vit.py
 * --random-init}, too large to commit (DeiT-S: 132 MB) but reproducible from the recipe. A pack
 * already made is reused. Needs a Python with PyTorch and torchvision (Debian's, at /usr/bin/python3).
 */
final class PackMaker {
    /** A named random-weights pack: its id and import_vit.py's geometry arguments. */
    record Recipe(String name, String id, String what, List<String> args) {}

    static final Recipe DEIT_TINY = new Recipe("deit-tiny", "deit-tiny-random",
            "DeiT-Tiny geometry: 224x224, patch 16, 12 blocks, width 192, 3 heads; only the model's own head",
            List.of("--image", "224", "--patch", "16", "--dim", "192", "--depth", "12", "--heads", "3", "--mlp-ratio", "4",
                    "--classes", "1000"));

    static final Recipe DEIT_S = new Recipe("deit-s", "deit-s-random",
            "DeiT-Small geometry: 224x224, patch 16, 12 blocks, width 384, 6 heads; exits after blocks 2, 4, 6, 9 (ViT layer) and 12; "
                    + "reducible (token reduction at any split)",
            List.of("--image", "224", "--patch", "16", "--dim", "384", "--depth", "12", "--heads", "6", "--mlp-ratio", "4",
                    "--classes", "1000", "--exits", "2:vit,4:vit,6:vit,9:vit", "--interpolation", "bicubic", "--reducible"));

    static final List<Recipe> RECIPES = List.of(DEIT_TINY, DEIT_S);

    private final String python;
    private final Path home;

    PackMaker(String python, Path home) {
        this.python = python;
        this.home = home;
    }

    static Recipe recipe(String name) {
        return RECIPES.stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "no pack recipe named '" + name + "'; known: " + RECIPES.stream().map(Recipe::name).toList()));
    }

    /** Where a recipe's pack goes unless told otherwise: target/ID under the project. */
    Path defaultOut(Recipe r) {
        return home.resolve("target").resolve(r.id());
    }

    /** The recipe's pack in {@code out}: reused if a pack of that id is there (unless {@code force}), else made now. */
    Path make(Recipe r, Path out, boolean force) throws IOException, InterruptedException {
        if (!force && Files.isRegularFile(out.resolve("manifest.json")) && ModelPack.load(out).id().equals(r.id())) {
            return out;
        }
        checkPython();
        List<String> cmd = new ArrayList<>(List.of(python, home.resolve("onnx-models/import_vit.py").toString(), "--random-init"));
        cmd.addAll(r.args());
        cmd.addAll(List.of("--id", r.id(), "--out", out.toString()));
        System.err.println("making pack " + r.name() + " (" + r.what() + ", random weights) in " + out);
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectErrorStream(false).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("making pack " + r.name() + " failed (" + python + " onnx-models/import_vit.py): "
                    + err.strip().lines().reduce((a, b) -> b).orElse("no message"));
        }
        return out;
    }

    /** One line naming what is missing, instead of a Python traceback. */
    private void checkPython() throws IOException, InterruptedException {
        String why;
        try {
            Process p = new ProcessBuilder(python, "-c", "import torch, torchvision").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor(2, TimeUnit.MINUTES) && p.exitValue() == 0) {
                return;
            }
            why = out.strip().lines().reduce((a, b) -> b).orElse("exit " + p.exitValue());
        } catch (IOException e) {
            why = "cannot run it (" + e.getMessage() + ")";
        }
        throw new IOException("making packs needs " + python + " with PyTorch and torchvision (Debian: apt-get install "
                + "python3-torch python3-torchvision; or --python PATH): " + why);
    }
}
