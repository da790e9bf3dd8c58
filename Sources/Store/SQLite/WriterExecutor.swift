import Dispatch

/// The thread a store's write transactions run their Swift code on, between their steps on the
/// database connection.
///
/// A transaction takes several steps on GRDB's writer queue (begin, read the current versions, write,
/// commit), and after each one its task must run again to take the next. On Swift's shared pool
/// that waits for a free thread, and during a migration both threads are busy mapping — for
/// milliseconds at a time — while the transaction holds the store's write lock. Transactions that
/// prefer this executor continue on their own thread instead.
final class WriterExecutor: TaskExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
