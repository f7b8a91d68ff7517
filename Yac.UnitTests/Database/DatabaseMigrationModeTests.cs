using Microsoft.Extensions.Configuration;
using Yac.Shared;

namespace Yac.UnitTests.Database;

public sealed class DatabaseMigrationModeTests
{
    [Theory]
    [InlineData(null, "Apply")]
    [InlineData("", "Apply")]
    [InlineData("Apply", "Apply")]
    [InlineData("ApplyAndExit", "ApplyAndExit")]
    [InlineData("applyandexit", "ApplyAndExit")]
    [InlineData(" Verify ", "Verify")]
    public void TheModeIsReadFromYacDatabaseMigrationsAndDefaultsToApply(string? value, string expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [DatabaseMigrations.ModeKey] = value })
            .Build();

        Assert.Equal(expected, DatabaseMigrations.ReadMode(configuration).ToString());
    }

    [Theory]
    [InlineData("migrate")]
    [InlineData("3")]
    public void AnUnknownModeIsRefusedWithTheValidOnes(string value)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [DatabaseMigrations.ModeKey] = value })
            .Build();

        var exception = Assert.Throws<InvalidOperationException>(() => DatabaseMigrations.ReadMode(configuration));
        Assert.Contains("Apply, ApplyAndExit or Verify", exception.Message, StringComparison.Ordinal);
    }
}
