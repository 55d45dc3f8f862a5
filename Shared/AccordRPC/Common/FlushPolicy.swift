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
    /// Hands over the pending bytes and leaves an empty buffer: when more calls are coming, the
    /// spare (the buffer written last time) or one with room, and without storage when the
    /// connection is idle. Nil when nothing is pending.
    mutating func takePending(keepRoom: Bool, spare: inout ByteBuffer?, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard self.readableBytes > 0 else { return nil }
        let pending = self
        if keepRoom {
            self = spare ?? allocator.buffer(capacity: 4096)
        } else {
            self = ByteBuffer()
        }
        spare = nil
        return pending
    }

    /// A written buffer emptied for the next writes: its storage is reused as is once the channel
    /// has let go of it (after a complete write), so a busy connection does not allocate one per
    /// flush. Nil for a buffer grown past 64 KiB (a large message), which is let go.
    consuming func recycled() -> ByteBuffer? {
        guard self.capacity <= FlushPolicy.maxPendingBytes else { return nil }
        self.clear()
        return self
    }
}
