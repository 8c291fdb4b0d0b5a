/// Shares one array among the cached tokens linked to the same policies (or roles): a deploy
/// that mints a million tokens for three policies holds three lists, not a million copies.
struct LinkListInterner: Sendable {
    /// Lists kept at most; past it the interner starts over (tokens keep the arrays they have).
    static let limit = 100_000

    private var lists: [[String]: [String]] = [:]

    /// The shared array equal to `ids`.
    mutating func intern(_ ids: [String]) -> [String] {
        if ids.isEmpty { return [] }  // the empty array is a shared singleton already
        if let shared = lists[ids] { return shared }
        if lists.count >= Self.limit { lists.removeAll(keepingCapacity: true) }
        lists[ids] = ids
        return ids
    }
}
