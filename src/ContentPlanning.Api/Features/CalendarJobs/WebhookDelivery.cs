using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Transactions;
using ContentPlanning.Api.Features.Shared;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// Delivers a job's completion webhook (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature =
/// "v1," + base64 HMAC-SHA256 of "id.timestamp.body"). Every attempt is recorded on the job; a timeout or a non-2xx
/// answer schedules the next attempt with exponential backoff and jitter, in the same transaction, until
/// Webhooks__MaxAttempts. Redirects are not followed; the address is checked again at delivery.
/// </summary>
public sealed partial class WebhookDelivery(
    NpgsqlDataSource dataSource,
    HangfireQueue queue,
    IHttpClientFactory httpClients,
    IOptions<WebhookOptions> options,
    TimeProvider time,
    ILogger<WebhookDelivery> logger)
{
    public const string HttpClientName = "calendar-webhooks";

    private const string PendingSql = """
        SELECT callback_url, webhook_id, webhook_event::text AS body, webhook_attempts
        FROM calendar_jobs WHERE session_id = @Id AND webhook_status = 'pending'
        """;

    // Guarded by the attempt count, so a delivery run twice (its node died after posting) records one attempt once.
    private const string RecordSql = """
        UPDATE calendar_jobs
        SET webhook_attempts = @Attempt, webhook_last_status_code = @StatusCode, webhook_status = @Status, webhook_last_attempt_at = now(), updated_at = now()
        WHERE session_id = @Id AND webhook_attempts = @Attempt - 1 AND webhook_status = 'pending'
        """;

    private sealed record Pending(string CallbackUrl, string WebhookId, string Body, int WebhookAttempts);

    [Queue(HangfireQueue.WebhookQueue)]
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [5, 30, 120])]
    public async Task DeliverAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        Pending? pending;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            pending = await connection.QuerySingleOrDefaultAsync<Pending>(new CommandDefinition(PendingSql, new { Id = sessionId }, cancellationToken: cancellationToken));
        }

        if (pending is null)
        {
            return;
        }

        var settings = options.Value;
        var attempt = pending.WebhookAttempts + 1;
        int? statusCode = null;
        string outcome;
        try
        {
            statusCode = await PostAsync(pending, settings, cancellationToken);
            outcome = statusCode is >= 200 and < 300 ? "delivered" : "retry";
        }
        catch (CallbackRefusedException ex)
        {
            LogRefused(logger, sessionId, ex.Message);
            outcome = "refused";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException && !cancellationToken.IsCancellationRequested)
        {
            LogAttemptFailed(logger, sessionId, attempt, ex.Message);
            outcome = "retry";
        }

        if (outcome == "retry" && attempt >= settings.MaxAttempts)
        {
            outcome = "failed";
        }

        CalendarJobTelemetry.Webhook(outcome);
        using var scope = AmbientTransaction.Begin();
        await using (var connection = await dataSource.OpenConnectionAsync(CancellationToken.None))
        {
            connection.EnlistTransaction(Transaction.Current);
            var status = outcome switch { "delivered" => "delivered", "retry" => "pending", _ => "failed" };
            var recorded = await connection.ExecuteAsync(RecordSql, new { Id = sessionId, Attempt = attempt, StatusCode = statusCode, Status = status });
            if (recorded == 1 && outcome == "retry")
            {
                queue.ScheduleWebhook(connection, sessionId, Backoff(attempt, settings));
            }
        }

        scope.Complete();
    }

    /// <summary>Exponential backoff with full jitter around it: base * 2^(attempt-1), times 0.5..1.5, capped.</summary>
    internal static TimeSpan Backoff(int attempt, WebhookOptions settings)
    {
        var exponential = settings.RetryBaseDelay.TotalSeconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var jittered = exponential * (0.5 + RandomNumberGenerator.GetInt32(1000) / 1000.0);
        return TimeSpan.FromSeconds(Math.Min(jittered, settings.MaxRetryDelay.TotalSeconds));
    }

    private async Task<int> PostAsync(Pending pending, WebhookOptions settings, CancellationToken cancellationToken)
    {
        var uri = new Uri(pending.CallbackUrl);
        // The address is checked at start and again now (DNS may have changed); the connect callback checks the very
        // address the socket connects to.
        await CallbackAddresses.CheckAsync(uri, settings, cancellationToken);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new StringContent(pending.Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", pending.WebhookId);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", Sign(settings.SigningKey()!, pending.WebhookId, timestamp, pending.Body));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
        return (int)response.StatusCode;
    }

    /// <summary>The Standard Webhooks signature header value.</summary>
    public static string Sign(byte[] key, string id, string timestamp, string body) =>
        "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));

    /// <summary>The delivery client: no redirects, no cookies, and a connect step that refuses private addresses.</summary>
    internal static SocketsHttpHandler CreateHandler(IOptions<WebhookOptions> options) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var addresses = await CallbackAddresses.ResolveAllowedAsync(context.DnsEndPoint.Host, options.Value, cancellationToken);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook of job {SessionId} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, Guid sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook of job {SessionId}, attempt {Attempt}, failed: {Reason}")]
    private static partial void LogAttemptFailed(ILogger logger, Guid sessionId, int attempt, string reason);
}

