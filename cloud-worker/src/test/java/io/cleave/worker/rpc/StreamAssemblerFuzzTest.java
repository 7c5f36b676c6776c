package io.cleave.worker.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.InferFrame;
import io.cleave.worker.WorkerConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Set;

/**
 * Any sequence of frames, against the committed pack, is assembled and decoded into the values the
 * pack's next segment takes, or refused with a caller's status (INVALID_ARGUMENT, NOT_FOUND,
 * RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED); any other exception is a bug. The frames are handled as
 * {@code InferenceService}'s stream handler does, up to the job it would submit.
 *
 * <p>Input: length-delimited {@code InferFrame}s ({@code writeDelimitedTo}), read until the bytes
 * stop being frames (unparsable bytes are the marshaller's concern, fuzzed on their own).
 */
class StreamAssemblerFuzzTest {
    private static final ModelPack PACK = TestPacks.pack();
    private static final Preprocessor PREPROCESSOR = new Preprocessor(PACK);
    private static final long MAX_PAYLOAD = WorkerConfig.DEFAULT_MAX_MESSAGE_BYTES * 64L; // the worker's default
    private static final Set<ErrorCode> CALLER_MISTAKES = EnumSet.of(ErrorCode.INVALID_ARGUMENT, ErrorCode.NOT_FOUND,
            ErrorCode.RESOURCE_EXHAUSTED, ErrorCode.DEADLINE_EXCEEDED);

    @FuzzTest
    void assemble(byte[] frames) {
        ByteArrayInputStream in = new ByteArrayInputStream(frames);
        StreamAssembler stream = null;
        try {
            for (InferFrame f; (f = next(in)) != null; ) {
                if (f.hasHeader()) {
                    if (stream != null) {
                        return; // a second header: refused by the handler before the assembler sees it
                    }
                    stream = new StreamAssembler(f.getHeader(), PACK, MAX_PAYLOAD);
                } else if (f.hasChunk()) {
                    if (stream == null || stream.complete()) {
                        return; // a chunk before the header or after the payload: refused by the handler
                    }
                    if (stream.add(f.getChunk().getData())) {
                        submit(stream);
                    }
                } else {
                    return;
                }
            }
        } catch (CleaveException e) {
            assertThat(e.code()).as(e.getMessage()).isIn(CALLER_MISTAKES);
        }
    }

    /** What the handler does with a complete payload before it becomes a job. */
    private static void submit(StreamAssembler stream) {
        float[] values = stream.decode();
        int split = stream.header().getSplit();
        int expected = stream.header().getShapeList().stream().reduce(1, (a, b) -> a * b);
        assertThat(values).hasSize(expected);
        Encoding enc = stream.header().getEncoding();
        if (split == 0 && (enc == Encoding.U8_IMAGE || enc == Encoding.JPEG)) {
            PREPROCESSOR.apply(values, 1);
        }
    }

    private static InferFrame next(ByteArrayInputStream in) {
        try {
            return InferFrame.parseDelimitedFrom(in);
        } catch (IOException e) {
            return null;
        }
    }
}
