import Foundation
@testable import JacoKernel
import Testing

@Suite("Accessor ID")
struct AccessorIDTests {
    @Test("Every accessor ID comes back exactly as it went in; only lowercase UUIDs are packed")
    func roundTrips() {
        let packed = [BuiltIn.anonymousTokenID, "ffffffff-ffff-ffff-ffff-ffffffffffff", "0123abcd-4567-89ef-0123-456789abcdef"]
            + (0..<200).map { _ in UUID().uuidString.lowercased() }
        for text in packed {
            let id = AccessorID(text)
            guard case .uuid = id else {
                Issue.record("\(text) was not packed")
                continue
            }
            #expect(id.text == text)
            #expect(Principal(accessorID: text, identity: nil, policyIDs: [], allowsPrivileged: false, acl: .none).accessorID == text)
        }
        let kept = [UUID().uuidString.uppercased(), "operator", "", "0123abcd-4567-89ef-0123-456789abcdeg", "0123abcd+4567-89ef-0123-456789abcdef",
                    "0123abcd-4567-89ef-0123-456789abcdef0", "é123abcd-4567-89ef-0123-456789abcde"]
        for text in kept {
            let id = AccessorID(text)
            #expect(id == .text(text), "\(text)")
            #expect(id.text == text)
        }
    }

    @Test("Tags spread the built-in, mostly-zero UUIDs over the table's low bits")
    func tagsSpread() {
        let tags = (0..<1024).map { AccessorID(String(format: "00000000-0000-0000-0000-%012x", $0)).tag & 0x3FF }
        #expect(Set(tags).count > 600)  // random would give ~647 distinct of 1024
    }
}
