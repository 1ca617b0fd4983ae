/// The version hookspool reports in `User-Agent` and `--version`.
public enum HookSpoolVersion {
    public static let current = "0.4.0"
}
