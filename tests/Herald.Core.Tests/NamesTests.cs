namespace Herald.Core.Tests;

public sealed class NamesTests
{
    [Theory]
    [InlineData("acme")]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("9lives")]
    [InlineData("my-store-2")]
    [InlineData("master")]
    public void IsAccount_ValidName_IsAccepted(string name)
    {
        Assert.True(Names.IsAccount(name));
        Assert.True(Names.IsWorkspace(name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-acme")]
    [InlineData("Acme")]
    [InlineData("ac_me")]
    [InlineData("ac.me")]
    [InlineData("ac me")]
    [InlineData("acmé")]
    [InlineData("acme/master")]
    public void IsAccount_InvalidName_IsRejected(string name)
    {
        Assert.False(Names.IsAccount(name));
        Assert.False(Names.IsWorkspace(name));
    }

    [Fact]
    public void IsAccount_Null_IsRejected()
    {
        Assert.False(Names.IsAccount(null));
        Assert.False(Names.IsWorkspace(null));
    }

    [Fact]
    public void IsAccount_63Characters_IsAcceptedAnd64Rejected()
    {
        Assert.True(Names.IsAccount(new string('a', 63)));
        Assert.True(Names.IsWorkspace("w" + new string('-', 62)));
        Assert.False(Names.IsAccount(new string('a', 64)));
        Assert.False(Names.IsWorkspace(new string('a', 64)));
    }

    [Theory]
    [InlineData("send-event")]
    [InlineData("broadcaster.notification")]
    [InlineData("order_created")]
    [InlineData("0")]
    [InlineData("A.b-c_d")]
    public void IsKey_ValidKey_IsAccepted(string key) => Assert.True(Names.IsKey(key));

    [Theory]
    [InlineData("")]
    [InlineData(".hidden")]
    [InlineData("-dash")]
    [InlineData("_under")]
    [InlineData("with space")]
    [InlineData("slash/key")]
    [InlineData("colon:key")]
    [InlineData("ключ")]
    public void IsKey_InvalidKey_IsRejected(string key) => Assert.False(Names.IsKey(key));

    [Fact]
    public void IsKey_128Characters_IsAcceptedAnd129Rejected()
    {
        Assert.True(Names.IsKey("k" + new string('.', 127)));
        Assert.True(Names.IsKey(new string('7', 128)));
        Assert.False(Names.IsKey(new string('k', 129)));
        Assert.False(Names.IsKey(null));
    }

    [Theory]
    [InlineData("vtex.events-example")]
    [InlineData("acme.my_app")]
    [InlineData("a.b")]
    [InlineData("v2.app2")]
    public void IsSender_VendorDotName_IsAccepted(string sender) => Assert.True(Names.IsSender(sender));

    [Theory]
    [InlineData("")]
    [InlineData("vtex")]
    [InlineData(".events-example")]
    [InlineData("vtex.")]
    [InlineData("vtex.events.example")]
    [InlineData("VTEX.events")]
    [InlineData("vtex.Events")]
    [InlineData("1vtex.events")]
    [InlineData("vtex.-events")]
    [InlineData("vtex.events-example@0.1.0")]
    [InlineData("vtex events")]
    public void IsSender_Malformed_IsRejected(string sender) => Assert.False(Names.IsSender(sender));

    [Fact]
    public void IsSender_PartsOf63Characters_AreAcceptedAnd64Rejected()
    {
        var part63 = "a" + new string('b', 62);
        var part64 = "a" + new string('b', 63);
        Assert.True(Names.IsSender($"{part63}.{part63}"));
        Assert.False(Names.IsSender($"{part64}.app"));
        Assert.False(Names.IsSender($"vendor.{part64}"));
        Assert.False(Names.IsSender(null));
    }

    [Theory]
    [InlineData("vtex")]
    [InlineData("events-example")]
    [InlineData("my_app")]
    [InlineData("a")]
    public void IsAppName_Valid_IsAccepted(string name) => Assert.True(Names.IsAppName(name));

    [Theory]
    [InlineData("")]
    [InlineData("1app")]
    [InlineData("-app")]
    [InlineData("_app")]
    [InlineData("App")]
    [InlineData("my.app")]
    public void IsAppName_Invalid_IsRejected(string name) => Assert.False(Names.IsAppName(name));

    [Fact]
    public void IsAppName_63Characters_IsAcceptedAnd64Rejected()
    {
        Assert.True(Names.IsAppName("a" + new string('0', 62)));
        Assert.False(Names.IsAppName("a" + new string('0', 63)));
    }

    [Theory]
    [InlineData("liveUsersUpdate")]
    [InlineData("L")]
    [InlineData("on_order-created2")]
    [InlineData("hcheck")]
    public void IsHandlerId_Valid_IsAccepted(string id) => Assert.True(Names.IsHandlerId(id));

    [Theory]
    [InlineData("")]
    [InlineData("1handler")]
    [InlineData("_handler")]
    [InlineData("-handler")]
    [InlineData("live.users")]
    [InlineData("live users")]
    [InlineData("live:users")]
    public void IsHandlerId_Invalid_IsRejected(string id) => Assert.False(Names.IsHandlerId(id));

    [Fact]
    public void IsHandlerId_128Characters_IsAcceptedAnd129Rejected()
    {
        Assert.True(Names.IsHandlerId("h" + new string('_', 127)));
        Assert.False(Names.IsHandlerId("h" + new string('_', 128)));
        Assert.False(Names.IsHandlerId(null));
    }

    [Theory]
    [InlineData("master", true)]
    [InlineData("Master", false)]
    [InlineData("dev", false)]
    [InlineData("master2", false)]
    public void IsProduction_OnlyMaster_IsProduction(string workspace, bool expected) =>
        Assert.Equal(expected, Names.IsProduction(workspace));
}
