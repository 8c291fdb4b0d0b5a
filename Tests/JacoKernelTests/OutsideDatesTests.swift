import Foundation
import JacoKernel
import JacoTestKit
import MemoryStore
import Testing

/// Times from outside input far past any calendar must be refused, never trap (the jwt fuzz
/// target found the trap in `Date.milliseconds`).
@Suite("Out-of-range times from outside input")
struct OutsideDatesTests {
    @Test("Date.milliseconds clamps; a Consul ExpirationTTL of 1e30 ns is a validation error")
    func clamped() async throws {
        #expect(Date(timeIntervalSince1970: 1e300).milliseconds == 8_640_000_000_000_000)
        #expect(Date(timeIntervalSince1970: -1e300).milliseconds == -8_640_000_000_000_000)
        let kernel = try await Kernel.start(storage: MemoryStorePlugin.makeStore(), hasher: InProcessJaco.defaultHasher)
        defer { Task { try? await kernel.shutdown() } }
        let op = try kernel.tokens.verify(secret: try await kernel.tokens.bootstrap().secret)
        var request = TokenRequest()
        request.expirationTTL = 1e21
        await #expect {
            _ = try await kernel.acl.createToken(request, by: op)
        } throws: { error in
            (error as? JacoError)?.code == .validationFailed
        }
    }
}
