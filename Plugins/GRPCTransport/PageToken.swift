import Foundation
import JacoKernel

/// The opaque `page_token` of a paged call: the listing's name and the kernel's cursor,
/// base64url-encoded, so a token from one listing is refused by another.
enum PageToken {
    static func encode(_ cursor: String?, listing: String) -> String {
        guard let cursor else { return "" }
        return Data("\(listing):\(cursor)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The cursor in `token` (nil for an empty token); `validation_failed` when it was not made
    /// by this listing.
    static func decode(_ token: String, listing: String) throws(JacoError) -> String? {
        guard !token.isEmpty else { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8), text.hasPrefix(listing + ":") else {
            throw JacoError(.validationFailed, "page_token '\(token)' is not one this listing gave out; pass the next_page_token of the previous page, or none for the first")
        }
        return String(text.dropFirst(listing.count + 1))
    }
}
