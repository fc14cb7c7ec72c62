using ImOrleans.Grains.Storage;
using Npgsql;

namespace ImOrleans.Tests.Storage;

[TestClass]
public sealed class StorageOptionsTests
{
    private static NpgsqlConnectionStringBuilder Effective(string configured) =>
        new(new StorageOptions { Provider = StorageOptions.PostgresProvider, PostgreSQL = configured }.PostgresConnectionString);

    [TestMethod]
    public void StatementsArePreparedAutomaticallyUnlessTheConnectionStringSaysOtherwise()
    {
        var effective = Effective("Host=db;Username=im;Password=secret;Database=im;Maximum Pool Size=40");

        Assert.AreEqual(32, effective.MaxAutoPrepare);
        (string Host, string? Username, string? Password, string? Database, int MaxPoolSize) kept =
            (effective.Host!, effective.Username, effective.Password, effective.Database, effective.MaxPoolSize);
        Assert.AreEqual(("db", "im", "secret", "im", 40), kept);
    }

    [TestMethod]
    [DataRow("Max Auto Prepare=0", 0)]
    [DataRow("Max Auto Prepare=5", 5)]
    [DataRow("maxautoprepare=0", 0)]
    public void AnOperatorsOwnMaxAutoPrepareIsKept(string setting, int expected) =>
        Assert.AreEqual(expected, Effective($"Host=db;Username=im;Database=im;{setting}").MaxAutoPrepare);

    [TestMethod]
    public void NoConnectionStringStaysNone() =>
        Assert.IsNull(new StorageOptions().PostgresConnectionString);
}
