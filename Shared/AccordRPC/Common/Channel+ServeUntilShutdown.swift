public import NIOCore
import ServiceLifecycle

extension Channel {
    /// Waits until this listening channel closes, closing it first when the task is cancelled
    /// or a graceful shutdown begins.
    public func serveUntilShutdown() async {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                try? await self.closeFuture.get()
            } onCancel: {
                self.close(promise: nil)
            }
        } onGracefulShutdown: {
            self.close(promise: nil)
        }
    }
}
