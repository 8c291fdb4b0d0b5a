import Hummingbird
import NIOCore

/// The request context of the Consul listener: Hummingbird's, plus the caller's address, which
/// the failed-authentication throttle keys on.
struct ConsulRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The peer of the connection the request came on.
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
