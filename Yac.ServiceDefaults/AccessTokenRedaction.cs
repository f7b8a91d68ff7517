using System.Diagnostics;
using System.Text;

namespace Yac.ServiceDefaults;

/// <summary>
/// Keeps access tokens out of spans. Browsers can pass a token only in a URL (<c>/ws?access_token=</c>),
/// and Aspire's AppHost turns the OpenTelemetry instrumentations' own query redaction off in
/// development; so every service replaces <c>access_token</c> values itself, in every environment, on
/// server spans (<c>url.query</c>) and client spans (<c>url.full</c>). The other parameters stay readable.
/// </summary>
internal static class AccessTokenRedaction
{
    public const string QueryName = "access_token";
    public const string Redacted = "Redacted";

    private const string Key = QueryName + "=";
    private static readonly char[] s_valueEnds = ['&', '#'];

    /// <summary>Rewrites a URL or query tag of <paramref name="activity"/> if it carries an access token.</summary>
    public static void RedactTag(Activity activity, string tag)
    {
        if (activity.GetTagItem(tag) is string value)
        {
            var redacted = Redact(value);
            if (!ReferenceEquals(redacted, value))
            {
                activity.SetTag(tag, redacted);
            }
        }
    }

    /// <summary>
    /// <paramref name="urlOrQuery"/> with the value of every <c>access_token</c> parameter (any case, as
    /// ASP.NET Core reads it) replaced by <see cref="Redacted"/>; the same instance when there is none.
    /// </summary>
    public static string Redact(string urlOrQuery)
    {
        var index = urlOrQuery.IndexOf(Key, StringComparison.OrdinalIgnoreCase);
        if (index < 0)
        {
            return urlOrQuery;
        }

        var redacted = new StringBuilder(urlOrQuery.Length);
        var copied = 0;
        while (index >= 0)
        {
            var searchFrom = index + Key.Length;
            // A parameter name starts the query or follows a separator (not "my_access_token=").
            if (index == 0 || urlOrQuery[index - 1] is '?' or '&')
            {
                var valueStart = searchFrom;
                var valueEnd = urlOrQuery.IndexOfAny(s_valueEnds, valueStart);
                valueEnd = valueEnd < 0 ? urlOrQuery.Length : valueEnd;
                redacted.Append(urlOrQuery, copied, valueStart - copied).Append(Redacted);
                // Whatever the value holds is gone, even text that looks like another parameter.
                copied = searchFrom = valueEnd;
            }

            index = urlOrQuery.IndexOf(Key, searchFrom, StringComparison.OrdinalIgnoreCase);
        }

        return redacted.Append(urlOrQuery, copied, urlOrQuery.Length - copied).ToString();
    }
}
