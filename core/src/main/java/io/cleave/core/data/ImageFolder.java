package io.cleave.core.data;

import io.cleave.core.engine.Preprocessor;
import io.cleave.core.image.ImageDecoder;
import io.cleave.core.pack.ModelPack;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A labelled image folder in torchvision's ImageFolder layout (one sub-folder of JPEG or PNG files
 * per class, named as the pack's labels), each image decoded and prepared as the pack's manifest
 * says (the edge's own preprocessing): a {@link Dataset} at the pack's input shape.
 */
public final class ImageFolder {
    private ImageFolder() {}

    public static Dataset read(Path dir, ModelPack pack) {
        List<String> labels = pack.manifest().labels();
        List<Integer> shape = pack.manifest().input().shape();
        Preprocessor prep = new Preprocessor(pack);
        List<byte[]> images = new ArrayList<>();
        List<Integer> classes = new ArrayList<>();
        try (Stream<Path> subs = Files.list(dir)) {
            List<Path> folders = subs.filter(Files::isDirectory).sorted().toList();
            if (folders.isEmpty()) {
                throw new IllegalArgumentException(dir + ": no class sub-folders (ImageFolder layout: one folder per label)");
            }
            for (Path f : folders) {
                String name = f.getFileName().toString();
                int label = labels.indexOf(name);
                if (label < 0) {
                    throw new IllegalArgumentException(dir + ": folder '" + name + "' is not one of the pack's labels " + labels);
                }
                try (Stream<Path> files = Files.list(f)) {
                    for (Path img : files.filter(Files::isRegularFile).sorted().toList()) {
                        try {
                            images.add(prep.pixels(ImageDecoder.decode(Files.readAllBytes(img))));
                        } catch (RuntimeException e) {
                            throw new IllegalArgumentException(img + ": " + e.getMessage(), e);
                        }
                        classes.add(label);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
        if (images.isEmpty()) {
            throw new IllegalArgumentException(dir + ": no images in its class folders");
        }
        int size = images.get(0).length;
        byte[] all = new byte[images.size() * size];
        for (int i = 0; i < images.size(); i++) {
            System.arraycopy(images.get(i), 0, all, i * size, size);
        }
        return new Dataset(all, classes.stream().mapToInt(Integer::intValue).toArray(), shape.get(0), shape.get(1), shape.get(2));
    }
}
