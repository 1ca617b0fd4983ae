import HookSpool

/// The live progress line of `hookspool run` on a terminal: redrawn in place four times a second
/// below the log lines, and removed when the run ends. Off a terminal it never starts.
struct ProgressLine {
    /// How often the line is redrawn.
    static let interval: Duration = .milliseconds(250)

    let monitor: RunMonitor
    let terminal: StandardErrorTerminal

    /// Runs `body` with the line shown (when standard error is a terminal), then clears it.
    static func showing<T: Sendable>(
        _ monitor: RunMonitor, terminal: StandardErrorTerminal = .shared, enabled: Bool = StandardErrorTerminal.isTerminal,
        _ body: () async -> T
    ) async -> T {
        guard enabled else { return await body() }
        let line = ProgressLine(monitor: monitor, terminal: terminal)
        let redraw = Task { await line.redraw() }
        let result = await body()
        redraw.cancel()
        await redraw.value
        terminal.clearStatus()
        return result
    }

    /// Redraws until cancelled; the first draw waits one interval, so a run that ends at once shows nothing.
    private func redraw() async {
        let clock = ContinuousClock()
        let start = clock.now
        var text = ProgressText()
        while true {
            do {
                try await Task.sleep(for: Self.interval)
            } catch {
                return
            }
            guard let progress = monitor.progress else { continue }
            terminal.showStatus("hookspool: " + text.line(progress, elapsed: start.duration(to: clock.now)))
        }
    }
}
