using System.Numerics;

namespace Yac.Bench.Load;

/// <summary>
/// A lock-free log-linear histogram of latencies in microseconds (128 sub-buckets per power of two,
/// so any percentile is within 1% of the recorded value). Many receive loops record into one at once.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBuckets = 128;
    private const int SubBucketBits = 7;
    private const int BucketCount = (64 - SubBucketBits) * SubBuckets;

    private readonly long[] _counts = new long[BucketCount];
    private long _total;
    private long _maxMicros;

    public long Count => Interlocked.Read(ref _total);

    public double MaxMilliseconds => Interlocked.Read(ref _maxMicros) / 1000.0;

    public void Record(long micros)
    {
        micros = Math.Max(0, micros);
        Interlocked.Increment(ref _counts[IndexOf(micros)]);
        Interlocked.Increment(ref _total);
        var max = Interlocked.Read(ref _maxMicros);
        while (micros > max)
        {
            var seen = Interlocked.CompareExchange(ref _maxMicros, micros, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    /// <summary>The value at <paramref name="percentile"/> (0-100) in milliseconds; 0 when empty.</summary>
    public double PercentileMilliseconds(double percentile)
    {
        var total = Count;
        if (total == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(percentile / 100.0 * total);
        rank = Math.Clamp(rank, 1, total);
        long seen = 0;
        for (var index = 0; index < BucketCount; index++)
        {
            seen += Interlocked.Read(ref _counts[index]);
            if (seen >= rank)
            {
                return Math.Min(UpperBoundOf(index), Interlocked.Read(ref _maxMicros)) / 1000.0;
            }
        }

        return MaxMilliseconds;
    }

    public LatencySummary Summarize() => new(
        Count,
        PercentileMilliseconds(50),
        PercentileMilliseconds(90),
        PercentileMilliseconds(99),
        MaxMilliseconds);

    /// <summary>The non-empty buckets and the maximum, to carry a worker process's histogram to the main one.</summary>
    public HistogramData Export()
    {
        var buckets = new Dictionary<int, long>();
        for (var index = 0; index < BucketCount; index++)
        {
            var count = Interlocked.Read(ref _counts[index]);
            if (count > 0)
            {
                buckets[index] = count;
            }
        }

        return new HistogramData(buckets, Interlocked.Read(ref _maxMicros));
    }

    /// <summary>A new histogram holding this one's values and every one of <paramref name="others"/>.</summary>
    public LatencyHistogram MergedWith(IEnumerable<HistogramData> others)
    {
        var merged = new LatencyHistogram();
        merged.Add(Export());
        foreach (var other in others)
        {
            merged.Add(other);
        }

        return merged;
    }

    private void Add(HistogramData data)
    {
        foreach (var (index, count) in data.Buckets)
        {
            _counts[index] += count;
            _total += count;
        }

        _maxMicros = Math.Max(_maxMicros, data.MaxMicros);
    }

    private static int IndexOf(long micros)
    {
        if (micros < SubBuckets)
        {
            return (int)micros;
        }

        var highestBit = 63 - BitOperations.LeadingZeroCount((ulong)micros);
        var shift = highestBit - SubBucketBits;
        var mantissa = (int)(micros >> shift) & (SubBuckets - 1);
        return ((shift + 1) * SubBuckets) + mantissa;
    }

    private static long UpperBoundOf(int index)
    {
        if (index < SubBuckets)
        {
            return index;
        }

        var shift = (index / SubBuckets) - 1;
        var mantissa = index % SubBuckets;
        return ((SubBuckets + mantissa + 1L) << shift) - 1;
    }
}

/// <summary>Latency percentiles in milliseconds.</summary>
public sealed record LatencySummary(long Count, double P50, double P90, double P99, double Max);

/// <summary>A histogram's non-empty buckets, as JSON carries them between processes.</summary>
public sealed record HistogramData(Dictionary<int, long> Buckets, long MaxMicros);
