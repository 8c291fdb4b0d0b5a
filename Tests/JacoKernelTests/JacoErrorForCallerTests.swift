import JacoKernel
import Testing

@Suite("Errors as callers see them")
struct JacoErrorForCallerTests {
    @Test("A store closed under a call answers 'unavailable' (retryable), naming the shutdown; other errors pass unchanged")
    func closedIsUnavailable() {
        let cutOff = JacoError(.closed, "the etcd store is closed").forCaller
        #expect(cutOff.code == .unavailable)
        #expect(cutOff.message.hasPrefix("jacod is shutting down (the etcd store is closed)"))
        for error in [JacoError(.tokenRevoked, "revoked"), JacoError(.unavailable, "etcd is unreachable"), JacoError(.storeFull, "full")] {
            #expect(error.forCaller == error)
        }
    }
}
