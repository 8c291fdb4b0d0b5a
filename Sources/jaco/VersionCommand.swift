import ArgumentParser
import JacoRuntime

/// `jaco version`: the CLI's version (the daemon's is in `jaco cluster status`).
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the jaco CLI's version (the daemon's: jaco cluster status).")

    func run() {
        print("jaco \(Jaco.version)")
    }
}
