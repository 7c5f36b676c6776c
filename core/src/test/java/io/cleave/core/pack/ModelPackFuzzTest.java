package io.cleave.core.pack;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.testing.TestImages;
import io.cleave.core.testing.TestPacks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * Any {@code manifest.json} loads, or fails FAILED_PRECONDITION naming the broken file (a broken
 * pack on disk); nothing else may come out. A manifest that loads is one the servers can use: its
 * segment shapes and preprocessing are built without error, as every server does right after
 * loading.
 *
 * <p>The manifest sits in a folder of stand-ins for the files of the committed version-1 pack and
 * of the tiny version-2 {@code tiny-torchvision} pack (under {@code v2/}): each holds its own name,
 * so a load that reaches the checksums costs microseconds, not a hash of megabytes of graphs. The
 * seeds {@code v1-minimal.json} and {@code v2-minimal.json} carry the stand-ins' checksums and load
 * to the end; the committed manifest itself stops at its first checksum.
 */
class ModelPackFuzzTest {
    @TempDir
    static Path pack;

    @BeforeAll
    static void standIns() throws IOException {
        standIns(TestPacks.pack(), "");
        standIns(ModelPack.load(TestImages.resource("packs/tiny-torchvision")), "v2/");
    }

    private static void standIns(ModelPack source, String prefix) throws IOException {
        for (String name : source.manifest().files().keySet()) {
            Path f = pack.resolve(prefix + name);
            Files.createDirectories(f.getParent());
            Files.writeString(f, prefix + name, StandardCharsets.UTF_8);
        }
    }

    @FuzzTest
    void load(byte[] manifest) throws IOException {
        Files.write(pack.resolve("manifest.json"), manifest);
        ModelPack loaded;
        try {
            loaded = ModelPack.load(pack);
        } catch (CleaveException e) {
            assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.FAILED_PRECONDITION);
            assertThat(e.getMessage()).startsWith("model pack file ");
            return;
        }
        Segments.of(loaded).payloadShape(0);
        new Preprocessor(loaded).size();
    }
}
