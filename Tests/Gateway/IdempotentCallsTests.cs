using System.Diagnostics;
using ImOrleans.Gateway.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ImOrleans.Tests.Gateway;

/// <summary>The gateway's retry of calls that may run twice: a lost attempt is repeated, an answer (even a refusal) is
/// not, and the whole call is bounded. (A silo's death end to end: <c>ClusterModeTests</c>.)</summary>
[TestClass]
public sealed class IdempotentCallsTests
{
    private static IdempotentCalls Calls(int attemptMs, int budgetMs) =>
        new(Options.Create(new CallRetryOptions { AttemptTimeout = TimeSpan.FromMilliseconds(attemptMs), Budget = TimeSpan.FromMilliseconds(budgetMs) }),
            NullLogger<IdempotentCalls>.Instance);

    [TestMethod]
    public async Task AnAttemptLostWithASiloIsRepeatedUntilTheGrainAnswers()
    {
        var attempts = 0;
        var answer = await Calls(attemptMs: 200, budgetMs: 10_000).InvokeAsync("test", async ct =>
        {
            switch (++attempts)
            {
                case 1: // in flight to the silo that died: no answer ever comes
                    await Task.Delay(Timeout.Infinite, ct);
                    return 0;
                case 2: // the silo is known to be gone, the grain not yet placed elsewhere
                    throw new SiloUnavailableException();
                default:
                    return 42;
            }
        });

        Assert.AreEqual(42, answer);
        Assert.AreEqual(3, attempts);
    }

    [TestMethod]
    public async Task AnAnswerIsNeverRepeatedEvenARefusal()
    {
        var attempts = 0;
        var refused = await Assert.ThrowsAsync<ImException>(() => Calls(attemptMs: 200, budgetMs: 10_000).InvokeAsync<int>("test", _ =>
        {
            attempts++;
            throw new ImException(ErrorCodes.NotMember, "not a member");
        }));

        Assert.AreEqual(ErrorCodes.NotMember, refused.Code);
        Assert.AreEqual(1, attempts, "a refusal is an answer: the call ran, and is not made again");
    }

    [TestMethod]
    public async Task ACallThatIsNeverAnsweredEndsAsUnavailableWithinItsBudget()
    {
        var attempts = 0;
        var clock = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<ImException>(() => Calls(attemptMs: 200, budgetMs: 1_000).InvokeAsync<int>("test", async ct =>
        {
            attempts++;
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }));

        Assert.AreEqual(ErrorCodes.Unavailable, refused.Code);
        Assert.IsTrue(attempts >= 2, $"the lost call was repeated ({attempts} attempts)");
        Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(3), $"gave up after {clock.Elapsed}, budget 1 s");
    }

    [TestMethod]
    public async Task ASlowCallIsNotMadeTwiceButARefusedOneIsRepeated()
    {
        var attempts = 0;
        await Calls(attemptMs: 100, budgetMs: 10_000).InvokeSlowAsync("test", async () =>
        {
            if (++attempts == 1)
                throw new SiloUnavailableException(); // refused on the way: it never reached the grain
            await Task.Delay(500); // a long replay, well past the attempt timeout of quick calls
            return true;
        });

        Assert.AreEqual(2, attempts);
    }

    [TestMethod]
    public async Task ACallerThatGivesUpStopsTheRetries()
    {
        var attempts = 0;
        using var gone = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAsync<OperationCanceledException>(() => Calls(attemptMs: 5_000, budgetMs: 10_000).InvokeAsync<int>("test", async ct =>
        {
            attempts++;
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }, gone.Token));

        Assert.AreEqual(1, attempts);
    }
}
