using System.Globalization;
using System.Text;

namespace Yac.Bench.Reporting;

/// <summary>
/// An SVG chart of delivery latency (p50 dashed, p99 solid; log scale) against offered load, one
/// colour per system, from the fan-out steps.
/// </summary>
public static class LatencyChart
{
    private const int Width = 760;
    private const int Height = 440;
    private const int Left = 70;
    private const int Right = 20;
    private const int Top = 40;
    private const int Bottom = 60;
    private static readonly string[] s_colours = ["#1f6feb", "#d1242f", "#1a7f37", "#8250df"];

    public static string Render(BenchReport report)
    {
        var series = report.Systems
            .Where(system => system.FanOut is { Steps.Count: > 0 })
            .Select(system => (system.Name, Steps: system.FanOut!.Steps))
            .ToList();
        var maxRate = series.SelectMany(entry => entry.Steps).Select(step => step.OfferedDeliveriesPerSecond).DefaultIfEmpty(1000).Max();
        var minMs = 0.1;
        var maxMs = Math.Max(10, series.SelectMany(entry => entry.Steps).Select(step => step.DeliveryLatency.P99).DefaultIfEmpty(10).Max());
        var logMin = Math.Log10(minMs);
        var logMax = Math.Ceiling(Math.Log10(maxMs));
        double X(double rate) => Left + (rate / maxRate * (Width - Left - Right));
        double Y(double ms) => Top + ((logMax - Math.Log10(Math.Max(minMs, ms))) / (logMax - logMin) * (Height - Top - Bottom));

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">Delivery latency (send to message) against offered load, 10-member chats, 2 instances</text>\n");

        for (var exponent = (int)logMin; exponent <= logMax; exponent++)
        {
            var ms = Math.Pow(10, exponent);
            var y = Y(ms);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Width - Right}\" y2=\"{y:F1}\" stroke=\"#ddd\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{ms:0.###} ms</text>\n");
        }

        for (var tick = 0; tick <= 5; tick++)
        {
            var rate = maxRate * tick / 5;
            var x = X(rate);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:F1}\" y1=\"{Top}\" x2=\"{x:F1}\" y2=\"{Height - Bottom}\" stroke=\"#eee\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:F1}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{rate / 1000:0.#}k</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 22}\" text-anchor=\"middle\">offered deliveries per second</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - Right}\" height=\"{Height - Top - Bottom}\" fill=\"none\" stroke=\"#888\"/>\n");

        for (var index = 0; index < series.Count; index++)
        {
            var (name, steps) = series[index];
            var colour = s_colours[index % s_colours.Length];
            AppendLine(svg, steps.Select(step => (X(step.OfferedDeliveriesPerSecond), Y(step.DeliveryLatency.P99))), colour, dashed: false);
            AppendLine(svg, steps.Select(step => (X(step.OfferedDeliveriesPerSecond), Y(step.DeliveryLatency.P50))), colour, dashed: true);
            var legendY = Top + 16 + (index * 18);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left + 10}\" y1=\"{legendY - 4}\" x2=\"{Left + 40}\" y2=\"{legendY - 4}\" stroke=\"{colour}\" stroke-width=\"2\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + 46}\" y=\"{legendY}\">{name}: p99 solid, p50 dashed</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void AppendLine(StringBuilder svg, IEnumerable<(double X, double Y)> points, string colour, bool dashed)
    {
        var list = points.ToList();
        var path = string.Join(" ", list.Select(point => string.Create(CultureInfo.InvariantCulture, $"{point.X:F1},{point.Y:F1}")));
        svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{(dashed ? " stroke-dasharray=\"5,4\"" : "")}/>\n");
        foreach (var (x, y) in list)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{x:F1}\" cy=\"{y:F1}\" r=\"3\" fill=\"{colour}\"/>\n");
        }
    }
}
