#if !JACO_FUZZING
import Foundation

/// Without libFuzzer: runs files through a target, to replay a corpus or a crash.
///
///     jaco-fuzz <target> <file or directory>...
///     jaco-fuzz --list
@main
struct Replayer {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--list" {
            for target in FuzzTargets.all { print("\(target.name)\t\(target.summary)") }
            return
        }
        guard let name = arguments.first, let target = FuzzTargets.named(name), arguments.count > 1 else {
            let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
            FileHandle.standardError.write(Data("usage: jaco-fuzz <target> <file or directory>... (targets: \(names)); jaco-fuzz --list\n".utf8))
            exit(64)
        }
        var count = 0
        for path in arguments.dropFirst() {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("jaco-fuzz: cannot read \(file)\n".utf8))
                    exit(66)
                }
                target.run([UInt8](data))
                count += 1
            }
        }
        print("\(target.name): \(count) inputs ran")
    }

    /// `path` itself, or the regular files in it (sorted), when it is a directory.
    static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            FileHandle.standardError.write(Data("jaco-fuzz: no such file or directory: \(path)\n".utf8))
            exit(66)
        }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { "\(path)/\($0)" }.filter { !$0.hasSuffix("/.gitkeep") }
    }
}
#endif
