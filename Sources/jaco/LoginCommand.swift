import ArgumentParser
import Foundation
import GRPCTransport
import JacoKernel

/// `jaco login`: trade a JWT the workload already holds for a Jaco token.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Log in with an auth method and a JWT; prints the new token's secret once.",
        discussion: """
            The daemon checks the JWT with the auth method (its keys, issuer, audience, times), \
            applies the method's binding rules to its claims, and creates a token with the \
            links they choose, expiring after the method's MaxTokenTTL. No token is needed. The \
            JWT is read from --jwt-file ('-' for stdin), never from the command line, so it \
            stays out of shell history and process lists. Auth methods and binding rules are \
            managed over the Consul API (/v1/acl/auth-method, /v1/acl/binding-rule).
            """)
    @Option(help: "The auth method's name.") var method: String
    @Option(
        name: [.customLong("jwt-file"), .customLong("bearer-token-file")],
        help: "A file holding the JWT ('-' for stdin), e.g. a Kubernetes projected service-account token (--bearer-token-file is consul login's name).")
    var jwtFile: String
    @Option(help: "Write the secret to this file (created with mode 0600) instead of printing it, as consul login -token-sink-file does.")
    var tokenSinkFile: String?
    @Option(help: "key=value written into the token's description (repeatable), as consul login -meta.") var meta: [String] = []
    @Option(name: .shortAndLong, help: "text, or json (secret, accessor_id, auth_method, expires_at).") var output: LoginFormat = .text
    @OptionGroup var connection: ConnectionOptions

    enum LoginFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    func run() async throws {
        try await reportingErrors {
            let jwt = try Self.readJWT(jwtFile)
            var metadata: [String: String] = [:]
            for pair in meta {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw JacoError(.validationFailed, "--meta \(EchoedInput.quote(pair)) is not key=value")
                }
                metadata[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            // The sink is made before the login, so a path that cannot be written loses no token.
            let sink = try tokenSinkFile.map(TokenSink.init(path:))
            let answer: Jaco_V1_LoginResponse
            do {
                answer = try await connection.client(needsToken: false).login(method: method, credential: jwt, meta: metadata)
            } catch {
                sink?.discard()
                throw error
            }
            if let sink, let tokenSinkFile {
                try sink.finish(writing: answer.secret)
                let expiry = answer.token.expiresAt.map { "; expires \($0.rfc3339)" } ?? ""
                print("Token \(answer.token.accessorID) from auth method \(answer.token.authMethod) written to \(tokenSinkFile)\(expiry)")
                return
            }
            switch output {
            case .json:
                let object: [String: Any] = [
                    "secret": answer.secret, "accessor_id": answer.token.accessorID, "auth_method": answer.token.authMethod,
                    "expires_at": answer.token.expiresAt?.rfc3339 ?? NSNull(),
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            case .text:
                let expiry = answer.token.expiresAt.map { "; expires \($0.rfc3339)" } ?? ""
                print("Token \(answer.token.accessorID) from auth method \(answer.token.authMethod) (save this; not recoverable\(expiry)): \(answer.secret)")
            }
        }
    }

    /// The JWT in `path` ('-': stdin), whitespace trimmed.
    static func readJWT(_ path: String) throws(JacoError) -> String {
        let data = try readInputFile(path, flag: "--jwt-file", limit: 64 * 1024, tooLarge: "a JWT is far smaller")
        let jwt = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !jwt.isEmpty else { throw JacoError(.validationFailed, "--jwt-file '\(EchoedInput.quote(path))' is empty") }
        return jwt
    }
}

/// `jaco logout`: delete the calling login token.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout", abstract: "Delete the token given with --token (or JACO_TOKEN), which must come from jaco login.")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await reportingErrors {
            try await connection.client().logout()
            print("Logged out: the token is deleted")
        }
    }
}

/// `jaco login --token-sink-file`: a file beside the target, mode 0600, made before the login
/// and renamed over the target once it holds the secret.
struct TokenSink {
    let path: String
    let temporary: URL

    /// Creates the temporary file; fails, naming the path, where it cannot be written.
    init(path: String) throws(JacoError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(), attributes: [.posixPermissions: 0o600]) else {
            throw JacoError(.validationFailed, "cannot write --token-sink-file '\(EchoedInput.quote(path))': is its directory there and writable?")
        }
    }

    /// Writes `secret` and moves the file into place.
    func finish(writing secret: String) throws(JacoError) {
        do {
            try Data((secret + "\n").utf8).write(to: temporary)
        } catch {
            discard()
            throw JacoError(.validationFailed, "cannot write --token-sink-file '\(EchoedInput.quote(path))': \(error)")
        }
        guard rename(temporary.path, path) == 0 else {
            let reason = String(cString: strerror(errno))
            discard()
            throw JacoError(.validationFailed, "cannot write --token-sink-file '\(EchoedInput.quote(path))': \(reason)")
        }
    }

    /// Removes the temporary file.
    func discard() { try? FileManager.default.removeItem(at: temporary) }
}
