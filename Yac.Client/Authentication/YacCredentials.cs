namespace Yac.Client;

/// <summary>A username and password to sign in with (<c>POST /api/tokens</c>).</summary>
/// <param name="Username">The username (any case).</param>
/// <param name="Password">The password.</param>
/// <param name="DeviceName">Names the device session in YAC, e.g. "laptop".</param>
public sealed record YacCredentials(string Username, string Password, string? DeviceName = null)
{
    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"YacCredentials {{ Username = {Username}, DeviceName = {DeviceName} }}";
}
