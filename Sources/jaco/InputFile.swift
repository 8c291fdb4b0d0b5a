import Foundation
import JacoKernel

/// The contents of the file a flag names (`-`: stdin), refused past `limit` bytes with a
/// message that names the flag and what to do.
func readInputFile(_ path: String, flag: String, limit: Int, tooLarge: String) throws(JacoError) -> Data {
    let data: Data
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        guard let read = FileManager.default.contents(atPath: path) else {
            throw JacoError(.validationFailed, "cannot read \(flag) '\(EchoedInput.quote(path))': \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")")
        }
        data = read
    }
    guard data.count <= limit else { throw JacoError(.validationFailed, "\(flag) '\(EchoedInput.quote(path))' is \(data.count) bytes; \(tooLarge)") }
    return data
}
