public import NIOCore

extension STUNMessage {
    /// A Binding success response for `request` (RFC 5389 §7.3.1, RFC 8445 §7.3.1.3): XOR-MAPPED-ADDRESS
    /// = where the request came from, then MESSAGE-INTEGRITY with `integrityKey` (the local ICE
    /// password), then FINGERPRINT.
    public static func bindingSuccessResponse(
        transactionID: STUNTransactionID,
        mappedAddress: TransportAddress,
        integrityKey: [UInt8],
        software: String? = nil,
        into buffer: ByteBuffer = ByteBuffer()
    ) -> ByteBuffer {
        var builder = STUNMessageBuilder(type: .bindingSuccessResponse, transactionID: transactionID, buffer: buffer)
        builder.addXORMappedAddress(mappedAddress)
        if let software { builder.addSoftware(software) }
        builder.addMessageIntegrity(key: integrityKey)
        builder.addFingerprint()
        return builder.buffer
    }

    /// A Binding error response (RFC 5389 §7.3.1.1): ERROR-CODE with its reason phrase, then
    /// MESSAGE-INTEGRITY when `integrityKey` is given (not for 400/401, where the request's
    /// credentials were missing or wrong, RFC 5389 §10.1.2), then FINGERPRINT.
    public static func bindingErrorResponse(
        transactionID: STUNTransactionID,
        error: STUNErrorCode,
        integrityKey: [UInt8]? = nil,
        software: String? = nil,
        unknownAttributes: [STUNAttributeType] = [],
        into buffer: ByteBuffer = ByteBuffer()
    ) -> ByteBuffer {
        var builder = STUNMessageBuilder(type: .bindingErrorResponse, transactionID: transactionID, buffer: buffer)
        builder.addErrorCode(error)
        if !unknownAttributes.isEmpty {
            // UNKNOWN-ATTRIBUTES (RFC 5389 §15.9): a list of 16-bit types.
            builder.addAttribute(.unknownAttributes, value: unknownAttributes.flatMap { [UInt8($0.rawValue >> 8), UInt8($0.rawValue & 0xFF)] })
        }
        if let software { builder.addSoftware(software) }
        if let integrityKey { builder.addMessageIntegrity(key: integrityKey) }
        builder.addFingerprint()
        return builder.buffer
    }
}
