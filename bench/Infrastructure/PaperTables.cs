using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace FastThreadPool.Benchmarks.Infrastructure;

/// <summary>
/// The per-suite tables of <c>papers/README.md</c>: one row per case and implementation, one column per machine,
/// each cell the time per operation with the ratio to that run's baseline of the case. Mode
/// <c>papers-tables SMALL.json LARGE.json [LARGE-SCALING.json]</c> prints them; where a case is in both of the large
/// machine's sets, the scaling run is shown.
/// </summary>
public static class PaperTables
{
    private static readonly string[] SuiteOrder = ["queue", "deque", "semaphore", "pool", "timers", "async"];

    public static string Write(List<SummaryRow> small, List<SummaryRow> large, List<SummaryRow>? largeScaling, string smallName, string largeName)
    {
        if (largeScaling is not null)
        {
            var scaled = largeScaling.Select(r => (r.Suite, r.Case)).ToHashSet();
            large = large.Where(r => !scaled.Contains((r.Suite, r.Case))).Concat(largeScaling).ToList();
        }

        var sb = new StringBuilder();
        IEnumerable<string> suites = SuiteOrder.Concat(small.Concat(large).Select(r => r.Suite).Distinct().Except(SuiteOrder));
        foreach (string suite in suites)
        {
            List<SummaryRow> rows = small.Concat(large).Where(r => r.Suite == suite).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            sb.AppendLine(CultureInfo.InvariantCulture, $"#### {suite}");
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"| case | implementation | {smallName} | {largeName} |");
            sb.AppendLine("|---|---|---:|---:|");

            // Cases in the order they first appear (small machine first), implementations likewise.
            foreach (string @case in rows.Select(r => r.Case).Distinct())
            {
                foreach (string impl in rows.Where(r => r.Case == @case).Select(r => r.Impl).Distinct())
                {
                    bool ours = rows.Any(r => r.Case == @case && r.Impl == impl && r.Ours);
                    string name = ours ? $"**{impl}**" : impl;
                    sb.AppendLine(CultureInfo.InvariantCulture, $"| {@case} | {name} | {Cell(small, @case, impl, suite, 2)} | {Cell(large, @case, impl, suite, 16)} |");
                }
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    private static string Cell(List<SummaryRow> rows, string @case, string impl, string suite, int cores)
    {
        SummaryRow? row = rows.FirstOrDefault(r => r.Suite == suite && r.Case == @case && r.Impl == impl);
        if (row is null)
        {
            return "-";
        }

        SummaryRow? baseline = rows.FirstOrDefault(r => r.Suite == suite && r.Case == @case && r.Baseline);
        // No ratio where either time is not above zero (a timer's median lateness below zero: it fired early).
        string ratio = baseline is null || row.NsPerOp <= 0 || baseline.NsPerOp <= 0 ? "-" : (baseline.NsPerOp / row.NsPerOp).ToString("0.00", CultureInfo.InvariantCulture);

        // Timer lateness is stored in ns; it reads better in microseconds.
        string time = @case.StartsWith("lateness", StringComparison.Ordinal)
            ? (row.NsPerOp / 1000).ToString("#,0", CultureInfo.InvariantCulture) + " us"
            : row.NsPerOp.ToString("0.00", CultureInfo.InvariantCulture);
        string over = row.Threads > cores ? " oversubscribed" : "";
        return $"{time} ({ratio}){over}";
    }
}
