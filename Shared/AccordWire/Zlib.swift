internal import CAccordZlib
public import NIOCore

/// zlib-format deflate of single messages, reusing one stream per connection (`deflateReset`).
/// Not thread-safe: a connection uses it on its event loop. Public for the benchmark package.
public final class ZlibCompressor {
    private var stream = z_stream()

    public init(level: Int32 = 6) {
        let status = accord_deflate_init(&self.stream, level)
        precondition(status == Z_OK, "deflateInit2 failed: \(status)")
    }

    deinit { deflateEnd(&self.stream) }

    /// Compresses `input` into `output`; false when the result would not be smaller.
    public func compress(_ input: ByteBuffer, into output: inout ByteBuffer) -> Bool {
        deflateReset(&self.stream)
        let bound = Int(deflateBound(&self.stream, UInt(input.readableBytes)))
        let limit = min(bound, input.readableBytes - 1)
        guard limit > 0 else { return false }
        let startIndex = output.writerIndex
        var produced = 0
        var finished = false
        _ = input.withUnsafeReadableBytes { source in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { target in
                self.stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
                self.stream.avail_in = uInt(source.count)
                self.stream.next_out = target.bindMemory(to: Bytef.self).baseAddress
                self.stream.avail_out = uInt(limit)
                finished = deflate(&self.stream, Z_FINISH) == Z_STREAM_END
                produced = limit - Int(self.stream.avail_out)
                return finished ? produced : 0
            }
        }
        if !finished {
            output.moveWriterIndex(to: startIndex)
        }
        return finished
    }
}

/// Bounded zlib inflate: output past the limit stops decompression (no bombs). Public for the
/// benchmark package.
public final class ZlibDecompressor {
    public enum Failure: Error, Equatable {
        case tooLarge(limit: Int)
        case corrupt
    }

    private var stream = z_stream()

    public init() {
        let status = accord_inflate_init(&self.stream)
        precondition(status == Z_OK, "inflateInit2 failed: \(status)")
    }

    deinit { inflateEnd(&self.stream) }

    public func decompress(
        _ input: ByteBuffer,
        limit: Int,
        allocator: ByteBufferAllocator
    ) throws(Failure) -> ByteBuffer {
        inflateReset(&self.stream)
        var output = allocator.buffer(capacity: min(max(input.readableBytes * 4, 256), limit + 1))
        var status = Z_OK
        var inputLeft = input
        while true {
            if output.writableBytes == 0 {
                guard output.readableBytes <= limit else { throw .tooLarge(limit: limit) }
                output.reserveCapacity(
                    minimumWritableBytes: min(output.readableBytes, limit + 1 - output.readableBytes)
                )
            }
            let consumed = inputLeft.withUnsafeReadableBytes { source -> Int in
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { target in
                    self.stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
                    self.stream.avail_in = uInt(source.count)
                    self.stream.next_out = target.bindMemory(to: Bytef.self).baseAddress
                    self.stream.avail_out = uInt(target.count)
                    status = inflate(&self.stream, Z_NO_FLUSH)
                    return target.count - Int(self.stream.avail_out)
                }
                return source.count - Int(self.stream.avail_in)
            }
            inputLeft.moveReaderIndex(forwardBy: consumed)
            guard output.readableBytes <= limit else { throw .tooLarge(limit: limit) }
            switch status {
            case Z_STREAM_END:
                guard inputLeft.readableBytes == 0 else { throw .corrupt }
                return output
            case Z_OK:
                continue
            case Z_BUF_ERROR where output.writableBytes == 0:
                continue  // out of room: grow and go on
            default:
                throw .corrupt  // bad data, or the input ended before the stream did
            }
        }
    }
}
