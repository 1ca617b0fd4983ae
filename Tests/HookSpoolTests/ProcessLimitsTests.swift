import Testing
@testable import HookSpool

@Suite("Process limits")
struct ProcessLimitsTests {
    @Test("the heap growth step is set, not skipped: glibc's mallopt is found")
    func heapGrowth() {
        #expect(ProcessLimits.growHeapsInLargeSteps())
    }
}
