package io.cleave.worker.rpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;
import java.util.Set;

/**
 * Parses inbound payload-carrying messages ({@code InferFrame}, {@code TensorChunk}) with one
 * copy: the message is read once into an array of its exact size and parsed with aliasing, so a
 * chunk's bytes are that array, not a second copy (the stock marshaller reads into a scratch
 * buffer and then copies every bytes field again). The arrays are owned by the message, so there
 * is no buffer lifetime to manage.
 */
final class AliasingMarshaller<T extends Message> implements MethodDescriptor.Marshaller<T> {
    private final MethodDescriptor.Marshaller<T> stock;
    private final Parser<T> parser;
    private final String type;

    @SuppressWarnings("unchecked")
    AliasingMarshaller(T defaultInstance) {
        this.stock = ProtoUtils.marshaller(defaultInstance);
        this.parser = (Parser<T>) defaultInstance.getParserForType();
        this.type = defaultInstance.getClass().getSimpleName();
    }

    @Override
    public InputStream stream(T value) {
        return stock.stream(value);
    }

    @Override
    public T parse(InputStream in) {
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
                    throw new IOException("message ended after " + off + " of " + size + " bytes");
                }
                off += n;
            }
            return parse(buf);
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription("cannot read " + type + ": " + e.getMessage()).withCause(e).asRuntimeException();
        }
    }

    /** Parses {@code buf}, which the message then owns: its bytes fields are views of it, not copies. */
    T parse(byte[] buf) {
        // a CodedInputStream over an immutable ByteString may alias; one over a plain array copies every bytes field
        CodedInputStream cis = UnsafeByteOperations.unsafeWrap(buf).newCodedInput();
        cis.enableAliasing(true);
        cis.setSizeLimit(Integer.MAX_VALUE);
        try {
            return parser.parseFrom(cis, ExtensionRegistryLite.getEmptyRegistry());
        } catch (InvalidProtocolBufferException e) {
            throw Status.INTERNAL.withDescription("invalid " + type + ": " + e.getMessage()).withCause(e).asRuntimeException();
        }
    }

    /** {@code service} with the request marshaller of each method named in {@code methods} swapped for an aliasing one. */
    static ServerServiceDefinition bind(ServerServiceDefinition service, Set<MethodDescriptor<?, ?>> methods) {
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(service.getServiceDescriptor().getName());
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            if (methods.stream().anyMatch(d -> d.getFullMethodName().equals(m.getMethodDescriptor().getFullMethodName()))) {
                b.addMethod(aliased(m));
            } else {
                b.addMethod(m);
            }
        }
        return b.build();
    }

    @SuppressWarnings("unchecked")
    private static <Q, R> ServerMethodDefinition<Q, R> aliased(ServerMethodDefinition<Q, R> m) {
        MethodDescriptor.Marshaller<Q> requests = m.getMethodDescriptor().getRequestMarshaller();
        if (!(requests instanceof MethodDescriptor.PrototypeMarshaller<?> p) || !(p.getMessagePrototype() instanceof Message proto)) {
            throw new IllegalArgumentException(m.getMethodDescriptor().getFullMethodName() + " does not take protobuf messages");
        }
        MethodDescriptor.Marshaller<Q> aliasing = (MethodDescriptor.Marshaller<Q>) new AliasingMarshaller<>(proto);
        return ServerMethodDefinition.create(m.getMethodDescriptor().toBuilder(aliasing, m.getMethodDescriptor().getResponseMarshaller()).build(),
                m.getServerCallHandler());
    }
}
