using ImOrleans.Gateway.Hosting;
using ImOrleans.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddImHttp();
builder.AddImTelemetry("imorleans-silo");
builder.AddImSilo();
// The embedded default serves clients from this process; cluster silos turn it off (Gateway:Enabled=false).
var gateway = builder.Configuration.GetValue("Gateway:Enabled", true);
if (gateway)
    builder.AddImGateway();

var app = builder.Build();
if (gateway)
    app.MapImGateway();
app.MapImHealth();
app.MapImMetrics();
app.MapImDashboard();
app.Run();
