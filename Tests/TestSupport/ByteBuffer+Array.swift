// Test support shared by several test targets (not part of the product).
public import NIOCore

extension ByteBuffer {
    /// The readable bytes, for comparing with a test vector.
    public var array: [UInt8] { Array(readableBytesView) }
}
