using Candor.Redaction;

namespace Candor.Tests.Redaction;

/// <summary>
/// The redaction corpus: what a tool might put in a string property, and what must leave the machine.
/// The process's user is <c>alice</c> on machine <c>build-box-7</c> with home <c>/home/alice</c>.
/// </summary>
public sealed class RedactionCorpusTests
{
    private static readonly Redactor Redactor = new("alice", "build-box-7", "/home/alice");

    public static TheoryData<string, string> Corpus => new()
    {
        // Plain usage data passes untouched.
        { "run", "run" },
        { "telemetry status", "telemetry status" },
        { "nightly-load", "nightly-load" },
        { "exit_code_1", "exit_code_1" },
        { "3 nodes, 0 failures", "3 nodes, 0 failures" },
        { "", "" },
        { "version 1.4.0", "version 1.4.0" },
        { "net10.0", "net10.0" },
        { "System.IO.FileNotFoundException", "System.IO.FileNotFoundException" },
        { "took 12:30 minutes", "took 12:30 minutes" },
        { "ratio 3/4", "ratio 3/4" },
        { "a_very_long_snake_case_identifier_name", "a_very_long_snake_case_identifier_name" },
        { "ConfigurationManagerExtensions", "ConfigurationManagerExtensions" },
        { "*****", "*****" },
        { "run --pipeline ***** --env *****", "run --pipeline ***** --env *****" },
        { "*ghp_0123456789abcdefghijABCDEFGHIJKLMN*", "*<secret>*" },
        { "AKIA0123456789ABCDEF*****", "<secret>*****" },

        // Unix absolute paths.
        { "/etc/passwd", "<path>" },
        { "/var/lib/acme/cache.db", "<path>" },
        { "opened /tmp/acme-1234/out.json", "opened <path>" },
        { "/usr/bin and /etc/hosts", "<path> and <path>" },
        { "--output=/srv/data/report.csv", "--output=<path>" },
        { "\"/opt/acme/config.toml\"", "\"<path>\"" },
        { "(/var/log/acme.log)", "(<path>)" },
        { "/Users/Bob Smith/Documents/plan.txt", "<path>" },
        { "/mnt/My Drive/Q3 report.xlsx", "<path>" },
        { "/data/", "<path>" },
        { "cp /a/b.txt /c/d.txt", "cp <path> <path>" },

        // The home directory and ~.
        { "/home/alice", "<path>" },
        { "/home/alice/projects/secret-merger", "<path>" },
        { "~/projects/acme", "<path>" },
        { "~", "<path>" },
        { "~bob/.ssh/id_rsa", "<path>" },
        { "file at ~/Library/Application Support/acme", "file at <path> <path>" },
        { "HOME=/home/alice", "HOME=<path>" },

        // Windows paths.
        { @"C:\Users\alice\Desktop\taxes.pdf", "<path>" },
        { @"C:\Program Files\Acme\acme.exe", "<path>" },
        { @"C:\Program Files\Acme\acme.exe failed", "<path> failed" },
        { @"D:\data\My Projects\q3.csv", "<path>" },
        { "C:/Users/bob/repo/src/main.cs", "<path>" },
        { @"e:\", "<path>" },
        { @"copy C:\a.txt to D:\b.txt", "copy <path> to <path>" },
        { @"path=""C:\Temp\x y\z.log""", @"path=""<path>""" },

        // UNC paths.
        { @"\\fileserver\share\finance\budget.xlsx", "<path>" },
        { @"\\corp-nas\Team Docs\plan.docx", "<path>" },
        { @"saved to \\server\share", "saved to <path>" },
        { @"\\?\C:\very\long\path.txt", "<path>" },

        // Relative paths.
        { "./scripts/deploy.sh", "<path>" },
        { "../secrets/.env", "<path>" },
        { @"src\Acme\Program.cs", "<path>" },
        { "src/components/Button.tsx", "<path>" },
        { "built docs/index.html in 2s", "built <path> in 2s" },
        { "./run", "<path>" },

        // URLs, including credentials and query strings.
        { "https://example.com/a?token=abc", "<url>" },
        { "https://user:hunter2@git.example.com/repo.git", "<url>" },
        { "fetching http://10.0.0.5:8080/api/v1/items", "fetching <url>" },
        { "postgres://admin:s3cret@db.internal:5432/prod", "<url>" },
        { "ftp://files.example.org/pub", "<url>" },
        { "s3://acme-private-bucket/exports/2026.csv", "<url>" },
        { "see <https://docs.example.com/x>", "see <<url>>" },
        { "redis://:password@cache:6379/0 timed out", "<url> timed out" },
        { "file:///home/alice/notes.txt", "<url>" },

        // Email addresses.
        { "alice@example.com", "<email>" },
        { "contact: john.doe+acme@mail.example.co.uk.", "contact: <email>." },
        { "From Bob <bob_smith@corp.io>", "From Bob <<email>>" },
        { "users a@b.io and c@d.org", "users <email> and <email>" },

        // IP addresses.
        { "192.168.1.10", "<ip>" },
        { "connect to 10.0.0.1:5432 failed", "connect to <ip> failed" },
        { "from 8.8.8.8", "from <ip>" },
        { "::1", "<ip>" },
        { "fe80::1ff:fe23:4567:890a", "<ip>" },
        { "2001:db8:85a3::8a2e:370:7334 unreachable", "<ip> unreachable" },
        { "[2001:db8::1]", "<ip>" },
        { "2001:0db8:0000:0000:0000:ff00:0042:8329", "<ip>" },
        { "fe80::1%eth0", "<ip>" },
        { "::ffff:192.0.2.128", "<ip>" },
        { "version 1.2.3", "version 1.2.3" },
        { "999.1.1.1", "999.1.1.1" },

        // JWTs.
        { "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "<secret>" },
        { "Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhY21lIn0.c2lnbmF0dXJl", "Bearer <secret>" },
        { "token=eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.abcdefghij", "<secret>" },

        // Cloud keys and platform tokens.
        { "AKIAIOSFODNN7EXAMPLE", "<secret>" },
        { "key AKIAIOSFODNN7EXAMPLE used", "key <secret> used" },
        { "aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key <secret>" },
        { "AIzaSyA-1234567890abcdefghijklmnopqrstu", "<secret>" },
        { "ghp_1234567890abcdefghijklmnopqrstuvwxyZ", "<secret>" },
        { "gho_abcdefghijklmnopqrstuvwxyz0123456789", "<secret>" },
        { "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "<secret>" },
        { "glpat-abcdefghij1234567890", "<secret>" },
        { "xoxb-123456789012-abcdefghijkl", "<secret>" },
        { "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "<secret>" },
        { "npm_abcdefghijklmnopqrstuvwxyz0123456789", "<secret>" },
        { "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Zm9vYmFyYmF6cXV4==;EndpointSuffix=core.windows.net", "DefaultEndpointsProtocol=https;AccountName=acme;<secret>;EndpointSuffix=core.windows.net" },
        { "password=hunter2", "<secret>" },
        { "api_key: 12345abcde", "<secret>" },
        { "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "<secret>" },

        // High-entropy strings.
        { "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "<secret>" },
        { "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "<secret>" },
        { "Zx8Kq2Lm9Pw4Rt7Yb1Nc6Vd3", "<secret>" },
        { "session aB3dE5fG7hJ9kL1mN3pQ5rS7 expired", "session <secret> expired" },

        // Secrets and personal data inside longer strings.
        { "failed to push with token ghp_1234567890abcdefghijklmnopqrstuvwxyZ to origin", "failed to push with token <secret> to origin" },
        { "clone https://alice:ghp_x@github.com/acme/private.git into /home/alice/src", "clone <url> into <path>" },
        { "user=alice@example.com path=/srv/x ip=10.1.2.3", "user=<email> path=<path> ip=<ip>" },
        { "error in C:\\Users\\alice\\app.cs:line 42", "error in <path>:line 42" },
        { "retry 3 of 5 against 172.16.0.4", "retry 3 of 5 against <ip>" },

        // The user's and the machine's names.
        { "alice", "<user>" },
        { "run by Alice", "run by <user>" },
        { "build-box-7", "<host>" },
        { "on BUILD-BOX-7 as alice", "on <host> as <user>" },
        { "malice", "malice" },
        { "alicechains", "alicechains" },
        { "alice, malice, ALICE.", "<user>, malice, <user>." },
        { "alice2 alice", "alice2 <user>" },
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public void EachCorpusStringIsRedactedAsExpected(string input, string expected) =>
        Assert.Equal(expected, Redactor.Redact(input));

    [Fact]
    public void TheCorpusHasAtLeastAHundredCases() => Assert.True(Corpus.Count >= 100, $"{Corpus.Count} cases");

    [Fact]
    public void AStringWithNothingToRedactIsReturnedAsTheSameInstance()
    {
        var value = "run --pipeline ***** in 3.5 s";

        Assert.Same(value, Redactor.Redact(value));
    }
}
