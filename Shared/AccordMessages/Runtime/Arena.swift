/// A bump allocator: many small allocations, one release when the arena goes away.
///
/// Encoding builds the C structs of a message here; decoding hands it to protobuf-c as its
/// allocator, so that a decode is bounded by ``Header/budget`` and freed at once.
///
/// The first chunk lives in the arena object itself (one allocation for a small message); larger
/// messages add chunks, linked through their first word and freed with the arena.
final class Arena: ManagedBuffer<Arena.Header, UInt8> {
    struct Header {
        var cursor: UnsafeMutableRawPointer
        var available: Int
        var nextChunkSize: Int
        /// The most bytes this arena hands out; allocations past it fail.
        var budget: Int
        var allocatedBytes = 0
        var exceededBudget = false
        /// The most recent extra chunk; each chunk's first word points at the one before.
        var extraChunks: UnsafeMutableRawPointer?
    }

    private static let alignment = 16

    /// An arena whose first chunk holds `inlineBytes`.
    static func make(budget: Int = .max, inlineBytes: Int = 1024) -> Arena {
        let buffer = Arena.create(minimumCapacity: inlineBytes + alignment) { buffer in
            let start = buffer.withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
            let aligned = start.alignedUp(toMultipleOf: alignment)
            return Header(
                cursor: aligned,
                available: buffer.capacity - (aligned - start),
                nextChunkSize: max(inlineBytes, 1024) * 2,
                budget: budget
            )
        }
        return unsafeDowncast(buffer, to: Arena.self)
    }

    deinit {
        var chunk = self.header.extraChunks
        while let current = chunk {
            chunk = current.load(as: UnsafeMutableRawPointer?.self)
            current.deallocate()
        }
    }

    var exceededBudget: Bool { self.header.exceededBudget }

    /// `size` bytes aligned to 16, or nil when the budget would be passed.
    func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        let rounded = (max(size, 1) + Self.alignment - 1) & ~(Self.alignment - 1)
        guard rounded <= self.header.budget - self.header.allocatedBytes else {
            self.header.exceededBudget = true
            return nil
        }
        self.header.allocatedBytes += rounded
        if rounded > self.header.available {
            let chunkSize = max(rounded, self.header.nextChunkSize) + Self.alignment
            let chunk = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: Self.alignment)
            chunk.storeBytes(of: self.header.extraChunks, as: UnsafeMutableRawPointer?.self)
            self.header.extraChunks = chunk
            self.header.nextChunkSize = min(self.header.nextChunkSize * 2, 1 << 20)
            self.header.cursor = chunk + Self.alignment
            self.header.available = chunkSize - Self.alignment
        }
        let result = self.header.cursor
        self.header.cursor = result + rounded
        self.header.available -= rounded
        return result
    }

    /// Like ``allocate(_:)``, for encoding, where no budget applies.
    func allocateUnbounded(_ size: Int) -> UnsafeMutableRawPointer {
        guard let pointer = self.allocate(size) else {
            preconditionFailure("encoding arena has no budget")
        }
        return pointer
    }
}
