import NIOCore
import Testing

@testable import AccordRPC

@Suite("When connections write")
struct FlushPolicyTests {
    @Test("one write per tick, or at once every N calls or 64 KiB")
    func steps() {
        var policy = FlushPolicy(everyCalls: 3)
        policy.callWritten()
        #expect(policy.step(pendingBytes: 100) == .scheduleWrite)
        policy.callWritten()
        #expect(policy.step(pendingBytes: 200) == .wait)
        policy.callWritten()
        #expect(policy.step(pendingBytes: 300) == .writeNow)
        policy.written()
        #expect(policy.step(pendingBytes: 10) == .scheduleWrite)
        #expect(policy.step(pendingBytes: FlushPolicy.maxPendingBytes) == .writeNow)
    }

    @Test("handing over pending bytes leaves room only while calls are in progress, reusing the last buffer")
    func takePending() {
        let allocator = ByteBufferAllocator()
        var spare: ByteBuffer?
        var buffer = ByteBuffer()
        #expect(buffer.takePending(keepRoom: true, spare: &spare, allocator: allocator) == nil)
        buffer.writeString("frames")
        let written = buffer.takePending(keepRoom: true, spare: &spare, allocator: allocator)
        #expect(written == ByteBuffer(string: "frames"))
        #expect(buffer.readableBytes == 0 && buffer.capacity >= 4096)
        // Once written, the buffer comes back empty for the flush after next, storage and all.
        spare = written?.recycled()
        #expect(spare?.readableBytes == 0 && (spare?.capacity ?? 0) > 0)
        buffer.writeString("more")
        let reused = spare?.capacity
        _ = buffer.takePending(keepRoom: true, spare: &spare, allocator: allocator)
        #expect(spare == nil && buffer.capacity == reused)
        buffer.writeString("last")
        _ = buffer.takePending(keepRoom: false, spare: &spare, allocator: allocator)
        #expect(buffer.capacity == 0)
        // A buffer grown by a large message is let go rather than kept.
        var large = ByteBuffer(repeating: 1, count: FlushPolicy.maxPendingBytes + 1)
        large.moveReaderIndex(forwardBy: 1)
        #expect(large.recycled() == nil)
    }
}
