using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Text;

namespace FastThreadPool.Tests.Unit.Reliability;

/// <summary>
/// Collects the rows of one reliability table while its tests run, and writes them as markdown to
/// <c>artifacts/reliability/NAME.md</c> when the test class is done (papers/reliability.md is filled from these).
/// </summary>
public abstract class Report : IDisposable
{
    private readonly ConcurrentDictionary<string, string[]> _rows = new();

    protected abstract string Name { get; }

    protected abstract string[] Columns { get; }

    public void Add(string key, params string[] cells) => _rows[key] = cells;

    public void Dispose()
    {
        if (_rows.IsEmpty)
        {
            return;
        }

        var text = new StringBuilder();
        text.AppendLine($"| {string.Join(" | ", Columns)} |");
        text.AppendLine($"|{string.Concat(Columns.Select(_ => "---|"))}");
        foreach (string[] row in _rows.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Value))
        {
            text.AppendLine($"| {string.Join(" | ", row.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal)))} |");
        }

        string dir = Path.Combine(RepoRoot(), "artifacts", "reliability");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, Name + ".md"), text.ToString());
        GC.SuppressFinalize(this);
    }

    private static string RepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "FastThreadPool.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? Directory.GetCurrentDirectory();
    }

    /// <summary>Runs <paramref name="act"/> and says what happened: "returns X" or "throws T (param)".</summary>
    public static string Outcome(Func<object?> act)
    {
        try
        {
            object? result = act();
            return result switch
            {
                null => "returns",
                bool b => b ? "returns true" : "returns false",
                _ => $"returns {result}",
            };
        }
        catch (ArgumentException e) when (e.ParamName is not null)
        {
            return $"throws {e.GetType().Name} ({e.ParamName})";
        }
        catch (Exception e)
        {
            return e.InnerException is null || e is AggregateException
                ? $"throws {e.GetType().Name}"
                : $"throws {e.GetType().Name} ({e.InnerException.GetType().Name})";
        }
    }
}
