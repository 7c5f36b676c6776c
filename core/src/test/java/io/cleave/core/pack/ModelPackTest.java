package io.cleave.core.pack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.testing.TestPacks;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelPackTest {
    @TempDir
    Path tmp;

    @Test
    void committedPack_loadsWithConsistentManifest() {
        ModelPack pack = TestPacks.pack();
        assertThat(pack.blockCount()).isGreaterThanOrEqualTo(8);
        assertThat(pack.exitCount()).isGreaterThanOrEqualTo(3);
        assertThat(pack.exit(pack.exitCount() - 1).afterBlock()).isEqualTo(pack.blockCount());
        assertThat(pack.classes()).isEqualTo(10);
        // deeper exits are clearly more accurate than the first
        assertThat(pack.exit(pack.exitCount() - 1).accuracy().test()).isGreaterThan(pack.exit(0).accuracy().test());
    }

    @Test
    void missingFile_isNamedInTheError() throws Exception {
        Path dir = TestPacks.copyPack(tmp.resolve("p"));
        Files.delete(dir.resolve("block_03.onnx"));
        assertThatThrownBy(() -> ModelPack.load(dir))
                .isInstanceOf(CleaveException.class)
                .hasMessageContaining("block_03.onnx")
                .hasMessageContaining("missing")
                .extracting(e -> ((CleaveException) e).code()).isEqualTo(ErrorCode.FAILED_PRECONDITION);
    }

    @Test
    void checksumMismatch_isNamedInTheError() throws Exception {
        Path dir = TestPacks.copyPack(tmp.resolve("p"));
        String exitFile = TestPacks.pack().exit(0).file();
        byte[] b = Files.readAllBytes(dir.resolve(exitFile));
        b[b.length / 2] ^= 0x5A;
        Files.write(dir.resolve(exitFile), b);
        assertThatThrownBy(() -> ModelPack.load(dir))
                .hasMessageContaining(exitFile)
                .hasMessageContaining("checksum mismatch");
    }

    @Test
    void unknownManifestVersion_isRejected() throws Exception {
        Path dir = TestPacks.copyPack(tmp.resolve("p"));
        rewriteManifest(dir, "\"formatVersion\": 1", "\"formatVersion\": 7");
        assertThatThrownBy(() -> ModelPack.load(dir))
                .hasMessageContaining("manifest.json")
                .hasMessageContaining("unknown manifest version 7");
    }

    @Test
    void notAPack_saysSo() {
        assertThatThrownBy(() -> ModelPack.load(tmp))
                .hasMessageContaining("manifest.json")
                .hasMessageContaining("missing");
    }

    @Test
    void graphOutputDisagreeingWithManifest_isNamedWithTheFile() throws Exception {
        Path dir = TestPacks.copyPack(tmp.resolve("p"));
        rewriteManifest(dir, "\"output\": \"logits\"", "\"output\": \"scores\"");
        ModelPack pack = ModelPack.load(dir);
        assertThatThrownBy(() -> SegmentEngine.open(pack, EngineOptions.defaults()))
                .isInstanceOf(CleaveException.class)
                .hasMessageContaining(TestPacks.pack().exit(0).file())
                .hasMessageContaining("graph outputs [logits] disagree with the manifest's [scores]");
    }

    @Test
    void graphInputDisagreeingWithManifest_isNamedWithTheFile() throws Exception {
        Path dir = TestPacks.copyPack(tmp.resolve("p"));
        rewriteManifest(dir, "\"input\": \"tokens_in\"", "\"input\": \"x\"");
        ModelPack pack = ModelPack.load(dir);
        assertThatThrownBy(() -> SegmentEngine.open(pack, EngineOptions.defaults()))
                .hasMessageContaining("block_01.onnx")
                .hasMessageContaining("graph inputs [tokens_in] disagree with the manifest's [x]");
    }

    @Test
    void corruptGraphWithMatchingChecksum_isReportedByFileNotByOnnxRuntimeTrace() throws Exception {
        Path dir = TestPacks.copyPack(tmp.resolve("p"));
        Files.writeString(dir.resolve("block_02.onnx"), "not an onnx graph");
        String sum = ModelPack.sha256(dir.resolve("block_02.onnx"));
        String m = Files.readString(dir.resolve("manifest.json"));
        String old = TestPacks.pack().manifest().files().get("block_02.onnx");
        Files.writeString(dir.resolve("manifest.json"), m.replace(old, sum));
        ModelPack pack = ModelPack.load(dir);
        assertThatThrownBy(() -> SegmentEngine.open(pack, EngineOptions.defaults()))
                .hasMessageStartingWith("model pack file " + dir.resolve("block_02.onnx"))
                .hasMessageContaining("ONNX Runtime cannot load it");
    }

    // regressions for ModelPackFuzzTest's findings (and their siblings): each threw a raw exception instead of naming the file

    @Test
    void malformedNumber_isUnreadableManifestNotNumberFormatException() throws Exception {
        Path dir = TestPacks.copyPack(tmp.resolve("p"));
        rewriteManifest(dir, "\"divide\": 255.0", "\"divide\": 255.0x"); // a double: Gson wraps bad ints itself
        assertBroken(dir, "unreadable");
    }

    @Test
    void nullBlock_isNamedNotNullPointerException() throws Exception {
        Path dir = TestPacks.copyPack(tmp.resolve("p"));
        rewriteManifest(dir, "\"blocks\": [", "\"blocks\": [null, ");
        assertBroken(dir, "a null block or exit");
    }

    @Test
    void nullStd_isNamedNotNullPointerException() throws Exception {
        Path dir = TestPacks.copyPack(tmp.resolve("p"));
        rewriteManifest(dir, "\"std\": [", "\"std\": [null");
        rewriteManifest(dir, "0.353", "");
        assertBroken(dir, "stds");
    }

    @Test
    void fileNameWithNul_isNamedNotInvalidPathException() throws Exception {
        Path dir = TestPacks.copyPack(tmp.resolve("p"));
        rewriteManifest(dir, "\"files\": {", "\"files\": {\"a\\u0000b\": \"00\", ");
        assertBroken(dir, "is not a path");
    }

    @Test
    void version1WithAResize_isRefusedNotHalfRead() throws Exception {
        // ModelPackFuzzTest: a version-1 manifest with a version-2 "resize" and no interpolation loaded, then Preprocessor threw
        // NullPointerException choosing the resize filter
        Path dir = TestPacks.copyPack(tmp.resolve("p"));
        rewriteManifest(dir, "\"divide\": 255.0", "\"resize\": 36, \"divide\": 255.0");
        assertBroken(dir, "resize, crop and interpolation are version-2 preprocessing");
    }

    private static void assertBroken(Path dir, String problem) {
        assertThatThrownBy(() -> ModelPack.load(dir))
                .isInstanceOf(CleaveException.class)
                .hasMessageContaining(dir.resolve("manifest.json").toString())
                .hasMessageContaining(problem)
                .satisfies(e -> assertThat(((CleaveException) e).code()).isEqualTo(ErrorCode.FAILED_PRECONDITION));
    }

    private static void rewriteManifest(Path dir, String from, String to) throws Exception {
        Path m = dir.resolve("manifest.json");
        String s = Files.readString(m, StandardCharsets.UTF_8);
        assertThat(s).contains(from);
        Files.writeString(m, s.replace(from, to));
    }
}
