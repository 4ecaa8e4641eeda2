using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>
/// ASP.NET Core Data Protection with its key ring in PostgreSQL (table <c>data_protection_keys</c>), so what one node
/// protects (the dashboard's session cookie, antiforgery tokens) every node can read.
/// </summary>
public static class SharedDataProtection
{
    public static IServiceCollection AddSharedDataProtection(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("content-planning");
        services.AddOptions<KeyManagementOptions>().Configure<NpgsqlDataSource>((options, dataSource) => options.XmlRepository = new Repository(dataSource));
        return services;
    }

    private sealed class Repository(NpgsqlDataSource dataSource) : IXmlRepository
    {
        public IReadOnlyCollection<XElement> GetAllElements()
        {
            using var connection = dataSource.OpenConnection();
            return connection.Query<string>("SELECT xml FROM data_protection_keys ORDER BY created_at").Select(XElement.Parse).ToList();
        }

        public void StoreElement(XElement element, string friendlyName)
        {
            using var connection = dataSource.OpenConnection();
            connection.Execute("INSERT INTO data_protection_keys (name, xml) VALUES (@Name, @Xml) ON CONFLICT (name) DO NOTHING",
                new { Name = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        }
    }
}
