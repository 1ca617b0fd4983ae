/// An in-process test server that can be stopped.
protocol StoppableServer: Sendable {
    func stop() async
}

extension StoppableServer {
    /// Runs `body` with this started server and stops it afterwards, whether `body` returned or threw.
    func serving<T>(_ body: (Self) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }
}
