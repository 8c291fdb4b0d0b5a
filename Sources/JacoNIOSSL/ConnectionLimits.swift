import Foundation
import JacoKernel
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// What one TCP listener (gRPC, Consul HTTP) lets a connection do before it is closed: how many
/// may be open at once, how long one may take to finish its TLS handshake, and how long it may
/// sit without a call (`[[listeners]]` keys `max_connections`, `handshake_timeout`,
/// `idle_timeout`).
public struct ConnectionLimits: Sendable {
    /// Open connections at most; one more is closed as soon as it is accepted.
    public var maxConnections = 4096
    /// A connection that has not completed its TLS handshake by then is closed.
    public var handshakeTimeout: Duration = .seconds(10)
    /// A connection without calls for this long is closed (gracefully, by gRPC).
    public var idleTimeout: Duration = .seconds(300)

    /// The keys a listener entry takes for them.
    public static let keys = ["max_connections", "handshake_timeout", "idle_timeout"]

    /// Reads the keys from a listener entry; defaults where absent.
    public init(_ section: ConfigSection) throws(JacoError) {
        maxConnections = try section.integer("max_connections", default: maxConnections, range: 1...1_000_000)
        handshakeTimeout = try Self.duration(section, "handshake_timeout", default: "10s", range: 0.1...300)
        idleTimeout = try Self.duration(section, "idle_timeout", default: "5m", range: 1...86_400)
    }

    /// The defaults.
    public init() {}

    private static func duration(_ section: ConfigSection, _ key: String, default text: String, range: ClosedRange<Double>) throws(JacoError) -> Duration {
        let value = try section.string(key, default: text)
        guard let seconds = DurationText.parse(value), range.contains(seconds) else {
            throw section.error("'\(key)' is '\(EchoedInput.quote(value))'; write a duration from \(DurationText.format(range.lowerBound)) to \(DurationText.format(range.upperBound)), e.g. \"\(text)\"")
        }
        return .milliseconds(Int64(seconds * 1000))
    }
}

/// The open connections of one listener, against its cap.
public final class ConnectionGate: Sendable {
    /// The cap.
    public let limit: Int
    private let open = Mutex(0)

    /// A gate for at most `limit` connections.
    public init(limit: Int) { self.limit = limit }

    /// Takes a place for a new connection; false when the listener is full.
    public func admit() -> Bool {
        let admitted = open.withLock { count -> Bool in
            guard count < limit else { return false }
            count += 1
            return true
        }
        return admitted
    }

    /// Gives a closed connection's place back.
    public func release() { open.withLock { $0 -= 1 } }
}

/// Admits a connection through a ``ConnectionGate`` when it joins the pipeline, and closes it
/// at once when the listener is full; gives the place back when it closes.
public final class ConnectionGateHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny
    private let gate: ConnectionGate
    private var admitted = false

    /// A handler for one new connection.
    public init(gate: ConnectionGate) { self.gate = gate }

    public func handlerAdded(context: ChannelHandlerContext) {
        admitted = gate.admit()
        if admitted {
            let gate = self.gate
            context.channel.closeFuture.whenComplete { _ in gate.release() }
        } else {
            context.close(promise: nil)
        }
    }
}

/// Closes the connection unless its TLS handshake completes within the deadline: a client that
/// connects and sends nothing (or dribbles bytes) holds a socket and memory otherwise.
public final class HandshakeDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny
    private let timeout: Duration
    private var deadline: Scheduled<Void>?

    /// A deadline `timeout` after the connection is active.
    public init(timeout: Duration) { self.timeout = timeout }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            deadline?.cancel()
            deadline = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            channel.close(promise: nil)
        }
    }
}
