import AccordSheets
import FuzzDriver

/// libFuzzer target: bytes as an ICE sheet file, read as `accord import ice-sheet` reads it:
/// every row imported or refused with its line, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzICESheet(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? ICESheet.read(csv: bytes)  // reads the records with CSV.records(bytes:maxRecordBytes:) first
    return 0
}

@_cdecl("FuzzICESheet_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { fuzzICESheet($0, $1) }
}
