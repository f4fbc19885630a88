namespace Herald.Fuzz;

/// <summary>
/// Bugs the fuzzers found that are reported but not fixed yet. A failure matching one is counted under the issue's
/// id instead of as a new failure, so a run (and CI) still fails on anything new; <c>--strict</c> counts these too.
/// Remove an entry once its fix lands: the fuzzers then hold the fix in place. See docs/fuzzing.md.
/// None is open: K1 to K4 (docs/fuzzing.md) are fixed, and the fuzzers now fail on any of them.
/// </summary>
public static class KnownIssues
{
    /// <summary>The known issue a manifest parser failure is, or <c>null</c> if it is new.</summary>
    public static string? OfManifestFailure(string kind, string detail) => null;

    /// <summary>The known issue a publish failure is, or <c>null</c> if it is new.</summary>
    public static string? OfPublishFailure(string outcome, bool predictable) => null;
}
