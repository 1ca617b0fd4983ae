#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Testing

/// A GlusterFS volume mounted several times by the test's own user, one FUSE client per mount: a
/// shared spool as hosts see it, each through its own client, which a test can kill.
///
/// The volume is named by `HOOKSPOOL_GLUSTER` (`HOST:VOLUME`, served on loopback; `.ci/glusterfs up`
/// makes one), and the tests mount it themselves; or `HOOKSPOOL_GLUSTER_MOUNTS` names mounts made
/// for them, each a client of the test's user with its pid in `MOUNT.pid` (`.ci/glusterfs
/// clients`: CI runs the tests with no-new-privileges, under which fusermount's setuid does not
/// work). Unset, the tests that need it are skipped, except under `CI=true`, where they fail.
final class GlusterVolume: Sendable {
    /// One FUSE client's mount point.
    struct Mount: Sendable {
        let path: String
        let log: String
        /// The FUSE client: run in the foreground as a child of the test, or made for it (its pid).
        let client: Client

        enum Client: Sendable {
            case child(ChildProcess)
            case made(pid: Int32)
        }

        /// SIGKILLs this mount's FUSE client: every later operation on the mount fails (ENOTCONN).
        func killClient() async throws {
            switch client {
            case .child(let child):
                child.kill()
                try await child.waitForExit(timeout: .seconds(20))
            case .made(let pid):
                guard Glibc.kill(pid, SIGKILL) == 0 else { throw TestFailure("cannot kill the FUSE client \(pid) of \(path): errno \(errno)") }
                // Not our child: its end shows as the mount going dead.
                let deadline = ContinuousClock.now + .seconds(20)
                var info = stat()
                while stat(path, &info) == 0 {
                    if ContinuousClock.now >= deadline { throw TestFailure("\(path) still answers 20 s after its client was killed") }
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
        }
    }

    /// Mounts made for the tests, from the environment.
    static var madeMounts: [String] {
        (ProcessInfo.processInfo.environment["HOOKSPOOL_GLUSTER_MOUNTS"] ?? "").split(separator: " ").map(String.init)
    }

    /// `HOST:VOLUME` from the environment.
    static var server: String? { ProcessInfo.processInfo.environment["HOOKSPOOL_GLUSTER"].flatMap { $0.isEmpty ? nil : $0 } }
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true" }
    /// Whether tests on the volume run: it is configured, or CI requires them.
    static var enabled: Bool { server != nil || !madeMounts.isEmpty || isCI }
    static let skipReason: Comment = "neither HOOKSPOOL_GLUSTER (HOST:VOLUME of a GlusterFS volume; `sudo .ci/glusterfs up $USER` makes one) nor HOOKSPOOL_GLUSTER_MOUNTS is set"

    let mounts: [Mount]
    /// A folder of this test's own on the volume, the same under every mount (`mounts[i].path + "/" + site`).
    let site: String
    /// The temporary folder of the test's own mounts; nil for mounts made for it.
    private let root: String?

    private init(mounts: [Mount], site: String, root: String?) {
        self.mounts = mounts
        self.site = site
        self.root = root
    }

    /// Mounts the volume `count` times under a new temporary folder (or takes `count` of the mounts
    /// made for the tests), makes a fresh site folder on it, runs `body`, then removes the site and
    /// unmounts what it mounted, whatever `body` did.
    ///
    /// A test that kills a client passes `killing: true`; with mounts made for the tests its last
    /// mount is then the last one made, which no other test uses.
    static func withMounts<T: Sendable>(_ count: Int, killing: Bool = false, _ body: (GlusterVolume) async throws -> T) async throws -> T {
        let volume = try await madeMounts.isEmpty ? mount(count) : take(count, killing: killing)
        do {
            let result = try await body(volume)
            await volume.tearDown()
            return result
        } catch {
            await volume.tearDown()
            throw error
        }
    }

    private static func take(_ count: Int, killing: Bool) throws -> GlusterVolume {
        let made = madeMounts
        guard made.count > count else { throw TestFailure("HOOKSPOOL_GLUSTER_MOUNTS needs more than \(count) mounts, has \(made.count)") }
        let chosen = killing ? Array(made.prefix(count - 1)) + [made[made.count - 1]] : Array(made.prefix(count))
        var mounts: [Mount] = []
        for path in chosen {
            let text = (try? String(contentsOfFile: path + ".pid", encoding: .utf8)) ?? ""
            guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else { throw TestFailure("no FUSE client pid in \(path).pid") }
            guard isMounted(path) else { throw TestFailure("\(path) is not mounted (a client killed by an earlier test run? `.ci/glusterfs clients` makes them again)") }
            mounts.append(Mount(path: path, log: path + ".log", client: .made(pid: pid)))
        }
        let site = "site-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: "\(mounts[0].path)/\(site)", withIntermediateDirectories: false)
        return GlusterVolume(mounts: mounts, site: site, root: nil)
    }

    private static func mount(_ count: Int) async throws -> GlusterVolume {
        guard let server else { throw TestFailure("CI=true but \(skipReason)") }
        guard let colon = server.lastIndex(of: ":") else { throw TestFailure("HOOKSPOOL_GLUSTER must be HOST:VOLUME, not \(server)") }
        let host = String(server[..<colon])
        let volume = String(server[server.index(after: colon)...])
        guard let executable = ["/usr/sbin/glusterfs", "/sbin/glusterfs"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw TestFailure("glusterfs (the FUSE client, Debian's glusterfs-client) is not installed")
        }
        var template = Array("\(NSTemporaryDirectory())/hookspool-gluster-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        let root = String(cString: made)
        var mounts: [Mount] = []
        for index in 0..<count {
            let path = "\(root)/m\(index)"
            let log = "\(root)/client\(index).log"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            // No attribute, entry or negative caching: what one client changes, the others see at once.
            let client = try await ChildProcess.start(executable, [
                "--no-daemon", "--attribute-timeout=0", "--entry-timeout=0", "--negative-timeout=0", "--log-file=\(log)",
                "--volfile-server=\(host)", "--volfile-id=/\(volume)", path,
            ])
            let mount = Mount(path: path, log: log, client: .child(client))
            mounts.append(mount)
            try await Self.waitUntilMounted(mount, root: root, all: mounts)
        }
        let site = "site-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: "\(mounts[0].path)/\(site)", withIntermediateDirectories: false)
        return GlusterVolume(mounts: mounts, site: site, root: root)
    }

    private func tearDown() async {
        // The site goes through a live mount; a killed client's mount is only detached.
        if let live = mounts.first(where: { Self.isMounted($0.path) && FileManager.default.fileExists(atPath: "\($0.path)/\(site)") }) {
            try? FileManager.default.removeItem(atPath: "\(live.path)/\(site)")
        }
        if let root { await Self.unmount(mounts, root: root) }
    }

    /// `mounts[index]`'s view of the site folder.
    func sitePath(_ index: Int) -> String { "\(mounts[index].path)/\(site)" }

    private static func isMounted(_ path: String) -> Bool {
        var inner = stat()
        var outer = stat()
        guard stat(path, &inner) == 0, stat(FileSystemPath.parent(path), &outer) == 0 else { return false }
        return inner.st_dev != outer.st_dev
    }

    private static func waitUntilMounted(_ mount: Mount, root: String, all: [Mount]) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !isMounted(mount.path) {
            if ContinuousClock.now >= deadline || mount.hasEnded {
                let log = (try? String(contentsOfFile: mount.log, encoding: .utf8)) ?? ""
                await unmount(all, root: root)
                throw TestFailure("\(mount.path) was not mounted within 20 s (client: \(mount.clientOutput)); its log ends:\n\(log.suffix(2000))")
            }
            // The client mounts once it has the volume's layout from the server: nothing to wake on but time.
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private static func unmount(_ mounts: [Mount], root: String) async {
        for mount in mounts {
            _ = try? await ChildProcess.run("/usr/bin/fusermount-glusterfs", ["-u", "-z", mount.path], timeout: .seconds(20))
            if case .child(let child) = mount.client { child.kill() }
        }
        try? FileManager.default.removeItem(atPath: root)
    }
}

private enum FileSystemPath {
    static func parent(_ path: String) -> String { (path as NSString).deletingLastPathComponent }
}

extension GlusterVolume.Mount {
    /// Whether a client the test started has ended.
    fileprivate var hasEnded: Bool {
        if case .child(let child) = client { return child.hasFinished }
        return false
    }

    /// The end of what a client the test started printed.
    fileprivate var clientOutput: String {
        if case .child(let child) = client { return String(child.stderr.suffix(500)) }
        return ""
    }
}

