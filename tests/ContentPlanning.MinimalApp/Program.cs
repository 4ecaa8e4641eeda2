// The HTTP benchmark's baseline: what ASP.NET Core itself costs to answer the same bytes as a measured route, with none of
// the API's middleware, MediatR, cache or telemetry. One MapGet per file given as NAME=PATH (GET /NAME answers the file's
// bytes as application/json). Production defaults of a plain WebApplication: Kestrel, routing, console logging at Warning.
//   dotnet ContentPlanning.MinimalApp.dll --urls http://127.0.0.1:5000 comprehensive=typical.json active=active.json
var builder = WebApplication.CreateBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();
foreach (var file in args.Where(a => a.Contains('=', StringComparison.Ordinal) && !a.StartsWith('-')))
{
    var (name, path) = (file[..file.IndexOf('=', StringComparison.Ordinal)], file[(file.IndexOf('=', StringComparison.Ordinal) + 1)..]);
    var bytes = File.ReadAllBytes(path);
    app.MapGet("/" + name, () => TypedResults.Bytes(bytes, "application/json; charset=utf-8"));
}

app.Urls.Clear();
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--urls")
    {
        app.Urls.Add(args[i + 1]);
    }
}

await app.RunAsync();
