package io.cleave.cli;

import com.google.gson.GsonBuilder;
import com.google.protobuf.UnsafeByteOperations;
import io.cleave.core.codec.JpegCodec;
import io.cleave.core.codec.TensorCodec;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.pack.Segments;
import io.cleave.edge.cloud.CloudCall;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.InferFrame;
import io.cleave.proto.v1.InferHeader;
import io.cleave.proto.v1.TensorChunk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Bytes one split request sends to a worker, for each thing a device can send: the prepared input
 * (raw 8-bit, or JPEG at two qualities) at split 0, and tokens in each encoding at any later split;
 * the default pack beside --pack.
 */
@Command(name = "bytes", mixinStandardHelpOptions = true,
        description = "Bytes per split request, the default pack beside --pack: raw 8-bit input and JPEG input (quality 75 and 90) "
                + "at split 0, fp32/fp16/int8 tokens at splits 1..N-1 (a ViT's tokens have one size after every block). Payload, and "
                + "on the wire: the request's protobuf frames as the edge writes them plus gRPC's 5-byte message prefix (HTTP/2 "
                + "framing not counted). Prints both and the ratio.")
final class BytesBench implements Callable<Integer> {
    /** JPEG qualities measured (the wire's JpegCodec, as the edge sends them). */
    static final int[] JPEG_QUALITIES = {75, 90};

    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--json", description = "print the result as JSON (default: off)")
    boolean json;

    /** One kind of request: what it sends at which splits, its payload and its bytes on the wire (means over the inputs). */
    record Row(String what, String splits, double payloadBytes, double wireBytes) {}

    /** One pack's rows and the inputs they were measured on. */
    record PackBytes(String pack, boolean trained, String inputs, List<Row> rows) {}

    @Override
    public Integer call() throws Exception {
        List<Path> packs = new ArrayList<>(List.of(Paths.defaultPack()));
        if (packOptions.pack != null && !Files.isSameFile(packOptions.pack(), Paths.defaultPack())) {
            packs.add(packOptions.pack());
        }
        List<PackBytes> all = new ArrayList<>();
        List<ModelPack> loaded = new ArrayList<>();
        for (Path p : packs) {
            loaded.add(ModelPack.load(p));
            all.add(measure(loaded.get(loaded.size() - 1)));
        }
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("chunkBytes", CloudCall.CHUNK_BYTES);
            out.put("packs", all);
            System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(out));
            return 0;
        }
        loaded.forEach(p -> Untrained.print(System.out, p));
        System.out.println("bytes per split request (payload / on the wire: protobuf frames + gRPC message prefixes, HTTP/2 framing not counted)");
        for (PackBytes pb : all) {
            System.out.println("  " + pb.pack() + ": " + pb.inputs());
        }
        StringBuilder head = new StringBuilder(String.format("%-24s", "request"));
        all.forEach(pb -> head.append(String.format("%-18s %24s", "  " + pb.pack() + " splits", "payload / wire B")));
        if (all.size() == 2) {
            head.append(String.format("%16s", "ratio (wire)"));
        }
        System.out.println(head);
        for (int i = 0; i < all.get(0).rows().size(); i++) {
            StringBuilder s = new StringBuilder(String.format("%-24s", all.get(0).rows().get(i).what()));
            for (PackBytes pb : all) {
                Row r = pb.rows().get(i);
                s.append(String.format(Locale.ROOT, "%-18s %24s", "  " + r.splits(),
                        String.format(Locale.ROOT, "%.0f / %.0f", r.payloadBytes(), r.wireBytes())));
            }
            if (all.size() == 2) {
                s.append(String.format(Locale.ROOT, "%15.1fx", all.get(1).rows().get(i).wireBytes() / all.get(0).rows().get(i).wireBytes()));
            }
            System.out.println(s);
        }
        return 0;
    }

    static PackBytes measure(ModelPack pack) throws IOException {
        List<byte[]> images = BenchInputs.images(pack, 100);
        Segments segments = Segments.of(pack);
        List<Integer> in = segments.payloadShape(0).subList(1, 4); // [C, H, W]
        List<Row> rows = new ArrayList<>();
        rows.add(row(pack, "input, raw 8-bit", "0", 0, Encoding.U8_IMAGE, images));
        for (int q : JPEG_QUALITIES) {
            List<byte[]> jpegs = new ArrayList<>();
            for (byte[] img : images) {
                jpegs.add(JpegCodec.encode(img, in.get(0), in.get(1), in.get(2), q)); // what the edge sends
            }
            rows.add(row(pack, "input, JPEG q" + q, "0", 0, Encoding.JPEG, jpegs));
        }
        int n = pack.blockCount();
        int[] ts = segments.tokenShape(1);
        int t = ts[1];
        int d = ts[2];
        float[] tokens = new float[t * d];
        for (Encoding e : List.of(Encoding.FP32, Encoding.FP16, Encoding.INT8)) {
            rows.add(row(pack, "tokens, " + e.name().toLowerCase(Locale.ROOT), "1.." + (n - 1), 1, e,
                    List.of(TensorCodec.encode(tokens, d, e))));
        }
        Manifest.Preprocessing prep = pack.manifest().input().preprocessing();
        String source = prep.resize() != null
                ? "the committed photos " + BenchInputs.PHOTOS + " prepared per the pack (resize " + prep.resize() + " "
                        + prep.interpolation() + ", centre crop)"
                : "the first " + images.size() + " committed test images";
        String inputs = "input " + in + ", " + source + ", JPEG-encoded by the wire codec (mean); tokens " + t + "x" + d;
        return new PackBytes(pack.id(), pack.trained(), inputs, rows);
    }

    /** Mean payload and wire bytes of requests carrying these payloads. */
    private static Row row(ModelPack pack, String what, String splits, int split, Encoding enc, List<byte[]> payloads) {
        double payload = 0;
        double wire = 0;
        for (byte[] p : payloads) {
            payload += p.length;
            wire += wireBytes(pack, split, enc, p);
        }
        return new Row(what, splits, payload / payloads.size(), wire / payloads.size());
    }

    /** The frames the edge writes for one request (header, then chunks of CHUNK_BYTES), each with gRPC's 5-byte prefix. */
    static long wireBytes(ModelPack pack, int split, Encoding enc, byte[] payload) {
        List<Integer> shape = Segments.of(pack).payloadShape(split);
        InferHeader h = InferHeader.newBuilder().setRequestId(UUID.nameUUIDFromBytes(payload).toString()).setModelId(pack.id())
                .setModelVersion(pack.version()).setSplit(split).setEncoding(enc).addAllShape(shape).setDeadlineBudgetUs(30_000)
                .setPayloadBytes(payload.length).build();
        long bytes = 5 + InferFrame.newBuilder().setHeader(h).build().getSerializedSize();
        for (int off = 0; off < payload.length; off += CloudCall.CHUNK_BYTES) {
            int len = Math.min(CloudCall.CHUNK_BYTES, payload.length - off);
            bytes += 5 + InferFrame.newBuilder().setChunk(TensorChunk.newBuilder().setData(UnsafeByteOperations.unsafeWrap(payload, off, len)))
                    .build().getSerializedSize();
        }
        return bytes;
    }
}
