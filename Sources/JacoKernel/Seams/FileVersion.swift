import Glibc  // alone: with Foundation or Dispatch imported, `stat`'s members count as theirs

/// What tells one version of a file from the next, from one `stat`: device, inode, size and
/// modification time (ns). For reloading certificates and keys when their files are replaced.
/// (Foundation's `attributesOfItem` also looks up the owner's user and group names.)
public struct FileVersion: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modifiedSeconds: Int64
    let modifiedNanoseconds: Int64

    /// The version of the file at `path` now; nil when it cannot be stat'ed (missing, no access).
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = Int64(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(info.st_mtim.tv_nsec)
    }
}
