using ContentPlanning.Api.Tests.Infrastructure;

namespace ContentPlanning.Api.Tests.OpenApi;

/// <summary>
/// A client no one here wrote: openapi-typescript 7.13 generates the types of openapi/content-planning.v1.json, and
/// tsc --strict type-checks the walk-through in typescript/walkthrough.ts against them with openapi-fetch.
/// </summary>
public sealed class TypeScriptClientTests
{
    [Test]
    public async Task TheWalkThroughTypeChecksAgainstTheGeneratedClient()
    {
        var bin = await NpmTools.BinAsync();
        var work = Directory.CreateTempSubdirectory("cp-typescript-").FullName;
        try
        {
            var source = Path.Combine(NpmTools.Root, "tests/ContentPlanning.Api.Tests/OpenApi/typescript");
            foreach (var file in new[] { "walkthrough.ts", "tsconfig.json" })
            {
                File.Copy(Path.Combine(source, file), Path.Combine(work, file));
            }

            // openapi-fetch resolves from the tools' node_modules.
            File.CreateSymbolicLink(Path.Combine(work, "node_modules"), Path.GetFullPath(Path.Combine(bin, "..")));
            var (generated, generateOutput) = await NpmTools.RunAsync(Path.Combine(bin, "openapi-typescript"),
                [Path.Combine(NpmTools.Root, "openapi/content-planning.v1.json"), "-o", Path.Combine(work, "content-planning.d.ts")], work, TimeSpan.FromMinutes(3));
            Assert.That(generated, Is.EqualTo(0), generateOutput);

            var (checkedExit, tscOutput) = await NpmTools.RunAsync(Path.Combine(bin, "tsc"), ["-p", work], work, TimeSpan.FromMinutes(5));
            Assert.That(checkedExit, Is.EqualTo(0), $"tsc --strict found errors in the walk-through:\n{tscOutput}");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
