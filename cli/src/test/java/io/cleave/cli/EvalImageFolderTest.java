package io.cleave.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cleave.core.data.Dataset;
import io.cleave.core.data.IdxReader;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.PackStats;
import io.cleave.core.testing.TestImages;
import io.cleave.proto.v1.Encoding;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eval --images DIR --encodings} on a version-2 RGB pack (tiny-trained-exits: a tiny
 * torchvision ViT trained on four Fashion-MNIST classes, 28x28 RGB input): the committed test
 * images of those classes written as PNG files in ImageFolder layout, measured per exit, and the
 * JPEG rows written into encodings.json, so the planner offers JPEG input for the pack.
 */
@org.junit.jupiter.api.extension.ExtendWith(ProjectHome.class)
class EvalImageFolderTest {



    @Test
    void imageFolder_measuresAnRgbPack_andRecordsJpegForThePlanner(@TempDir Path dir) throws Exception {
        Path pack = copy(TestImages.resource("packs/tiny-trained-exits"), dir.resolve("pack"));
        List<String> labels = ModelPack.load(pack).manifest().labels(); // 00-T-shirt-top .. 03-Dress: Fashion-MNIST classes 0-3
        Path folder = dir.resolve("images");
        Dataset t10k = IdxReader.read(Paths.defaultData(), "t10k");
        int[] written = new int[labels.size()];
        for (int i = 0; i < t10k.size(); i++) {
            int c = t10k.labels()[i];
            if (c < labels.size() && written[c] < 40) {
                BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
                img.getRaster().setDataElements(0, 0, 28, 28, t10k.image(i));
                Files.createDirectories(folder.resolve(labels.get(c)));
                ImageIO.write(img, "png", folder.resolve(labels.get(c)).resolve(String.format("%05d.png", i)).toFile());
                written[c]++;
            }
        }
        BenchSmokeTest.Run r = BenchSmokeTest.cleave("eval", "--pack", pack.toString(), "--images", folder.toString(), "--encodings",
                "--jpeg-qualities", "50,90", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertThat(o.get("images").getAsInt()).isEqualTo(160);
        assertThat(o.get("trained").getAsBoolean()).isTrue();
        JsonArray exits = o.getAsJsonArray("exits");
        assertThat(exits).hasSize(3);
        double head = exits.get(2).getAsJsonObject().get("accuracy").getAsDouble();
        System.out.printf("tiny-trained-exits on 160 committed test images as PNG folders: exit accuracy %s%n", exits);
        assertThat(head).as("a trained head on its own four classes, chance 0.25").isGreaterThan(0.4);

        JsonObject enc = JsonParser.parseString(Files.readString(pack.resolve("encodings.json"))).getAsJsonObject();
        assertThat(enc.get("images").getAsInt()).isEqualTo(160);
        assertThat(enc.get("imageSource").getAsString()).isEqualTo("image folder images");
        List<JsonObject> jpeg = new ArrayList<>();
        enc.getAsJsonArray("rows").forEach(e -> {
            if (e.getAsJsonObject().get("encoding").getAsString().equals("JPEG")) {
                jpeg.add(e.getAsJsonObject());
            }
        });
        assertThat(jpeg).extracting(j -> j.get("quality").getAsInt()).containsExactly(50, 90);
        for (JsonObject j : jpeg) {
            assertThat(j.get("bytes").getAsLong()).isPositive().isLessThan(3 * 28 * 28);
            assertThat(j.getAsJsonArray("exitAccuracy")).hasSize(3);
            System.out.printf("JPEG q%d: %d bytes, exit accuracy %s%n", j.get("quality").getAsInt(), j.get("bytes").getAsLong(),
                    j.getAsJsonArray("exitAccuracy"));
        }
        // the planner now knows what JPEG input costs for this pack, and offers it
        PackStats stats = PackStats.of(ModelPack.load(pack), 90);
        assertThat(stats.bytes(0, Encoding.JPEG)).isLessThan(3 * 28 * 28);
        assertThat(stats.accuracy(2, 0, Encoding.JPEG, true)).isNotNaN().isGreaterThan(0.4);
        assertThat(PackStats.of(ModelPack.load(TestImages.resource("packs/tiny-trained-exits")), 90).accuracy(2, 0, Encoding.JPEG, true))
                .as("without encodings.json: never measured").isNaN();
    }

    @Test
    void rgbPackWithoutImages_isOneLineSayingWhatToGive() {
        BenchSmokeTest.Run r = BenchSmokeTest.cleave("eval", "--pack", TestImages.resource("packs/tiny-deit").toString(), "--limit", "10");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).contains("takes [3, 32, 32] images").contains("give --images DIR");
    }

    @Test
    void folderNotALabel_isNamed(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("cats"));
        BenchSmokeTest.Run r = BenchSmokeTest.cleave("eval", "--pack", TestImages.resource("packs/tiny-trained-exits").toString(),
                "--images", dir.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("folder 'cats' is not one of the pack's labels");
    }

    private static Path copy(Path from, Path to) throws Exception {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path dst = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(f, dst);
                }
            }
        }
        return to;
    }
}
