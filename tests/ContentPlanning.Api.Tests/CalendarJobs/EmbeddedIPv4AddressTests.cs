using System.Net;
using ContentPlanning.Api.Features.CalendarJobs;

namespace ContentPlanning.Api.Tests.CalendarJobs;

/// <summary>
/// Issue 21 item 11: IPv6 forms that carry an IPv4 address are judged by the IPv4 address they carry, so a callback cannot
/// reach loopback, private or metadata addresses through NAT64, 6to4, Teredo or the IPv4-compatible/translated/mapped forms.
/// </summary>
public sealed class EmbeddedIPv4AddressTests
{
    [TestCase("64:ff9b::7f00:1", "127.0.0.1", TestName = "NAT64 well-known prefix (RFC 6052) of loopback")]
    [TestCase("64:ff9b::a9fe:a9fe", "169.254.169.254", TestName = "NAT64 of the metadata address")]
    [TestCase("2002:a9fe:a9fe::", "169.254.169.254", TestName = "6to4 (RFC 3056) of the metadata address")]
    [TestCase("2002:0a00:0001:1234::1", "10.0.0.1", TestName = "6to4 of a private address with a subnet and host")]
    [TestCase("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1", TestName = "Teredo (RFC 4380) with an obfuscated loopback client")]
    [TestCase("::127.0.0.1", "127.0.0.1", TestName = "IPv4-compatible loopback")]
    [TestCase("::ffff:0:127.0.0.1", "127.0.0.1", TestName = "IPv4-translated (RFC 2765) loopback")]
    [TestCase("::ffff:169.254.169.254", "169.254.169.254", TestName = "IPv4-mapped metadata address")]
    public void AnIPv6FormIsJudgedByTheIPv4AddressItCarries(string address, string embedded)
    {
        Assert.That(CallbackAddresses.EmbeddedIPv4(IPAddress.Parse(address)), Is.EqualTo(IPAddress.Parse(embedded)));
        Assert.That(CallbackAddresses.IsPrivate(IPAddress.Parse(address)), Is.True, "refused like the IPv4 address it carries");
    }

    [TestCase("64:ff9b::5db8:d70e", TestName = "NAT64 of a public address")]
    [TestCase("2002:5db8:d70e::1", TestName = "6to4 of a public address")]
    [TestCase("2001:0:4136:e378:8000:63bf:a247:28f1", TestName = "Teredo with a public client")]
    [TestCase("::ffff:93.184.215.14", TestName = "IPv4-mapped public address")]
    public void AnIPv6FormCarryingAPublicIPv4AddressIsAllowed(string address) =>
        Assert.That(CallbackAddresses.IsPrivate(IPAddress.Parse(address)), Is.False);

    [TestCase("2606:2800:21f:cb07:6820:80da:af6b:8b2c")]
    [TestCase("::1")]
    [TestCase("fe80::1")]
    public void AnIPv6AddressWithoutAnEmbeddedIPv4AddressCarriesNone(string address) =>
        Assert.That(CallbackAddresses.EmbeddedIPv4(IPAddress.Parse(address)), Is.Null);

    [Test]
    public void TheLocalUseNat64PrefixIsRefusedWhateverItCarries() =>
        Assert.That(CallbackAddresses.IsPrivate(IPAddress.Parse("64:ff9b:1::5db8:d70e")), Is.True, "RFC 8215 local-use translation: the operator decides what it reaches");
}
