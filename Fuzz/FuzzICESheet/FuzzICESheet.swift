import AccordCSV
import AccordSheets

/// libFuzzer target: bytes as an ICE sheet file, read as `accord import ice-sheet` reads it:
/// every row imported or refused with its line, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzICESheet(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = CSV.records(bytes: bytes, maxRecordBytes: 4096)
    _ = try? ICESheet.read(csv: bytes)
    return 0
}

// SwiftPM links an executable with its entry point named FuzzICESheet_main: it hands the run to
// libFuzzer's driver, which reads the flags and the corpus folders.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

@_cdecl("FuzzICESheet_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzzICESheet(data, size) }
}
