namespace Yac.Contracts;

/// <summary>
/// The default cap on a request body of each service (<c>Yac:MaxRequestBodyBytes</c> overrides it
/// per process). The gateway forwards a body to a service only within that service's cap: a larger
/// one it refuses 413 itself, since the service would refuse it before reading it and close the
/// connection under a forwarder still writing it (which the client would see as a 503).
/// </summary>
public static class RequestBodyCaps
{
    /// <summary>Identity: its largest valid body (a registration) is about 1 KiB even with every character escaped.</summary>
    public const long Identity = 16 * 1024;

    /// <summary>ChatService: its largest valid public body (a group with 1000 initial members) is about 40 KiB.</summary>
    public const long Chat = 256 * 1024;

    /// <summary>The gateway itself: as large as the largest service's.</summary>
    public const long Gateway = Chat;
}
