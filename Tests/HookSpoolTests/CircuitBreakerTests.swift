import Testing
@testable import HookSpool

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    static func failure(_ failure: AttemptFailure) -> Attempt { Attempt(number: 1, result: .failure(failure), latency: .zero) }
    static func answer(_ status: Int) -> Attempt { Attempt(number: 1, result: .response(status: status), latency: .zero) }

    @Test("opens on the threshold-th consecutive transport failure, once")
    func opens() {
        let circuit = CircuitBreaker(threshold: 3)
        #expect(!circuit.record(Self.failure(.timeout)))
        #expect(!circuit.record(Self.failure(.connectError)))
        #expect(!circuit.isOpen)
        #expect(circuit.record(Self.failure(.connectionClosed)))
        #expect(circuit.isOpen)
        #expect(!circuit.record(Self.failure(.timeout)))
    }

    @Test("any answer, even a 500, resets the count; a refused address never counts")
    func resets() {
        let circuit = CircuitBreaker(threshold: 2)
        #expect(!circuit.record(Self.failure(.timeout)))
        #expect(!circuit.record(Self.answer(500)))
        #expect(!circuit.record(Self.failure(.timeout)))
        #expect(!circuit.record(Self.failure(.addressNotAllowed)))
        #expect(!circuit.isOpen)
        #expect(circuit.record(Self.failure(.timeout)))
    }

    @Test("an open circuit stays open whatever comes after")
    func staysOpen() {
        let circuit = CircuitBreaker(threshold: 1)
        #expect(circuit.record(Self.failure(.timeout)))
        #expect(!circuit.record(Self.answer(200)))
        #expect(circuit.isOpen)
    }
}
