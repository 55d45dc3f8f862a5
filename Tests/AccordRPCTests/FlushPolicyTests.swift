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

    @Test("handing over pending bytes leaves room only while calls are in progress")
    func takePending() {
        var buffer = ByteBuffer()
        #expect(buffer.takePending(keepRoom: true, allocator: ByteBufferAllocator()) == nil)
        buffer.writeString("frames")
        #expect(buffer.takePending(keepRoom: true, allocator: ByteBufferAllocator()) == ByteBuffer(string: "frames"))
        #expect(buffer.readableBytes == 0 && buffer.capacity >= 4096)
        buffer.writeString("more")
        _ = buffer.takePending(keepRoom: false, allocator: ByteBufferAllocator())
        #expect(buffer.capacity == 0)
    }
}
