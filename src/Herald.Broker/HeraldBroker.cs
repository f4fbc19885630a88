using Microsoft.AspNetCore.Builder;

namespace Herald.Broker;

/// <summary>Builds a broker web application. A store is added by the caller (e.g. <c>AddHeraldSqliteStore</c>).</summary>
public static partial class HeraldBroker
{
    /// <summary>A builder with the broker's services and options; add a store, then call <see cref="Build"/>.</summary>
    public static WebApplicationBuilder CreateBuilder(BrokerOptions options, string[]? args = null)
    {
        throw new NotImplementedException();
    }

    /// <summary>Builds the app and maps every broker endpoint.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        throw new NotImplementedException();
    }
}
