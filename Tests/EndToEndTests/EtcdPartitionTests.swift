import Foundation
import JacoTestKit
import Testing

/// A jacod cut off from etcd by a real network partition: it runs in its own network namespace
/// (`ip netns`), joined to the host by a veth pair, and etcd listens on the host's end. Cutting
/// the namespace's end drops every packet between them, as a partition does (a killed etcd
/// answers with resets; a partition answers with nothing). Skipped with a message where the
/// machine cannot create namespaces.
@Suite("etcd partitions end to end", .serialized)
struct EtcdPartitionTests {
    /// A network namespace joined to the host by a veth pair (10.231.X.1 on the host, .2 inside).
    struct Namespace {
        let name: String
        let hostInterface: String
        let innerInterface: String
        let hostAddress: String

        static let ip = URL(fileURLWithPath: "/usr/sbin/ip")

        /// Whether this process may create namespaces (root in a sandbox that allows it).
        static let available: Bool = {
            let probe = "jaco-probe-\(UInt32.random(in: 0...0xFFFF_FFFF))"
            guard (try? runToCompletion(ip, ["netns", "add", probe]))?.status == 0 else { return false }
            _ = try? runToCompletion(ip, ["netns", "del", probe])
            return true
        }()

        static func create() throws -> Namespace {
            let tag = String(UInt32.random(in: 0...0xFF_FFFF), radix: 16)
            // A /30 no interface on the host has yet: a namespace left over from a test process
            // that crashed keeps its address, and sharing it would misroute this one.
            let inUse = (try? runToCompletion(ip, ["-o", "addr"]))?.stdout ?? ""
            let free = (0...63).filter { !inUse.contains("10.231.\($0).") }
            let subnet = (free.randomElement() ?? Int.random(in: 0...63)) * 4
            let net = Namespace(name: "jaco-\(tag)", hostInterface: "vjh\(tag)", innerInterface: "vjn\(tag)", hostAddress: "10.231.\(subnet / 4).1")
            let inner = "10.231.\(subnet / 4).2/30"
            for command in [
                ["netns", "add", net.name],
                ["link", "add", net.hostInterface, "type", "veth", "peer", "name", net.innerInterface],
                ["link", "set", net.innerInterface, "netns", net.name],
                ["addr", "add", "\(net.hostAddress)/30", "dev", net.hostInterface],
                ["link", "set", net.hostInterface, "up"],
                ["netns", "exec", net.name, "ip", "addr", "add", inner, "dev", net.innerInterface],
                ["netns", "exec", net.name, "ip", "link", "set", net.innerInterface, "up"],
                ["netns", "exec", net.name, "ip", "link", "set", "lo", "up"],
            ] {
                let result = try runToCompletion(ip, command)
                guard result.status == 0 else {
                    net.remove()
                    throw DaemonError.exited("ip \(command.joined(separator: " ")): \(result.stderr)")
                }
            }
            return net
        }

        /// The command prefix that runs a program inside.
        var launcher: [String] { [Self.ip.path, "netns", "exec", name] }

        /// Cuts (or restores) the namespace's end of the link.
        func link(up: Bool) async throws {
            let result = try await offPool { try runToCompletion(Self.ip, ["netns", "exec", name, "ip", "link", "set", innerInterface, up ? "up" : "down"]) }
            #expect(result.status == 0, "\(result.stderr)")
        }

        func remove() {
            _ = try? runToCompletion(Self.ip, ["link", "del", hostInterface])
            _ = try? runToCompletion(Self.ip, ["netns", "del", name])
        }
    }

    /// `jaco` run inside the namespace against `daemon` (listening on the namespace's loopback).
    static func jaco(in net: Namespace, _ daemon: Daemon, _ arguments: [String], token: String, caCertificate: String) async throws -> CommandResult {
        let environment = Build.environmentWithoutJacoSettings.merging(["JACO_TOKEN": token]) { $1 }
        let command = net.launcher + [Build.products.appendingPathComponent("jaco").path] + arguments + ["--server", daemon.server, "--ca-cert", caCertificate]
        return try await offPool { try runToCompletion(URL(fileURLWithPath: command[0]), Array(command.dropFirst()), environment: environment, timeout: 60) }
    }

