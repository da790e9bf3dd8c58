// What the load benchmarks share: peak memory, durations in seconds, and the store's physical floor.
import FHIR
import Foundation
import Store

/// The process's peak resident memory so far, in MB (VmHWM).
public func peakMegabytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
}

/// Processor time this process has used so far, user and system, in seconds (all threads).
public func processorSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

public func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// The floor: Bundles made beforehand, committed to `store` in batches of `batchSize` by `workers`
/// tasks, with nothing else to do. Returns the seconds it took and the entries committed.
public func commitFloor(
    _ bundles: [JSON], to store: any FHIRStore, workers: Int, batchSize: Int, bulk: Bool = false
) async throws
    -> (seconds: Double, resources: Int)
{
    let batches = stride(from: 0, to: bundles.count, by: batchSize).map {
        Array(bundles[$0..<min($0 + batchSize, bundles.count)])
    }
    let started = ContinuousClock.now
    if bulk { try await store.dropSearchIndexes() }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for lane in 0..<workers {
            group.addTask {
                for (number, batch) in batches.enumerated() where number % workers == lane {
                    _ = try await store.commit(
                        MigrationBatch(
                            run: "floor", partition: "p\(lane)", position: number, bundles: batch, deadLetters: []))
                }
            }
        }
        try await group.waitForAll()
    }
    if bulk { try await store.buildSearchIndexes() }
    return (seconds(ContinuousClock.now - started), bundles.reduce(0) { $0 + ($1["entry"]?.arrayValue?.count ?? 0) })
}

/// Prints the floor beside the migration and their ratio, the way every load benchmark reports them.
public func printFloor(migrated: Int, migrationSeconds: Double, floorResources: Int, floorSeconds: Double) {
    print(
        String(
            format: "floor (prepared Bundles, same store and batches): %d resources in %.1f s = %.0f resources/s",
            floorResources, floorSeconds, Double(floorResources) / floorSeconds))
    print(
        String(
            format: "migration / floor: %.0f%%",
            100 * (Double(migrated) / migrationSeconds) / (Double(floorResources) / floorSeconds)))
}
