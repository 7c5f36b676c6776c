package io.cleave.worker.rpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;

/**
 * Parses inbound payload-carrying messages ({@code InferFrame}, {@code TensorChunk}) with one
 * copy: the message is read once into an array of its exact size and parsed with aliasing, so a
 * chunk's bytes are that array, not a second copy (the stock marshaller reads into a scratch
 * buffer and then copies every bytes field again). The arrays are owned by the message, so there
 * is no buffer lifetime to manage. Bytes that are not a message become a {@link Parsed} failure,
 * never an exception out of the marshaller.
 */
final class AliasingMarshaller<T extends Message> implements MethodDescriptor.Marshaller<Parsed<T>> {
    private final MethodDescriptor.Marshaller<T> stock;
    private final Parser<T> parser;
    private final String type;

    @SuppressWarnings("unchecked")
    AliasingMarshaller(T defaultInstance) {
        this.stock = ProtoUtils.marshaller(defaultInstance);
        this.parser = (Parser<T>) defaultInstance.getParserForType();
        this.type = defaultInstance.getClass().getSimpleName();
    }

    /** {@code method} with requests read by an aliasing marshaller, as {@link Parsed} values. */
    @SuppressWarnings("unchecked")
    static <Q extends Message, R> MethodDescriptor<Parsed<Q>, R> parsing(MethodDescriptor<Q, R> method) {
        if (!(method.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> p)) {
            throw new IllegalArgumentException(method.getFullMethodName() + " does not take protobuf messages");
        }
        return method.toBuilder(new AliasingMarshaller<>((Q) p.getMessagePrototype()), method.getResponseMarshaller()).build();
    }

    @Override
    public InputStream stream(Parsed<T> value) {
        return stock.stream(value.get());
    }

    @Override
    public Parsed<T> parse(InputStream in) {
        byte[] buf;
        try {
            buf = in instanceof KnownLength ? readExactly(in, in.available()) : in.readAllBytes();
        } catch (IOException e) {
            // the transport's own buffer failed us: not the caller's doing
            return Parsed.failed(new CleaveException(ErrorCode.INTERNAL, "cannot read " + type + ": " + e.getMessage(), e));
        }
        return parse(buf);
    }

    /** Parses {@code buf}, which the message then owns: its bytes fields are views of it, not copies. */
    Parsed<T> parse(byte[] buf) {
        // a CodedInputStream over an immutable ByteString may alias; one over a plain array copies every bytes field
        CodedInputStream cis = UnsafeByteOperations.unsafeWrap(buf).newCodedInput();
        cis.enableAliasing(true);
        cis.setSizeLimit(Integer.MAX_VALUE);
        try {
            return Parsed.of(parser.parseFrom(cis, ExtensionRegistryLite.getEmptyRegistry()));
        } catch (InvalidProtocolBufferException e) {
            return Parsed.failed(CleaveException.invalid("invalid " + type + ": " + e.getMessage()));
        }
    }

    private static byte[] readExactly(InputStream in, int size) throws IOException {
        byte[] buf = new byte[size];
        int off = 0;
        while (off < size) {
            int n = in.read(buf, off, size - off);
            if (n < 0) {
                throw new IOException("message ended after " + off + " of " + size + " bytes");
            }
            off += n;
        }
        return buf;
    }
}
