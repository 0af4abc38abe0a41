using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ScottPlot;

namespace FastThreadPool.Benchmarks.Infrastructure;

/// <summary>
/// One PNG chart per suite from the summary rows: a horizontal bar per row, its length the speed against the case's
/// baseline (baseline time / row time; the baseline is 1, longer is faster), ours in blue, the BCL peers in grey.
/// Rows whose time is not positive (a timer that fired early) and cases without a baseline are left out.
/// </summary>
public static class Charts
{
    private static readonly Color Ours = Color.FromHex("#1f6fb5");
    private static readonly Color Peer = Color.FromHex("#9a9a9a");

    /// <summary>Writes <c>chart-SUITE.png</c> for every suite into <paramref name="directory"/>; returns the files.</summary>
    public static List<string> Write(IReadOnlyList<SummaryRow> rows, string directory, string machine, int cores)
    {
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        foreach (IGrouping<string, SummaryRow> suite in rows.GroupBy(r => r.Suite))
        {
            var bars = new List<(string Label, double Ratio, bool Ours)>();
            foreach (IGrouping<string, SummaryRow> c in suite.GroupBy(r => r.Case))
            {
                SummaryRow? baseline = c.FirstOrDefault(r => r.Baseline);
                if (baseline is null || baseline.NsPerOp <= 0)
                {
                    continue;
                }

                foreach (SummaryRow r in c.OrderBy(r => r.Baseline ? 0 : r.Ours ? 2 : 1))
                {
                    if (r.NsPerOp > 0)
                    {
                        string threads = r.Threads > 1 && !c.Key.Contains("thread", StringComparison.Ordinal) ? $", {r.Threads} threads" : "";
                        threads += r.Threads > cores ? " (oversubscribed)" : "";
                        bars.Add(($"{c.Key}{threads}: {r.Impl}", baseline.NsPerOp / r.NsPerOp, r.Ours));
                    }
                }
            }

            if (bars.Count == 0)
            {
                continue;
            }

            var plot = new Plot();
            var items = new List<Bar>();
            var positions = new double[bars.Count];
            var labels = new string[bars.Count];
            for (int i = 0; i < bars.Count; i++)
            {
                double position = bars.Count - 1 - i; // first row at the top
                positions[i] = position;
                labels[i] = bars[i].Label;
                items.Add(new Bar
                {
                    Position = position,
                    Value = bars[i].Ratio,
                    FillColor = bars[i].Ours ? Ours : Peer,
                    Label = bars[i].Ratio.ToString("0.00", CultureInfo.InvariantCulture) + "x",
                });
            }

            var barPlot = plot.Add.Bars(items);
            barPlot.Horizontal = true;
            plot.Add.VerticalLine(1.0, width: 1, color: Colors.Black);
            plot.Axes.Left.SetTicks(positions, labels);
            plot.Axes.Margins(left: 0, right: 0.15, bottom: 0.02, top: 0.02);
            plot.Title($"{suite.Key}: speed against the BCL baseline (x, longer is faster)");
            plot.XLabel(machine);
            string file = Path.Combine(directory, $"chart-{suite.Key}.png");
            // Wide enough that the plot area keeps room for the machine line under it, whatever the longest label.
            int width = Math.Max(1100, 700 + (7 * bars.Max(b => b.Label.Length)));
            plot.SavePng(file, width, 120 + (bars.Count * 26));
            files.Add(file);
        }

        return files;
    }
}
