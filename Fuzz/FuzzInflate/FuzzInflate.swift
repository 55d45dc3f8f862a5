import AccordRPC
import NIOCore

/// libFuzzer target: bytes as a compressed message, inflated as a receiver does, within a
/// 64 KiB limit: the output never passes the limit, and a bomb or a corrupt stream is an error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInflate(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let limit = 64 << 10
    let input = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    let decompressor = ZlibDecompressor()
    if let output = try? decompressor.decompress(input, limit: limit, allocator: ByteBufferAllocator()) {
        precondition(output.readableBytes <= limit, "inflated \(output.readableBytes) bytes past the limit")
    }
    return 0
}

// SwiftPM links an executable with its entry point named FuzzInflate_main: it hands the run to
// libFuzzer's driver, which reads the flags and the corpus folders.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

@_cdecl("FuzzInflate_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzzInflate(data, size) }
}
