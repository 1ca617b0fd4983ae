/// hookspool's exit codes (sysexits).
public enum ExitStatus: Int32, Sendable {
    /// Everything delivered, or nothing to do.
    case ok = 0
    /// Some delivery failed for good, or some line was invalid.
    case failures = 1
    /// The command line was wrong.
    case usage = 64
    /// Bad input data given directly on the command line.
    case dataError = 65
    /// The system lacks something the program needs: on Linux, /proc, to read its own arguments.
    case osError = 71
    /// The spool or report folder is unusable.
    case ioError = 74
    /// Work left safely for a later run.
    case tempFail = 75
    /// The config is wrong.
    case config = 78
}
