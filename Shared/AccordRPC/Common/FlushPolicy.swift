import NIOCore

/// When a connection writes the frames it has collected: at the end of the event-loop tick, or
/// at once when `everyCalls` calls or 64 KiB are pending, so that the peer starts on the first
/// calls of a burst while later ones are still being made.
struct FlushPolicy {
    enum Step: Equatable {
        /// Write now.
        case writeNow
        /// Enqueue one write at the end of this tick.
        case scheduleWrite
        /// A write is already enqueued.
        case wait
    }

    static let maxPendingBytes = 64 << 10

    let everyCalls: Int
    private var scheduled = false
    private var unflushedCalls = 0

    init(everyCalls: Int) {
        self.everyCalls = everyCalls
    }

    /// Counts a call whose frames were added (a request sent or a call ended).
    mutating func callWritten() {
        self.unflushedCalls += 1
    }

    /// What to do after adding frames, with `pendingBytes` waiting.
    mutating func step(pendingBytes: Int) -> Step {
        if self.unflushedCalls >= self.everyCalls || pendingBytes >= Self.maxPendingBytes { return .writeNow }
        if self.scheduled { return .wait }
        self.scheduled = true
        return .scheduleWrite
    }

    /// Everything pending was handed to the channel.
    mutating func written() {
        self.scheduled = false
        self.unflushedCalls = 0
    }
}

extension ByteBuffer {
    /// Hands over the pending bytes and leaves an empty buffer: with room when more calls are
    /// coming, without storage when the connection is idle. Nil when nothing is pending.
    mutating func takePending(keepRoom: Bool, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard self.readableBytes > 0 else { return nil }
        let pending = self
        self = keepRoom ? allocator.buffer(capacity: 4096) : ByteBuffer()
        return pending
    }
}
