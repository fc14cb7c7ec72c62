using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ImOrleans.Gateway.Hosting;

/// <summary>OpenTelemetry in every process (silo, gateway): Orleans', ASP.NET Core's, HttpClient's, the runtime's,
/// Npgsql's and our own metrics and traces; <c>/metrics</c> in Prometheus text on the HTTP port; OTLP export when
/// the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (traces are recorded only then).</summary>
public static class TelemetryExtensions
{
    /// <summary>The meter and activity source of ImOrleans' own instruments (gateway and grains alike).</summary>
    public const string Name = "ImOrleans";

    /// <summary>Spans of our own: each client publish, the root of the trace its grain calls continue.</summary>
    public static readonly System.Diagnostics.ActivitySource Source = new(Name);

    public static WebApplicationBuilder AddImTelemetry(this WebApplicationBuilder builder, string serviceName)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithMetrics(m => m
                .AddMeter(Name, "Microsoft.Orleans")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddPrometheusExporter());
        // Traces only where they go somewhere: a listener makes every publish and grain call record a span, which
        // costs CPU on the hot path for nothing when no collector is configured.
        if (ExportsTraces(builder.Configuration))
        {
            otel.WithTracing(t => t
                    .AddSource(Name, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddNpgsql())
                .UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>Traces are recorded only when they are exported: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Orleans'
    /// call filters that carry a trace from grain call to grain call are added only then too: two more layers on
    /// every grain call of every message otherwise.</summary>
    public static bool ExportsTraces(IConfiguration configuration) =>
        !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary><c>/metrics</c>: what Prometheus (or a ServiceMonitor) scrapes.</summary>
    public static WebApplication MapImMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
