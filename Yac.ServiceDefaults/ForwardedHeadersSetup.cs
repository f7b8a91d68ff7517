using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Which proxies may tell a service the client's address (<c>X-Forwarded-For</c>), from
/// <c>Yac:ForwardedHeaders</c>: <c>KnownProxies</c> (addresses) and <c>KnownNetworks</c> (CIDR,
/// e.g. <c>10.0.0.0/8</c>). Only the last hop is read (<c>ForwardLimit</c> 1), and only from one of
/// them, so a client cannot name its own address. With neither configured the service trusts
/// its <see cref="DefaultTrust"/>. Call <c>app.UseForwardedHeaders()</c> first in the pipeline.
/// </summary>
public static class ForwardedHeadersSetup
{
    public const string SectionName = "Yac:ForwardedHeaders";

    /// <summary>Whom a service trusts when nothing is configured.</summary>
    public enum DefaultTrust
    {
        /// <summary>Nobody: the connection's address is the client's (the public edge).</summary>
        Nobody,

        /// <summary>Loopback (127.0.0.0/8 and ::1): the gateway, when it runs on the same machine.</summary>
        Loopback,
    }

    public static TBuilder AddForwardedHeaders<TBuilder>(this TBuilder builder, DefaultTrust defaultTrust)
        where TBuilder : IHostApplicationBuilder
    {
        var section = builder.Configuration.GetSection(SectionName);
        var proxies = section.GetSection("KnownProxies").Get<string[]>() ?? [];
        var networks = section.GetSection("KnownNetworks").Get<string[]>() ?? [];
        builder.Services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = 1;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            if (proxies.Length == 0 && networks.Length == 0)
            {
                if (defaultTrust == DefaultTrust.Nobody)
                {
                    // Not "empty lists": the middleware takes those as "trust every proxy".
                    forwarded.ForwardedHeaders = ForwardedHeaders.None;
                    return;
                }

                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse("127.0.0.0/8"));
                forwarded.KnownProxies.Add(IPAddress.IPv6Loopback);
                return;
            }

            foreach (var proxy in proxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in networks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return builder;
    }
}
