import Testing
@testable import HookSpool

/// `Attempt`: what an attempt's answer or failure means for the delivery.
@Suite("Attempt verdicts")
struct AttemptTests {
    @Test("status classes")
    func verdicts() {
        func verdict(_ status: Int) -> Attempt.Verdict {
            Attempt(number: 1, result: .response(status: status), latency: .zero).verdict
        }
        for status in [200, 201, 204, 299] { #expect(verdict(status) == .delivered) }
        for status in [408, 425, 429, 500, 502, 503, 504, 599] { #expect(verdict(status) == .retry) }
        for status in [100, 301, 302, 304, 400, 401, 403, 404, 410, 413, 422] { #expect(verdict(status) == .permanent) }
        for failure in AttemptFailure.allCases {
            #expect(Attempt(number: 1, result: .failure(failure), latency: .zero).verdict == (failure == .addressNotAllowed ? .permanent : .retry))
        }
    }
}
