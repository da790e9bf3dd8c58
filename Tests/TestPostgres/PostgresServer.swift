import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL server of the tests' own: `initdb` into a temporary folder, started with `pg_ctl` on
/// a free loopback port once per test process, stopped when the process exits. Each test gets a
/// database of its own. Needs PostgreSQL's programs (Debian: `apt-get install postgresql`); as root,
/// the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
public final class PostgresServer: Sendable {
    public let port: Int
    let folder: URL
    let binaries: URL

    public static let shared: Result<PostgresServer, any Error> = Result { try PostgresServer() }

    private init() throws {
        binaries = try Self.findBinaries()
        port = try Self.freePort()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-postgres-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let asPostgres = geteuid() == 0
        if asPostgres { try Self.run(URL(fileURLWithPath: "/bin/chown"), ["postgres:postgres", folder.path]) }
        let data = folder.appendingPathComponent("data").path
        try run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"])
        let options =
            "-p \(port) -k \(folder.path) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            + "-c full_page_writes=off -c max_connections=200"
        try run("pg_ctl", ["-D", data, "-o", options, "-l", folder.appendingPathComponent("log").path, "-w", "start"])
        PostgresServer.stopAtExit = (binaries.appendingPathComponent("pg_ctl").path, data, folder.path, asPostgres)
        atexit {
            guard let (pgCtl, data, folder, asPostgres) = PostgresServer.stopAtExit else { return }
            let arguments = [pgCtl, "-D", data, "-m", "immediate", "stop"]
            if asPostgres {
                try? PostgresServer.run(
                    URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "postgres", "--"] + arguments)
            } else {
                try? PostgresServer.run(URL(fileURLWithPath: pgCtl), Array(arguments.dropFirst()))
            }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    nonisolated(unsafe) static var stopAtExit: (String, String, String, Bool)?

    /// A new, empty database on the server, as a `postgres://` URL.
    public func newDatabase() throws -> String {
        let name = "ferry_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        try Self.run(
            binaries.appendingPathComponent("psql"),
            [
                "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-q", "-c",
                "CREATE DATABASE \(name)",
            ])
        return "postgres://postgres@127.0.0.1:\(port)/\(name)"
    }

    /// Runs SQL (or a psql command such as `\copy`) in a database given by its URL.
    public func psql(_ url: String, _ command: String) throws {
        let name = String(url.split(separator: "/").last ?? "postgres")
        try Self.run(
            binaries.appendingPathComponent("psql"),
            [
                "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", name, "-q", "-v", "ON_ERROR_STOP=1",
                "-c", command,
            ])
    }

    private func run(_ program: String, _ arguments: [String]) throws {
        let path = binaries.appendingPathComponent(program)
        if geteuid() == 0 {
            try Self.run(URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "postgres", "--", path.path] + arguments)
        } else {
            try Self.run(path, arguments)
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a program to its end (posix_spawn and waitpid: Foundation's Process can wait forever
    /// on a child that leaves a server running behind it).
    static func run(_ program: URL, _ arguments: [String]) throws {
        let errorsPath = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-pg-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: errorsPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errorsPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Through bash, which closes every descriptor above 2 before it runs the program: the server
        // would otherwise keep the test process's sockets (another test's port) open while it runs.
        let closeAndRun =
            #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@""#
        let argv = (["/bin/bash", "-c", closeAndRun, "bash", program.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failure(description: "\(program.path) could not start (\(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            let message = (try? String(contentsOfFile: errorsPath, encoding: .utf8)) ?? ""
            throw Failure(
                description: "\(program.lastPathComponent) \(arguments.joined(separator: " ")) failed: \(message)")
        }
    }

    /// PostgreSQL's programs: Debian keeps them in /usr/lib/postgresql/VERSION/bin; else on PATH.
    static func findBinaries() throws -> URL {
        let debian = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: debian.path)) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            let bin = debian.appendingPathComponent(version).appendingPathComponent("bin")
            if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
        }
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let bin = URL(fileURLWithPath: String(folder))
            if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
        }
        throw Failure(description: "PostgreSQL's initdb was not found (apt-get install postgresql)")
    }

    /// A loopback port nobody listens on now, below the range of outgoing connections' ports (which
    /// another test's client could take before the server binds it).
    static func freePort() throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20_000..<32_000)
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { throw Failure(description: "socket() failed") }
            defer { close(socket) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound == 0 { return port }
        }
        throw Failure(description: "no free port below 32000")
    }
}
