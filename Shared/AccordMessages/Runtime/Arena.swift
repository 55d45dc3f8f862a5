/// A bump allocator: many small allocations, one release when the arena goes away.
///
/// Encoding builds the C structs of a message here; decoding hands it to protobuf-c as its
/// allocator, so that a decode is bounded by ``budget`` and freed at once.
final class Arena {
    private var chunks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var available = 0
    private var nextChunkSize: Int
    private(set) var allocatedBytes = 0
    /// The most bytes this arena hands out; allocations past it fail.
    let budget: Int
    private(set) var exceededBudget = false

    private static let alignment = 16

    init(budget: Int = .max, firstChunkSize: Int = 1024) {
        self.budget = budget
        self.nextChunkSize = firstChunkSize
    }

    deinit {
        for chunk in self.chunks {
            chunk.deallocate()
        }
    }

    /// `size` bytes aligned to 16, or nil when the budget would be passed.
    func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        let rounded = (max(size, 1) + Self.alignment - 1) & ~(Self.alignment - 1)
        guard rounded <= self.budget - self.allocatedBytes else {
            self.exceededBudget = true
            return nil
        }
        self.allocatedBytes += rounded
        if rounded > self.available {
            let chunkSize = max(rounded, self.nextChunkSize)
            let chunk = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: Self.alignment)
            self.chunks.append(chunk)
            self.nextChunkSize = min(self.nextChunkSize * 2, 1 << 20)
            self.cursor = chunk
            self.available = chunkSize
        }
        let result = self.cursor!
        self.cursor = result + rounded
        self.available -= rounded
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
