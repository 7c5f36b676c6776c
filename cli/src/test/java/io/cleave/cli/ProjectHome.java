package io.cleave.cli;

import java.nio.file.Path;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Points {@code cleave.home} at the repository for a test class, as the launcher does (the default pack, the committed
 * photos and bench_torch.py are found under it; the surefire JVM runs in {@code cli/}), and puts back what was there.
 */
final class ProjectHome implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(ProjectHome.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        String before = System.getProperty("cleave.home");
        context.getStore(NS).put("before", before == null ? "" : before);
        System.setProperty("cleave.home", Path.of("..").toAbsolutePath().normalize().toString());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        String before = context.getStore(NS).get("before", String.class);
        if (before == null || before.isEmpty()) {
            System.clearProperty("cleave.home");
        } else {
            System.setProperty("cleave.home", before);
        }
    }
}
