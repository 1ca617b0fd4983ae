extension RunReport.FailureRow {
    /// The row of a delivery of line `line` of `file` to `endpoint` that did not succeed; its first
    /// attempt started at `firstAttempt` (unix seconds).
    init(file: String, line: Int, eventID: String?, eventType: String?, endpoint: String, failure: DeliveryFailure, firstAttempt: Int64? = nil) {
        self.init(
            file: file, line: line, eventID: eventID, eventType: eventType, endpoint: endpoint, attempts: failure.attempts,
            lastStatus: failure.lastStatus, lastError: failure.reason.word, responseExcerpt: failure.responseExcerpt,
            firstAttempt: firstAttempt.map { RFC3339.format(secondsSince1970: Int(clamping: $0)) }
        )
    }

    /// The row of an invalid line, `reason` saying why.
    init(file: String, invalidLine line: Int, reason: String) {
        self.init(file: file, line: line, eventID: nil, eventType: nil, endpoint: nil, attempts: 0, lastStatus: nil, lastError: reason, responseExcerpt: nil)
    }
}
