extension RunReport.FailureRow {
    /// The row of a delivery of line `line` of `file` to `endpoint` that did not succeed.
    init(file: String, line: Int, eventID: String?, eventType: String?, endpoint: String, failure: DeliveryFailure) {
        self.init(
            file: file, line: line, eventID: eventID, eventType: eventType, endpoint: endpoint, attempts: failure.attempts,
            lastStatus: failure.lastStatus, lastError: failure.reason.word, responseExcerpt: failure.responseExcerpt
        )
    }

    /// The row of an invalid line, `reason` saying why.
    init(file: String, invalidLine line: Int, reason: String) {
        self.init(file: file, line: line, eventID: nil, eventType: nil, endpoint: nil, attempts: 0, lastStatus: nil, lastError: reason, responseExcerpt: nil)
    }
}