    @Test(
        "Cut off from etcd: deny fails verifies 'unavailable' within the keepalive bound, extend-cache verifies from its cache; writes fail 'unavailable'; after the heal a revoke made meanwhile is enforced within 5 s",
        .enabled(if: Namespace.available, "needs root to create network namespaces (ip netns add was refused here)"),
        arguments: ["deny", "extend-cache"])
    func partition(policy: String) async throws {
        let net = try await offPool { try Namespace.create() }
        defer { net.remove() }
        let etcd = try await EtcdCluster.start(size: 1, host: net.hostAddress)
        defer { etcd.stop() }
        let config = try editedConfig("etcd.toml", [("down_policy = \"extend-cache\"", "down_policy = \"\(policy)\"")])
        defer { try? FileManager.default.removeItem(at: config) }
        let outside = try Daemon(config: "etcd.toml", extraArguments: ["--etcd-endpoints", etcd.endpoints])
        defer { outside.remove() }
        let inside = try Daemon(config: config.path, extraArguments: ["--etcd-endpoints", etcd.endpoints], launcher: net.launcher)
        defer { inside.remove() }
        try await outside.start()
        try await inside.start()
        let ca = outside.caCertificate
        let bootstrap = try await outside.jaco(["cluster", "init"]).lastWord
        let alice = try await outside.jaco(["token", "issue", "--name", "alice"], token: bootstrap).lastWord
        let bob = try await outside.jaco(["token", "issue", "--name", "bob"], token: bootstrap).lastWord
        var seen = false
        for _ in 0..<50 where !seen {
            seen = try await Self.jaco(in: net, inside, ["token", "list"], token: alice, caCertificate: ca).status == 0
            if !seen { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(seen, "the daemon in the namespace never verified alice")

        // The partition.
        try await net.link(up: false)
        let cut = ContinuousClock.now
        let write = try await Self.jaco(in: net, inside, ["token", "issue", "--name", "cut-off"], token: bootstrap, caCertificate: ca)
        #expect(write.status != 0 && write.stderr.hasPrefix("unavailable:"), "\(write.stderr)")
        #expect(ContinuousClock.now - cut < .seconds(30), "the write took \(ContinuousClock.now - cut) to fail")
        // Meanwhile, on the reachable side, alice is revoked.
        #expect(try await outside.jaco(["token", "revoke", "alice"], token: bootstrap).status == 0)
        if policy == "deny" {
            // The watch's keepalive (10 s, 3 s timeout) notices the silence; then verifies fail.
            var denied: CommandResult?
            while denied == nil, ContinuousClock.now - cut < .seconds(30) {
                let answer = try await Self.jaco(in: net, inside, ["token", "list"], token: bob, caCertificate: ca)
                if answer.stderr.contains("the down policy is 'deny'") { denied = answer } else { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(denied != nil, "verifies still answered 30 s into the partition with down_policy deny")
            print("partition: down_policy deny refused verifies \(ContinuousClock.now - cut) after the cut")
        } else {
            // Past the keepalive bound the cache still verifies: bob is recognized and only the
            // listing's own store read fails; an unknown secret is still refused by the cache.
            try await Task.sleep(for: .seconds(15))
            let cached = try await Self.jaco(in: net, inside, ["token", "list"], token: bob, caCertificate: ca)
            #expect(cached.stderr.hasPrefix("unavailable:") && cached.stderr.contains("etcd is unreachable for a read"), "\(cached.stderr)")
            #expect(!cached.stderr.contains("down policy"), "extend-cache refused a cached token during the partition: \(cached.stderr)")
            let unknown = try await Self.jaco(in: net, inside, ["token", "list"], token: "jaco_notatokenatallnotatokenatallnotat", caCertificate: ca)
            #expect(unknown.stderr.hasPrefix("token_invalid:"), "\(unknown.stderr)")
        }

        // The heal: the daemon catches up, and the revoke made meanwhile is enforced.
        try await net.link(up: true)
        let healed = ContinuousClock.now
        var enforced = false
        while !enforced, ContinuousClock.now - healed < .seconds(60) {
            enforced = try await Self.jaco(in: net, inside, ["token", "list"], token: alice, caCertificate: ca).stderr.hasPrefix("token_revoked:")
            if !enforced { try await Task.sleep(for: .milliseconds(100)) }
        }
        let took = ContinuousClock.now - healed
        print("partition (\(policy)): the revoke made during the partition was enforced \(took) after the heal")
        #expect(enforced && took < .seconds(5), "the revoke was \(enforced ? "enforced only \(took)" : "not enforced 60 s") after the heal")
        let bobAgain = try await Self.jaco(in: net, inside, ["token", "list"], token: bob, caCertificate: ca)
        #expect(bobAgain.status == 0, "\(bobAgain.stderr)")
    }
}
