using System.ComponentModel;
using System.Diagnostics;

namespace ImOrleans.Tests.Deploy;

/// <summary>Runs <c>kubectl kustomize</c>, which renders a kustomization offline (no cluster needed).</summary>
public static class Kubectl
{
    public static string Kustomize(string directory)
    {
        var psi = new ProcessStartInfo("kubectl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add("kustomize");
        psi.ArgumentList.Add(directory);
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"kubectl (1.27 or later, which has kustomize built in) is needed to render deploy/kubernetes and is not on PATH ({e.Message}). " +
                "Install it from the Kubernetes release packages; Debian 12's kubernetes-client is too old.");
            throw;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(60_000))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"kubectl kustomize {directory} did not finish within 60 s");
            }
            Assert.AreEqual(0, process.ExitCode, $"kubectl kustomize {directory} failed:\n{stderr.Result}");
            return stdout.Result;
        }
    }
}
