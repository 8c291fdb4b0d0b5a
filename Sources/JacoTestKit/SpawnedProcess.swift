import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, for test harnesses that start many processes
/// from many threads. Foundation's `Process.run()` on Linux (Swift 6.3.1) now and then crashes
/// the whole test process with SIGSEGV while it lists `/proc/self/fd`
/// (swift-corelibs-foundation PR #5472: a 256-byte over-read of each `dirent`).
public final class SpawnedProcess: @unchecked Sendable {  // `status` only under `lock`
    /// The child's process ID.
    public let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `executable` with `arguments`, `environment` (the child's whole environment; nil:
    /// this process's) and working `directory`; stdin reads /dev/null, stdout and stderr go to
    /// the given descriptors (nil: /dev/null); no other descriptor is inherited.
    public init(
        executable: String, arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        stdout: Int32? = nil, stderr: Int32? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (target, source) in [(Int32(1), stdout), (Int32(2), stderr)] {
            if let source {
                posix_spawn_file_actions_adddup2(&actions, source, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            }
        }
        // glibc declares these two only under _GNU_SOURCE, which Swift's Glibc module leaves out.
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
        guard let closeFrom = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np"), let chdir = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "this libc lacks posix_spawn_file_actions_addclosefrom_np (glibc 2.34+)"])
        }
        _ = unsafeBitCast(closeFrom, to: AddCloseFrom.self)(&actions, 3)
        if let directory { _ = unsafeBitCast(chdir, to: AddChdir.self)(&actions, directory) }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let variables = environment ?? ProcessInfo.processInfo.environment
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }

        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard rc == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "posix_spawn \(executable): \(String(cString: strerror(rc)))"])
        }
        self.pid = pid
    }

    /// Whether the child still runs (reaps it once it ended).
    public var isRunning: Bool {
        lock.withLock {
            if status != nil { return false }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
            status = Self.decode(raw)
            return false
        }
    }

    /// Sends `signal` unless the child has been reaped (its ID may belong to another process then).
    public func send(_ signal: Int32) {
        lock.withLock { if status == nil { _ = kill(pid, signal) } }
    }

    /// Waits for the child to end and returns its exit code, or the signal that ended it.
    @discardableResult
    public func waitForExit() -> Int32 {
        while true {
            if let status = lock.withLock({ status }) { return status }
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, 0)
            if reaped == pid {
                return lock.withLock {
                    status = Self.decode(raw)
                    return status!
                }
            }
            if reaped == -1 && errno != EINTR {
                // Reaped elsewhere (`isRunning` on another thread): its status is recorded there.
                if let status = lock.withLock({ status }) { return status }
                return -1
            }
        }
    }

    /// The exit code, or the signal that ended the child, as Foundation's `terminationStatus`.
    private static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : signal
    }

    /// Reads each descriptor to its end, all at once (with poll: a child that fills one pipe
    /// while another is being read would stall otherwise), and closes them.
    public static func readToEnd(_ fds: [Int32]) -> [Data] {
        var results = Array(repeating: Data(), count: fds.count)
        var open = Set(fds.indices)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            var polled = open.sorted().map { pollfd(fd: fds[$0], events: Int16(POLLIN), revents: 0) }
            guard poll(&polled, nfds_t(polled.count), -1) >= 0 || errno == EINTR else { break }
            for (slot, entry) in zip(open.sorted(), polled) where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(fds[slot], $0.baseAddress, $0.count) }
                if count > 0 {
                    results[slot].append(contentsOf: buffer[..<count])
                } else if count == 0 || errno != EINTR {
                    open.remove(slot)
                }
            }
        }
        for fd in fds { close(fd) }
        return results
    }

    /// A pipe whose ends close on exec (a child gets one only through ``init``'s redirections).
    public static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "pipe: \(String(cString: strerror(errno)))"])
        }
        // (pipe2 with O_CLOEXEC is not visible to Swift; children started meanwhile close
        // every inherited descriptor above 2 anyway: posix_spawn here, Process in Foundation.)
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }
}
