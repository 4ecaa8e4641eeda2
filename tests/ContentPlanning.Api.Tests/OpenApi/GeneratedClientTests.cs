using ContentPlanning.Api.Tests.Infrastructure;
using ContentPlanning.Client;

namespace ContentPlanning.Api.Tests.OpenApi;

/// <summary>
/// The README walk-through, driven through the C# client NSwag generates from the committed document at build
/// (tests/ContentPlanning.Client): if the document lies about a route, a body or an answer, this does not compile or fails.
/// </summary>
public sealed class GeneratedClientTests : DatabaseTest
{
    [Test]
    public async Task TheWalkThroughRunsThroughTheGeneratedClient()
    {
        using var http = Testing.CreateClient();
        var client = new ContentPlanningClient(http);

        var profile = await client.PutUserProfileAsync("client-alice", new PutUserProfileRequest { Industry = "retail", Business_size = "sme" });
        var first = await client.CreateStrategyAsync(new CreateStrategyRequest { User_id = "client-alice", Name = "Spring", Industry = "retail" });
        var second = await client.CreateStrategyAsync(new CreateStrategyRequest
        {
            User_id = "client-alice",
            Name = "Summer",
            Industry = "retail",
            Content_pillars = new Dictionary<string, int> { ["Education"] = 3, ["Stories"] = 1 },
        });
        var activation = await client.ActivateStrategyAsync(second.Id);
        var active = await client.GetActiveStrategyAsync("client-alice");
        var comprehensive = await client.GetComprehensiveUserDataAsync("client-alice");

        var calendar = await client.GenerateCalendarAsync(new GenerateCalendarRequest
        {
            User_id = "client-alice",
            Calendar_type = GenerateCalendarRequestCalendar_type.Monthly,
            Platforms = ["blog", "linkedin"],
            Pieces_per_day = 2,
        });
        var events = await client.ListCalendarEventsAsync(calendar_id: calendar.Id, limit: 100);
        var piece = events.Items.First();
        var edited = await client.UpdateCalendarEventAsync(piece.Id, new UpdateCalendarEventBody
        {
            Title = "Edited through the generated client",
            Scheduled_at = piece.Scheduled_at,
            Status = UpdateCalendarEventBodyStatus.Published,
            Platform = piece.Platform,
            Content_type = piece.Content_type,
            Pillar = piece.Pillar,
        });
        using var export = await client.ExportCalendarAsync(calendar.Id, Format.Ics);
        using var reader = new StreamReader(export.Stream);
        var ics = await reader.ReadToEndAsync();

        Assert.Multiple(() =>
        {
            Assert.That(profile.Industry, Is.EqualTo("retail"));
            Assert.That(first.Id, Is.Not.EqualTo(second.Id));
            Assert.That(activation.Strategy.Id, Is.EqualTo(second.Id));
            Assert.That(active.Strategy.Id, Is.EqualTo(second.Id));
            Assert.That(comprehensive.Data.Strategy_data.Strategy.Id, Is.EqualTo(second.Id));
            Assert.That(calendar.Strategy_id, Is.EqualTo(second.Id));
            Assert.That(calendar.Event_count, Is.EqualTo(events.Items.Count).And.GreaterThan(0));
            Assert.That(calendar.Steps, Has.Count.EqualTo(12));
            Assert.That(edited.Title, Is.EqualTo("Edited through the generated client"));
            Assert.That(ics, Does.StartWith("BEGIN:VCALENDAR").And.Contain("Edited through the generated client"));
        });

        // A problem answer arrives as the client's exception, with its status.
        var missing = Assert.CatchAsync<ApiException>(() => client.GetStrategyAsync(999_999_999));
        Assert.That(missing!.StatusCode, Is.EqualTo(404));
    }
}
