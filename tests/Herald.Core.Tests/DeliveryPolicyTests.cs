using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Herald.Delivery;

namespace Herald.Core.Tests;

public sealed class DeliveryPolicyTests
{
    /// <summary>One tick: <see cref="TimeSpan.FromMilliseconds(double)"/> keeps ticks, dropping any fraction of one.</summary>
    private const double TickMs = 0.0001;

    [Fact]
    public void Defaults_AreTheDesignValues()
    {
        var policy = new DeliveryPolicy();

        Assert.Equal(8, policy.Retries);
        Assert.Equal(9, policy.MaxAttempts);
        Assert.Equal(10_000, policy.Timeout);
        Assert.Equal(1, policy.ExponentialTimeoutCoefficient);
        Assert.Equal(1000, policy.InitialBackoffDelay);
        Assert.Equal(2, policy.ExponentialBackoffCoefficient);
        Assert.Equal(600_000, policy.MaxBackoffDelay);
        Assert.Equal(10, policy.Concurrency);
        Assert.Equal(86_400_000, policy.MaxEventAge);
        Assert.Equal(TimeSpan.FromHours(1), DeliveryPolicy.MaxAttemptTimeout);
    }

    [Theory]
    [InlineData(1, 3000)]
    [InlineData(2, 6000)]
    [InlineData(3, 12000)]
    [InlineData(5, 48000)]
    public void AttemptTimeout_GrowsByTheCoefficientFromTheFirstAttempt(int attempt, int expectedMs)
    {
        var policy = new DeliveryPolicy { Timeout = 3000, ExponentialTimeoutCoefficient = 2 };

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), policy.AttemptTimeout(attempt));
    }

    [Fact]
    public void AttemptTimeout_DefaultCoefficient_IsConstant()
    {
        var policy = new DeliveryPolicy();

        Assert.All(Enumerable.Range(1, 9), n => Assert.Equal(TimeSpan.FromSeconds(10), policy.AttemptTimeout(n)));
    }

    [Fact]
    public void AttemptTimeout_FractionalCoefficient_IsExact()
    {
        var policy = new DeliveryPolicy { Timeout = 1000, ExponentialTimeoutCoefficient = 1.5 };

        Assert.Equal(TimeSpan.FromMilliseconds(2250), policy.AttemptTimeout(3));
    }

    [Theory]
    [InlineData(3_600_000, 1)]
    [InlineData(3_600_000, 2)]
    [InlineData(1_000_000, 3)]
    [InlineData(1_000_000, 100)]
    [InlineData(1, 10_000)]
    public void AttemptTimeout_IsCappedAtOneHour(int timeoutMs, int attempt)
    {
        var policy = new DeliveryPolicy { Timeout = timeoutMs, ExponentialTimeoutCoefficient = 10 };

        Assert.Equal(TimeSpan.FromHours(1), policy.AttemptTimeout(attempt));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void AttemptTimeout_AttemptBelowOne_Throws(int attempt)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new DeliveryPolicy().AttemptTimeout(attempt));

        Assert.Equal("attempt", ex.ParamName);
    }

    [Theory]
    [InlineData(1, 0.0, 1000)]
    [InlineData(1, 0.5, 1100)]
    [InlineData(2, 0.0, 2000)]
    [InlineData(3, 0.0, 4000)]
    [InlineData(3, 0.25, 4200)]
    [InlineData(8, 0.0, 128_000)]
    [InlineData(10, 0.0, 512_000)]
    [InlineData(10, 0.5, 563_200)]
    [InlineData(11, 0.0, 600_000)]
    [InlineData(50, 0.9, 600_000)]
    public void BackoffDelay_DefaultPolicy_FollowsTheFormula(int retry, double jitter, int expectedMs)
    {
        Assert.Equal(expectedMs, new DeliveryPolicy().BackoffDelay(retry, jitter).TotalMilliseconds, precision: 3);
    }

    [Fact]
    public void BackoffDelay_JitterJustBelowOne_StaysBelowTwentyPercentMore()
    {
        var delay = new DeliveryPolicy().BackoffDelay(1, Math.BitDecrement(1.0));

        Assert.True(delay <= TimeSpan.FromMilliseconds(1200), $"{delay.TotalMilliseconds} ms");
        Assert.True(delay > TimeSpan.FromMilliseconds(1199.99), $"{delay.TotalMilliseconds} ms");
    }

    [Fact]
    public void BackoffDelay_HugeRetry_IsCapped()
    {
        Assert.Equal(TimeSpan.FromMinutes(10), new DeliveryPolicy().BackoffDelay(100_000, 0.3));
    }

    [Fact]
    public void BackoffDelay_CustomCap_IsHonoured()
    {
        var policy = new DeliveryPolicy { MaxBackoffDelay = 1500 };

        Assert.Equal(TimeSpan.FromMilliseconds(1500), policy.BackoffDelay(2, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(1100), policy.BackoffDelay(1, 0.5));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void BackoffDelay_RetryBelowOne_Throws(int retry)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new DeliveryPolicy().BackoffDelay(retry, 0));

        Assert.Equal("retry", ex.ParamName);
    }

    [Theory]
    [InlineData(-0.0001)]
    [InlineData(-1)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void BackoffDelay_JitterOutsideZeroToOne_Throws(double jitter)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new DeliveryPolicy().BackoffDelay(1, jitter));

        Assert.Equal("jitter", ex.ParamName);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(30_000, 30_000)]
    [InlineData(600_000, 600_000)]
    [InlineData(3_600_000, 600_000)]
    [InlineData(-5_000, 0)]
    public void CapRetryAfter_IsClampedToZeroAndTheCap(int askedMs, int expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), new DeliveryPolicy().CapRetryAfter(TimeSpan.FromMilliseconds(askedMs)));
    }

    [Fact]
    public void CapRetryAfter_CustomCapAndHugeValue_IsCapped()
    {
        var policy = new DeliveryPolicy { MaxBackoffDelay = 5000 };

        Assert.Equal(TimeSpan.FromSeconds(5), policy.CapRetryAfter(TimeSpan.MaxValue));
        Assert.Equal(TimeSpan.FromSeconds(2), policy.CapRetryAfter(TimeSpan.FromSeconds(2)));
    }

    // ---- properties over the ranges service.json accepts ----

    private static Arbitrary<DeliveryPolicy> Policies() =>
        (from timeout in Gen.Choose(1, 3_600_000)
         from timeoutCoefficient in Coefficients()
         from initial in Gen.Choose(0, 3_600_000)
         from backoffCoefficient in Coefficients()
         from cap in Gen.Choose(0, 86_400_000)
         select new DeliveryPolicy
         {
             Timeout = timeout,
             ExponentialTimeoutCoefficient = timeoutCoefficient,
             InitialBackoffDelay = initial,
             ExponentialBackoffCoefficient = backoffCoefficient,
             MaxBackoffDelay = cap,
         }).ToArbitrary();

    /// <summary>Coefficients from 1 to 10, with the common whole values and 1 itself drawn often.</summary>
    private static Gen<double> Coefficients() =>
        Gen.OneOf(Gen.Elements(1.0, 1.5, 2.0, 3.0, 10.0), Gen.Choose(1000, 10_000).Select(i => i / 1000.0));

    /// <summary>Jitter draws in [0, 1), with both ends drawn often.</summary>
    private static Arbitrary<double> Jitters() =>
        Gen.OneOf(Gen.Elements(0.0, 0.5, Math.BitDecrement(1.0)), Gen.Choose(0, 999_999).Select(i => i / 1_000_000.0)).ToArbitrary();

    private static Arbitrary<(double A, double B)> JitterPairs() =>
        (from a in Jitters().Generator from b in Jitters().Generator select (a, b)).ToArbitrary();

    /// <summary>Retries 1 to 101: service.json allows at most 100 retries, so retry 101 is never scheduled, but it is kept in range.</summary>
    private static Arbitrary<int> Retries() => Gen.Choose(1, 101).ToArbitrary();

    private static double Base(DeliveryPolicy p, int retry) => p.InitialBackoffDelay * Math.Pow(p.ExponentialBackoffCoefficient, retry - 1);

    [Property(MaxTest = 500)]
    public Property BackoffDelay_IsWithinBaseAndTwentyPercentMore_AndNeverAboveTheCap() =>
        Prop.ForAll(Policies(), Retries(), Jitters(), (policy, retry, jitter) =>
        {
            var ms = policy.BackoffDelay(retry, jitter).TotalMilliseconds;
            var low = Math.Min(Base(policy, retry), policy.MaxBackoffDelay);
            var high = Math.Min(1.2 * Base(policy, retry), policy.MaxBackoffDelay);
            return ms >= low - (low * 1e-12) - TickMs && ms <= high + TickMs && ms <= policy.MaxBackoffDelay;
        });

    [Property(MaxTest = 500)]
    public Property BackoffDelay_IsNonDecreasingInTheRetry_ForTheSameJitter() =>
        Prop.ForAll(Policies(), Retries(), Jitters(), (policy, retry, jitter) =>
            policy.BackoffDelay(retry, jitter) <= policy.BackoffDelay(retry + 1, jitter));

    [Property(MaxTest = 500)]
    public Property BackoffDelay_IsNonDecreasingInTheJitter_ForTheSameRetry() =>
        Prop.ForAll(Policies(), Retries(), JitterPairs(), (policy, retry, pair) =>
            policy.BackoffDelay(retry, Math.Min(pair.A, pair.B)) <= policy.BackoffDelay(retry, Math.Max(pair.A, pair.B)));

    [Property(MaxTest = 500)]
    public Property AttemptTimeout_IsNonDecreasing_StartsAtTimeout_AndNeverAboveOneHour() =>
        Prop.ForAll(Policies(), Gen.Choose(1, 101).ToArbitrary(), (policy, attempt) =>
        {
            var current = policy.AttemptTimeout(attempt);
            var next = policy.AttemptTimeout(attempt + 1);
            var first = policy.AttemptTimeout(1);
            return current <= next
                && next <= DeliveryPolicy.MaxAttemptTimeout
                && current >= first
                && first == TimeSpan.FromMilliseconds(policy.Timeout);
        });

    [Property(MaxTest = 500)]
    public Property AttemptTimeout_MatchesTheFormula() =>
        Prop.ForAll(Policies(), Gen.Choose(1, 101).ToArbitrary(), (policy, attempt) =>
        {
            var expected = Math.Min(policy.Timeout * Math.Pow(policy.ExponentialTimeoutCoefficient, attempt - 1), 3_600_000);
            var actual = policy.AttemptTimeout(attempt).TotalMilliseconds;
            return Math.Abs(actual - expected) <= TickMs + (expected * 1e-12);
        });

    [Property(MaxTest = 300)]
    public Property CapRetryAfter_IsNeverNegativeNorAboveTheCap() =>
        Prop.ForAll(Policies(), Gen.Choose(-100_000, int.MaxValue).ToArbitrary(), (policy, askedMs) =>
        {
            var capped = policy.CapRetryAfter(TimeSpan.FromMilliseconds(askedMs));
            return capped >= TimeSpan.Zero
                && capped <= TimeSpan.FromMilliseconds(policy.MaxBackoffDelay)
                && (askedMs < 0 || askedMs > policy.MaxBackoffDelay || capped == TimeSpan.FromMilliseconds(askedMs));
        });
}
