using ImOrleans.Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddImHttp();
builder.AddImTelemetry("imorleans-gateway");
builder.AddImOrleansClient();
builder.AddImGateway();

var app = builder.Build();
app.MapImGateway();
app.MapImHealth();
app.MapImMetrics();
app.Run();
