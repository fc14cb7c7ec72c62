using ImOrleans.Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddImHttp();
builder.AddImOrleansClient();
builder.AddImGateway();

var app = builder.Build();
app.MapImGateway();
app.MapImHealth();
app.Run();
