import AccordMessages
import FuzzDriver

/// libFuzzer target: the first byte picks a message type of the schema (every request of every
/// service among them), the rest is decoded as it would be from a call: the string check, then
/// protobuf-c, within the server's limits. A failure must be a MessageDecodingError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessages(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let types = SchemaMessages.all
    let type = types[Int(data[0]) % types.count]
    let body = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let limits = DecodeLimits(maxMessageBytes: 1 << 20, maxAllocationBytes: 8 << 20)
    if let message = try? type.init(serializedBytes: body, limits: limits) {
        // What decodes must encode again.
        _ = try? message.serializedBytes()
    }
    return 0
}

@_cdecl("FuzzMessages_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { fuzzMessages($0, $1) }
}
