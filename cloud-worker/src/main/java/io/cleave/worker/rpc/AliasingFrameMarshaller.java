package io.cleave.worker.rpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import io.cleave.proto.v1.InferFrame;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;

/**
 * Parses inbound {@link InferFrame}s with one copy: the frame is read once into an array of its
 * exact size and parsed with aliasing, so a chunk's bytes are that array, not a second copy (the
 * stock marshaller reads into a scratch buffer and then copies every bytes field again). The
 * arrays are owned by the frame, so there is no buffer lifetime to manage.
 */
final class AliasingFrameMarshaller implements MethodDescriptor.Marshaller<InferFrame> {
    private final MethodDescriptor.Marshaller<InferFrame> stock = ProtoUtils.marshaller(InferFrame.getDefaultInstance());

    @Override
    public InputStream stream(InferFrame value) {
        return stock.stream(value);
    }

    @Override
    public InferFrame parse(InputStream in) {
        if (!(in instanceof KnownLength)) {
            return stock.parse(in);
        }
        try {
            int size = in.available();
            byte[] buf = new byte[size];
            int off = 0;
            while (off < size) {
                int n = in.read(buf, off, size - off);
                if (n < 0) {
                    throw new IOException("frame ended after " + off + " of " + size + " bytes");
                }
                off += n;
            }
            CodedInputStream cis = CodedInputStream.newInstance(buf);
            cis.enableAliasing(true);
            cis.setSizeLimit(Integer.MAX_VALUE);
            return InferFrame.parseFrom(cis, ExtensionRegistryLite.getEmptyRegistry());
        } catch (InvalidProtocolBufferException e) {
            throw Status.INTERNAL.withDescription("invalid InferFrame: " + e.getMessage()).withCause(e).asRuntimeException();
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription("cannot read InferFrame: " + e.getMessage()).withCause(e).asRuntimeException();
        }
    }

    /** The service with its Infer method's request marshaller swapped for this one. */
    @SuppressWarnings("unchecked")
    static ServerServiceDefinition bind(InferenceService service) {
        ServerServiceDefinition stock = service.bindService();
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(stock.getServiceDescriptor().getName());
        for (ServerMethodDefinition<?, ?> m : stock.getMethods()) {
            if (m.getMethodDescriptor().getFullMethodName().equals(InferenceWorkerGrpc.getInferMethod().getFullMethodName())) {
                ServerMethodDefinition<InferFrame, io.cleave.proto.v1.ExitResult> infer =
                        (ServerMethodDefinition<InferFrame, io.cleave.proto.v1.ExitResult>) m;
                b.addMethod(infer.getMethodDescriptor().toBuilder(new AliasingFrameMarshaller(),
                        infer.getMethodDescriptor().getResponseMarshaller()).build(), infer.getServerCallHandler());
            } else {
                b.addMethod(m);
            }
        }
        return b.build();
    }
}
