using ImOrleans.Grains.Users;

namespace ImOrleans.Tests.Grains;

[TestClass]
public sealed class HashingLaneTests
{
    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public async Task NoMoreHashesRunAtOnceThanTheLaneIsWide(int width)
    {
        var lane = new HashingLane(width);
        int running = 0, most = 0;
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => lane.RunAsync(() =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            Thread.Sleep(30); // a hash keeps its thread busy
            Interlocked.Decrement(ref running);
            return i;
        })));

        CollectionAssert.AreEqual(Enumerable.Range(0, 8).ToArray(), results);
        Assert.IsLessThanOrEqualTo(width, most, $"{most} hashes ran at once in a lane {width} wide");
    }

    [TestMethod]
    public async Task AFailedHashFreesItsPlace()
    {
        var lane = new HashingLane(1);
        await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => lane.RunAsync<int>(() => throw new InvalidOperationException()));
        var next = lane.RunAsync(() => 42);
        Assert.AreSame(next, await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(10))), "the lane stayed taken after a failure");
        Assert.AreEqual(42, await next);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
