public import AccordWire
public import NIOCore

extension ByteBuffer {
    /// Writes one MESSAGE frame. With a compressor, the payload is zlib-compressed when that makes
    /// it smaller (the COMPRESSED flag is then added); otherwise it is written as it is.
    public mutating func writeMessageFrame(
        callID: UInt32,
        flags: FrameFlags,
        message: ByteBuffer,
        compressor: ZlibCompressor?
    ) {
        if let compressor {
            let headerIndex = self.writerIndex
            self.writeFrameHeader(length: 0, type: .message, flags: flags.union(.compressed), callID: callID)
            let bodyIndex = self.writerIndex
            if compressor.compress(message, into: &self) {
                self.setInteger(UInt32(self.writerIndex - bodyIndex), at: headerIndex)
                return
            }
            self.moveWriterIndex(to: headerIndex)
        }
        self.writeFrameHeader(length: message.readableBytes, type: .message, flags: flags, callID: callID)
        self.writeImmutableBuffer(message)
    }
}
