using System.Collections.Concurrent;
using PuppeteerSharp;

namespace Herald.Dashboard.Tests;

/// <summary>
/// A headless Chromium of the machine's own (Debian's <c>chromium</c> package; <c>HERALD_CHROMIUM</c> names another
/// binary), started by PuppeteerSharp and never downloaded. Disposing it closes the browser and ends its processes.
/// Everything the page logs as an error, every script error and every failed request is collected in
/// <see cref="Problems"/>, so a test can check that nothing (a Content-Security-Policy refusal included) went wrong.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    /// <summary>How long any wait for the page lasts before the test fails.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly IBrowser _browser;

    private Chromium(IBrowser browser, IPage page)
    {
        _browser = browser;
        Page = page;
    }

    public IPage Page { get; }

    public ConcurrentQueue<string> Problems { get; } = new();

    public static string ExecutablePath => Environment.GetEnvironmentVariable("HERALD_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static async Task<Chromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"The dashboard's tests need Chromium at {ExecutablePath}: install Debian's package (apt-get install -y chromium; scripts/test.sh does it), or set HERALD_CHROMIUM to a Chromium binary.");
        }

        var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Browser = SupportedBrowser.Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--headless=new", "--disable-dev-shm-usage", "--disable-gpu"],
            DefaultViewport = new ViewPortOptions { Width = 1400, Height = 1100 },
            Timeout = (int)TimeSpan.FromSeconds(60).TotalMilliseconds,
        });
        try
        {
            var page = await browser.NewPageAsync();
            page.DefaultTimeout = (int)Deadline.TotalMilliseconds;
            var chromium = new Chromium(browser, page);
            page.Console += (_, e) =>
            {
                if (e.Message.Type == ConsoleType.Error)
                {
                    chromium.Problems.Enqueue("console: " + e.Message.Text);
                }
            };
            page.PageError += (_, e) => chromium.Problems.Enqueue("script error: " + e.Message);
            page.RequestFailed += (_, e) =>
            {
                // The page cuts its own requests when it moves on (the activity stream on sign-out or another
                // workspace, a poll in flight on a reload); anything else, a CSP refusal included, is a problem.
                if (e.Request.FailureText != "net::ERR_ABORTED")
                {
                    chromium.Problems.Enqueue($"request failed: {e.Request.Method} {e.Request.Url} {e.Request.FailureText}");
                }
            };
            return chromium;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs a test's steps on <see cref="Page"/>; when one fails, the failure also says what the page showed (its
    /// notice, sign-in error and live-flow state) and what went wrong in it.
    /// </summary>
    public async Task RunAsync(Func<IPage, Task> steps)
    {
        try
        {
            await steps(Page);
        }
        catch (Exception ex) when (ex is WaitTaskTimeoutException or Xunit.Sdk.XunitException)
        {
            string shown;
            try
            {
                shown = await Page.EvaluateExpressionAsync<string>(
                    "JSON.stringify({ view: document.body.dataset.view, stream: document.body.dataset.stream, notice: document.getElementById('notice').textContent, signinError: document.getElementById('signin-error').textContent, chart: { ...document.getElementById('chart').dataset } })");
            }
            catch (PuppeteerException read)
            {
                shown = "(the page could not be read: " + read.Message + ")";
            }

            throw new InvalidOperationException($"{ex.Message}\nThe page showed: {shown}\nProblems in the page: {(Problems.IsEmpty ? "none" : string.Join("; ", Problems))}", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _browser.CloseAsync();
        }
        finally
        {
            await _browser.DisposeAsync();
        }
    }
}
