import AccordWire
import FuzzDriver
import NIOCore

/// One decompressor for every input, reset before each as a connection's is for each message:
/// what one stream leaves behind must not change how the next is read.
nonisolated(unsafe) let decompressor = ZlibDecompressor()

/// libFuzzer target: bytes as a compressed message, inflated as a receiver does, within a
/// 64 KiB limit: the output never passes the limit, and a bomb or a corrupt stream is an error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInflate(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let limit = 64 << 10
    let input = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    if let output = try? decompressor.decompress(input, limit: limit, allocator: ByteBufferAllocator()) {
        precondition(output.readableBytes <= limit, "inflated \(output.readableBytes) bytes past the limit")
    }
    return 0
}

@_cdecl("FuzzInflate_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { fuzzInflate($0, $1) }
}
