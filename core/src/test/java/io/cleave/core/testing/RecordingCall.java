package io.cleave.core.testing;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A client-streaming call under test: keeps every response and how the call ended; {@link #req}
 * (set when the call starts) sends requests, half-closes or cancels.
 */
public final class RecordingCall<ReqT, RespT> implements ClientResponseObserver<ReqT, RespT> {
    public final List<RespT> results = new CopyOnWriteArrayList<>();
    public final CompletableFuture<Status> end = new CompletableFuture<>();
    public ClientCallStreamObserver<ReqT> req;

    @Override
    public void beforeStart(ClientCallStreamObserver<ReqT> r) {
        req = r;
    }

    @Override
    public void onNext(RespT r) {
        results.add(r);
    }

    @Override
    public void onError(Throwable t) {
        end.complete(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
        end.complete(Status.OK);
    }
}
