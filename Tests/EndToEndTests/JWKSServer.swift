import Foundation
import JacoTestKit
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// An HTTPS server with its own test CA that serves JSON documents by path (a JWKS, an OIDC
/// discovery document), as an identity provider would; the test changes them as it goes.
final class JWKSServer: Sendable {
    /// Path → JSON body; a path not set answers 404.
    final class Documents: Sendable {
        let bodies = Mutex<[String: String]>([:])
        let fetches = Mutex<[String: Int]>([:])

        func answer(_ path: String) -> (HTTPResponseStatus, String) {
            fetches.withLock { $0[path, default: 0] += 1 }
            return bodies.withLock { $0[path] }.map { (.ok, $0) } ?? (.notFound, "{}")
        }
    }

    let documents = Documents()
    let certificates: TestCertificates
    private let channel: any Channel
    /// The port it listens on (127.0.0.1).
    let port: Int
    /// `https://127.0.0.1:<port>`.
    var base: String { "https://127.0.0.1:\(port)" }
    /// The CA that signed its certificate, PEM.
    var caPEM: String { (try? String(contentsOf: certificates.caCertificate, encoding: .utf8)) ?? "" }

    init(directory: URL) async throws {
        certificates = try TestCertificates.create(in: directory, commonName: "Jaco test identity provider CA")
        let chain = try NIOSSLCertificate.fromPEMFile(certificates.serverCertificate.path).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: certificates.serverKey.path, format: .pem)
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        let documents = self.documents
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Responder(documents: documents))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    /// Serves `body` at `path`.
    func serve(_ path: String, _ body: String) { documents.bodies.withLock { $0[path] = body } }

    /// How many times `path` was fetched.
    func fetches(of path: String) -> Int { documents.fetches.withLock { $0[path] ?? 0 } }

    func stop() async throws { try await channel.close() }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let documents: Documents
        var path = ""

        init(documents: Documents) { self.documents = documents }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): path = head.uri
            case .body: break
            case .end:
                let (status, body) = documents.answer(path)
                let headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(body.utf8.count))])
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
