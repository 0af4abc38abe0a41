using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;

namespace FastThreadPool.Benchmarks.Infrastructure;

/// <summary>One row of the summary: one implementation in one case.</summary>
public sealed record SummaryRow(string Suite, string Case, string Impl, bool Ours, bool Baseline, int Threads, double NsPerOp, double AllocBytesPerOp);

/// <summary>
/// Converts BenchmarkDotNet's full JSON export into <c>summary.json</c> and <c>summary.md</c>, and prints the
/// comparison table. The row metadata comes from each benchmark method's <see cref="RowAttribute"/>.
/// </summary>
public static class Summary
{
    /// <summary>Reads the rows (and a one-line description of the machine) back from a <c>summary.json</c>.</summary>
    public static List<SummaryRow> ReadSummary(string file, out string machine, out int cores)
    {
        JsonNode doc = JsonNode.Parse(File.ReadAllText(file))!;
        JsonNode? m = doc["machine"];
        machine = m is null ? "" : $"{m["cores"]} cores, .NET {m["runtime"]}, {m["os"]}, {m["date"]}";
        cores = m is null ? Environment.ProcessorCount : (int)m["cores"]!;
        var rows = new List<SummaryRow>();
        foreach (JsonNode? r in doc["results"]!.AsArray())
        {
            rows.Add(new SummaryRow(
                (string)r!["suite"]!, (string)r["case"]!, (string)r["impl"]!, (bool)r["ours"]!, (bool)r["baseline"]!,
                (int)r["threads"]!, (double)r["ns_per_op"]!, (double)r["alloc_bytes_per_op"]!));
        }

        return rows;
    }

    /// <summary>The machine this process runs on, in one line (for charts).</summary>
    public static string ThisMachine() =>
        $"{Environment.ProcessorCount} cores, .NET {Environment.Version}, {RuntimeInformation.OSDescription}, {DateTime.UtcNow:yyyy-MM-dd}";

    public static List<SummaryRow> ReadBdnReports(string resultsDirectory)
    {
        var rows = new List<SummaryRow>();
        if (!Directory.Exists(resultsDirectory))
        {
            return rows;
        }

        Type[] types = typeof(Summary).Assembly.GetTypes();
        foreach (string file in Directory.GetFiles(resultsDirectory, "*-report-full.json").OrderBy(f => f, StringComparer.Ordinal))
        {
            JsonNode? root = JsonNode.Parse(File.ReadAllText(file));
            foreach (JsonNode? bench in root?["Benchmarks"]?.AsArray() ?? new JsonArray())
            {
                if (bench is null)
                {
                    continue;
                }

                string typeName = (string?)bench["Type"] ?? "";
                string ns = (string?)bench["Namespace"] ?? "";
                string methodName = (string?)bench["Method"] ?? "";
                string parameters = (string?)bench["Parameters"] ?? "";
                double? mean = (double?)bench["Statistics"]?["Mean"];
                if (mean is null)
                {
                    continue;
                }

                Type? type = types.FirstOrDefault(t => t.Name == typeName && (t.Namespace ?? "") == ns);
                MethodInfo? method = type?.GetMethod(methodName);
                RowAttribute? row = method?.GetCustomAttribute<RowAttribute>();
                if (row is null)
                {
                    continue;
                }

                bool baseline = method!.GetCustomAttribute<BenchmarkAttribute>()?.Baseline ?? false;
                Dictionary<string, string> values = ParseParameters(parameters);
                double alloc = (double?)bench["Memory"]?["BytesAllocatedPerOperation"] ?? 0;
                rows.Add(new SummaryRow(row.Suite, Expand(row.Case, values), row.Impl, row.Ours, baseline,
                    Threads(Expand(row.Threads, values)), mean.Value, alloc));
            }
        }

        return rows;
    }

