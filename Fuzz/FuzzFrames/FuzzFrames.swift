import AccordWire
import FuzzDriver
import NIOCore

/// libFuzzer target: a byte stream as a server reads it from a client, cut into reads where the
/// first byte says, through the frame decoder and the call payload decoders. A failure must be
/// a thrown WireError, never a crash, a leak or an allocation beyond the frame limit.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let step = Int(bytes[0] % 61) + 1
    var decoder = WireDecoder(peerRole: .client, maxFrameLength: 64 << 10)
    var pending = ByteBuffer()
    var offset = 1
    while offset < size {
        let end = min(size, offset + step)
        pending.writeBytes(UnsafeBufferPointer(rebasing: bytes[offset..<end]))
        offset = end
        do {
            while let event = try decoder.decode(buffer: &pending) {
                guard case .frame(let frame) = event else { continue }
                switch frame.type {
                case .headers: _ = try? CallHeaders.decode(from: frame.payload)
                case .trailers: _ = try? CallTrailers.decode(from: frame.payload)
                case .goAway: _ = try? GoAway.decode(from: frame.payload)
                default: break
                }
            }
        } catch {
            return 0
        }
    }
    return 0
}

@_cdecl("FuzzFrames_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { fuzzFrames($0, $1) }
}
