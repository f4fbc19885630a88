using Herald.Manifests;

namespace Herald.Core.Tests;

public sealed class RoutePatternTests
{
    private static RoutePattern Pattern(string text) =>
        RoutePattern.TryParse(text) ?? throw new InvalidOperationException($"'{text}' should parse.");

    [Fact]
    public void Literal_MatchesItsOwnPath_WithNoParameters()
    {
        var pattern = Pattern("/_v/app/events-example/hcheck");

        var values = pattern.Match("/_v/app/events-example/hcheck");

        Assert.NotNull(values);
        Assert.Empty(values);
        Assert.Equal("/_v/app/events-example/hcheck", pattern.Text);
        Assert.Equal("/_v/app/events-example/hcheck", pattern.ToString());
    }

    [Theory]
    [InlineData("/_v/app/events-example")]
    [InlineData("/_v/app/events-example/hcheck/more")]
    [InlineData("/_v/app/events-example/HCHECK")]
    [InlineData("/_v/app/other/hcheck")]
    [InlineData("/")]
    [InlineData("")]
    public void Literal_OtherPaths_DoNotMatch(string path) =>
        Assert.Null(Pattern("/_v/app/events-example/hcheck").Match(path));

    [Fact]
    public void Root_MatchesOnlyTheRoot()
    {
        var pattern = Pattern("/");

        Assert.NotNull(pattern.Match("/"));
        Assert.Null(pattern.Match("/a"));
    }

    [Fact]
    public void Parameter_CapturesOneSegment()
    {
        var values = Pattern("/orders/:orderId/items/:item").Match("/orders/1001/items/sku-7");

        Assert.NotNull(values);
        Assert.Equal("1001", values["orderId"]);
        Assert.Equal("sku-7", values["item"]);
        Assert.Equal(2, values.Count);
    }

    [Fact]
    public void Parameter_IsPercentDecoded()
    {
        var values = Pattern("/search/:term").Match("/search/blue%20shoes");

        Assert.Equal("blue shoes", values!["term"]);
    }

    [Theory]
    [InlineData("/orders")]
    [InlineData("/orders/1001/items")]
    [InlineData("/orders/1001/items/sku-7/extra")]
    [InlineData("/order/1001/items/sku-7")]
    public void Parameter_WrongShape_DoesNotMatch(string path) =>
        Assert.Null(Pattern("/orders/:orderId/items/:item").Match(path));

    [Fact]
    public void Rest_CapturesEverySegmentAfterIt()
    {
        var values = Pattern("/files/:bucket/*path").Match("/files/img/2024/01/cat%20photo.png");

        Assert.NotNull(values);
        Assert.Equal("img", values["bucket"]);
        Assert.Equal("2024/01/cat photo.png", values["path"]);
    }

    [Fact]
    public void Rest_SingleSegment_IsCaptured()
    {
        var values = Pattern("/proxy/*rest").Match("/proxy/a");

        Assert.Equal("a", values!["rest"]);
    }

    [Fact]
    public void Rest_PrefixMismatch_DoesNotMatch() =>
        Assert.Null(Pattern("/proxy/*rest").Match("/other/a/b"));

    [Theory]
    [InlineData("")]
    [InlineData("relative/path")]
    [InlineData("/a//b")]
    [InlineData("/a?x=1")]
    [InlineData("/events")]
    [InlineData("/events/x")]
    [InlineData("/_events")]
    [InlineData("/_events/x")]
    [InlineData("/a/:")]
    [InlineData("/a/*")]
    [InlineData("/a/*rest/b")]
    [InlineData("/a/:1st")]
    [InlineData("/a/:bad.name")]
    [InlineData("/a/*bad name")]
    [InlineData("/../etc")]
    [InlineData("/a/./b")]
    public void TryParse_InvalidPattern_ReturnsNull(string text) => Assert.Null(RoutePattern.TryParse(text));

    [Fact]
    public void TryParse_TooLong_ReturnsNull()
    {
        Assert.NotNull(RoutePattern.TryParse("/" + new string('a', 1023)));
        Assert.Null(RoutePattern.TryParse("/" + new string('a', 1024)));
    }

    [Theory]
    [InlineData("/eventsfeed")]
    [InlineData("/Events")]
    [InlineData("/app/events")]
    [InlineData("/app/_events/:id")]
    public void TryParse_ReservedWordNotFirstOrNotExact_IsAllowed(string text) => Assert.NotNull(RoutePattern.TryParse(text));
}
