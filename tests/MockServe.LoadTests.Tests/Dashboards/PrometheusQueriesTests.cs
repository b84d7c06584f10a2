using System.Net;

using MockServe.LoadTests.Dashboards;

namespace MockServe.LoadTests.Tests.Dashboards;

public class PrometheusQueriesTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    [Fact]
    public async Task QueryRangeAsync_Matrix_LabelsAndPointsOfEverySeries()
    {
        var fake = new FakePrometheus().Answer("running", """
            {"status":"success","data":{"resultType":"matrix","result":[
              {"metric":{"__name__":"mockserve_requests_running","instance":"a:9464"},"values":[[1700000000,"1.5"],[1700000002.5,"NaN"]]},
              {"metric":{"instance":"b:9464"},"values":[[1700000000,"+Inf"],[1700000002,"-Inf"]]}
            ]}}
            """);
        using var http = new HttpClient(fake);

        var series = await new PrometheusQueries(http, new Uri("http://prom:9090")).QueryRangeAsync("running", Start, Start.AddSeconds(60), TimeSpan.FromSeconds(2), CancellationToken.None);

        Assert.Equal(2, series.Count);
        Assert.Equal("a:9464", series[0].Labels["instance"]);
        Assert.Equal("mockserve_requests_running", series[0].Labels["__name__"]);
        Assert.Equal((Start, 1.5), series[0].Points[0]);
        Assert.Equal(Start.AddMilliseconds(2500), series[0].Points[1].At);
        Assert.True(double.IsNaN(series[0].Points[1].Value));
        Assert.Equal([double.PositiveInfinity, double.NegativeInfinity], series[1].Points.Select(p => p.Value));
    }

    [Fact]
    public async Task QueryRangeAsync_PostsQueryStartEndAndStepUnderTheBasePath()
    {
        var fake = new FakePrometheus();
        using var http = new HttpClient(fake);

        await new PrometheusQueries(http, new Uri("http://prom:9090/prometheus")).QueryRangeAsync("sum(up)", Start, Start.AddSeconds(60), TimeSpan.FromMilliseconds(2500), CancellationToken.None);

        var (path, form) = Assert.Single(fake.Requests);
        Assert.Equal("/prometheus/api/v1/query_range", path);
        Assert.Equal("sum(up)", form["query"]);
        Assert.Equal("1700000000", form["start"]);
        Assert.Equal("1700000060", form["end"]);
        Assert.Equal("2.5", form["step"]);
    }

    [Fact]
    public async Task QueryRangeAsync_ErrorAnswer_ThrowsWithStatusTypeAndMessage()
    {
        var fake = new FakePrometheus().Answer("sum(", """{"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"}""", HttpStatusCode.BadRequest);
        using var http = new HttpClient(fake);

        var e = await Assert.ThrowsAsync<PrometheusQueryException>(() =>
            new PrometheusQueries(http, new Uri("http://prom:9090")).QueryRangeAsync("sum(", Start, Start.AddSeconds(60), TimeSpan.FromSeconds(1), CancellationToken.None));

        Assert.Equal("HTTP 400, bad_data: 1:5: parse error: unclosed left parenthesis", e.Message);
    }

    [Fact]
    public void Parse_NotJson_ThrowsQuotingTheBody()
    {
        var e = Assert.Throws<PrometheusQueryException>(() => PrometheusQueries.Parse("Bad Gateway", 502));

        Assert.Equal("HTTP 502, not Prometheus API JSON: Bad Gateway", e.Message);
    }

    [Fact]
    public void Parse_VectorResult_ThrowsNamingTheType()
    {
        var e = Assert.Throws<PrometheusQueryException>(() => PrometheusQueries.Parse("""{"status":"success","data":{"resultType":"vector","result":[]}}""", 200));

        Assert.Equal("HTTP 200, a range query answered with resultType vector, not matrix", e.Message);
    }

    [Fact]
    public void Parse_EmptyMatrix_NoSeries()
    {
        Assert.Empty(PrometheusQueries.Parse(FakePrometheus.Matrix(), 200));
    }
}