    private static Dictionary<string, string> ParseParameters(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                values[pair[..eq]] = pair[(eq + 1)..];
            }
        }

        return values;
    }

    private static string Expand(string template, Dictionary<string, string> values)
    {
        foreach ((string key, string value) in values)
        {
            template = template.Replace("{" + key + "}", value, StringComparison.Ordinal);
        }

        return template;
    }

    private static int Threads(string expression) =>
        expression.Split('+').Sum(part => int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : 0);

    /// <summary>Writes <c>summary.json</c>, <c>summary.md</c> and the charts. <paramref name="lineRoundTrips"/>: the
    /// <see cref="LineRoundTrip"/> measured before and after the run, if it was.</summary>
    public static void Write(IReadOnlyList<SummaryRow> rows, string directory, string title, IReadOnlyList<double>? lineRoundTrips = null)
    {
        Directory.CreateDirectory(directory);
        var machine = new JsonObject
        {
            ["cores"] = Environment.ProcessorCount,
            ["runtime"] = Environment.Version.ToString(),
            ["os"] = RuntimeInformation.OSDescription,
            ["arch"] = RuntimeInformation.ProcessArchitecture.ToString(),
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
        string roundTrips = "";
        if (lineRoundTrips is { Count: > 0 })
        {
            machine["line_round_trip_ns"] = new JsonArray(lineRoundTrips.Select(t => (JsonNode?)JsonValue.Create(double.IsFinite(t) ? Math.Round(t, 1) : -1)).ToArray());
            roundTrips = " Cache-line round trip between two threads (see bench/Infrastructure/LineRoundTrip.cs): " +
                string.Join(" ns before, ", lineRoundTrips.Select(t => double.IsFinite(t) ? t.ToString("0", CultureInfo.InvariantCulture) : "unmeasured")) +
                " ns after the run.";
        }

        var results = new JsonArray();
        foreach (SummaryRow r in rows)
        {
            results.Add(new JsonObject
            {
                ["suite"] = r.Suite,
                ["case"] = r.Case,
                ["impl"] = r.Impl,
                ["ours"] = r.Ours,
                ["baseline"] = r.Baseline,
                ["threads"] = r.Threads,
                ["ns_per_op"] = Math.Round(r.NsPerOp, 3),
                ["alloc_bytes_per_op"] = Math.Round(r.AllocBytesPerOp, 3),
            });
        }

        var doc = new JsonObject { ["machine"] = machine, ["results"] = results };
        File.WriteAllText(Path.Combine(directory, "summary.json"), doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        string table = Table(rows);
        File.WriteAllText(Path.Combine(directory, "summary.md"),
            $"# {title}\n\nMachine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {RuntimeInformation.OSDescription}. " +
            "Ratio = baseline time / this row's time (above 1: faster than the baseline). Rows with more threads than cores are oversubscribed." +
            roundTrips + "\n\n" +
            table);
        Console.WriteLine();
        Console.WriteLine(table);
        try
        {
            foreach (string chart in Charts.Write(rows, directory, ThisMachine(), Environment.ProcessorCount))
            {
                Console.WriteLine($"Chart: {chart}");
            }
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or IOException)
        {
            // The numbers are written; a machine without the chart library's native part still gets them.
            Console.WriteLine($"Charts not drawn: {e.GetBaseException().Message}");
        }
    }

    /// <summary>A markdown table grouped by suite and case; the ratio is baseline ns / row ns.</summary>
    public static string Table(IReadOnlyList<SummaryRow> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| suite | case | implementation | ours | threads | ns/op | ratio vs baseline | bytes/op |");
        sb.AppendLine("|---|---|---|---|---:|---:|---:|---:|");
        int cores = Environment.ProcessorCount;
        foreach (IGrouping<(string Suite, string Case), SummaryRow> group in rows.GroupBy(r => (r.Suite, r.Case)))
        {
            SummaryRow? baseline = group.FirstOrDefault(r => r.Baseline);
            foreach (SummaryRow r in group.OrderBy(r => r.Baseline ? 0 : r.Ours ? 2 : 1))
            {
                string ratio = baseline is null || baseline.NsPerOp <= 0 ? "-"
                    : r.Baseline ? "1.00 (baseline)"
                    : r.NsPerOp <= 0 ? "- (early)"
                    : (baseline.NsPerOp / r.NsPerOp).ToString("0.00", CultureInfo.InvariantCulture);
                string threads = r.Threads.ToString(CultureInfo.InvariantCulture) + (r.Threads > cores ? " (oversubscribed)" : "");
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {r.Suite} | {r.Case} | {r.Impl} | {(r.Ours ? "yes" : "")} | {threads} | {r.NsPerOp:0.00} | {ratio} | {r.AllocBytesPerOp:0.##} |");
            }
        }

        return sb.ToString();
    }
}