/// <summary>A callback address the service must not call (server-side request forgery).</summary>
public sealed class CallbackRefusedException(string message) : Exception(message);

/// <summary>Which callback URLs and addresses the service calls.</summary>
public static class CallbackAddresses
{
    /// <summary>Null when the URL's form is acceptable; else why not.</summary>
    public static string? FormProblem(string url, WebhookOptions settings)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            return "callback_url must be an absolute URL.";
        }

        if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && settings.AllowInsecureHttp))
        {
            return settings.AllowInsecureHttp ? "callback_url must use https or http." : "callback_url must use https (http only when Webhooks__AllowInsecureHttp is true).";
        }

        return uri.UserInfo.Length > 0 ? "callback_url must not carry credentials." : null;
    }

    /// <summary>Throws <see cref="CallbackRefusedException"/> when the URL's host does not resolve or resolves to a refused address.</summary>
    public static async Task CheckAsync(Uri uri, WebhookOptions settings, CancellationToken cancellationToken) =>
        await ResolveAllowedAsync(uri.IdnHost, settings, cancellationToken);

    internal static async Task<IPAddress[]> ResolveAllowedAsync(string host, WebhookOptions settings, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        }
        catch (SocketException)
        {
            throw new CallbackRefusedException($"callback_url host '{host}' does not resolve.");
        }

        if (addresses.Length == 0)
        {
            throw new CallbackRefusedException($"callback_url host '{host}' does not resolve.");
        }

        // Every address must be allowed: a name that also resolves to a private address could be steered there.
        if (!settings.AllowPrivateNetworks && addresses.FirstOrDefault(IsPrivate) is { } refused)
        {
            throw new CallbackRefusedException(
                $"callback_url host '{host}' resolves to {refused}, a loopback, private, link-local or metadata address (allowed only with Webhooks__AllowPrivateNetworks).");
        }

        return addresses;
    }

    /// <summary>
    /// Loopback, private, shared (CGNAT), link-local (cloud metadata), unspecified, multicast and unique-local addresses.
    /// An IPv6 address that carries an IPv4 address (see <see cref="EmbeddedIPv4"/>) is judged by that IPv4 address;
    /// the local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215) reaches whatever its operator maps it to, so it is refused.
    /// </summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (EmbeddedIPv4(address) is { } carried)
        {
            address = carried;
        }
        else if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.GetAddressBytes() is [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01, ..])
        {
            return true;
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 or 10 or 127 => true,
                100 => b[1] is >= 64 and <= 127,  // 100.64.0.0/10, shared address space (also Alibaba's metadata)
                169 => b[1] == 254,                // link-local, 169.254.169.254 metadata
                172 => b[1] is >= 16 and <= 31,
                192 => (b[1] == 168) || (b[1] == 0 && b[2] == 0),
                198 => b[1] is 18 or 19,           // benchmarking networks
                >= 224 => true,                    // multicast and reserved
                _ => false,
            };
        }

        return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal;
    }

    /// <summary>
    /// The IPv4 address an IPv6 address carries, or null: IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d,
    /// RFC 2765), IPv4-compatible (::a.b.c.d, deprecated; :: and ::1 excluded), the NAT64 well-known prefix 64:ff9b::/96
    /// (RFC 6052), 6to4 2002:AABB:CCDD::/48 (RFC 3056) and Teredo 2001:0::/32 (RFC 4380; the client address is stored
    /// with every bit inverted). Packets to such an address end at the IPv4 address, so it is that address that counts.
    /// </summary>
    public static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        var b = address.GetAddressBytes();
        return b switch
        {
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ..] => new IPAddress(b[12..]),
            [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, ..] => new IPAddress(b[12..]),
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, <= 1] => null,
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ..] => new IPAddress(b[12..]),
            [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, ..] => new IPAddress(b[12..]),
            [0x20, 0x02, ..] => new IPAddress(b[2..6]),
            [0x20, 0x01, 0x00, 0x00, ..] => new IPAddress(b[12..].Select(x => (byte)~x).ToArray()),
            _ => null,
        };
    }
}
