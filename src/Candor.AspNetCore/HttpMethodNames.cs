using Microsoft.AspNetCore.Http;

namespace Candor.AspNetCore;

/// <summary>The request methods counted by name; any other method is counted as <c>OTHER</c>, so a
/// client cannot add keys by inventing methods.</summary>
internal static class HttpMethodNames
{
    /// <summary>The names, indexed by <see cref="IndexOf"/>; the last one is <c>OTHER</c>.</summary>
    public static readonly string[] Names =
    [
        HttpMethods.Get, HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Patch,
        HttpMethods.Head, HttpMethods.Options, HttpMethods.Trace, HttpMethods.Connect, HttpMethods.Query, "OTHER",
    ];

    public static int Count => Names.Length;

    public static int Other => Names.Length - 1;

    /// <summary>The index of <paramref name="method"/> in <see cref="Names"/>. Servers hand out the
    /// interned constants, so the common case is one reference comparison.</summary>
    public static int IndexOf(string method)
    {
        if (HttpMethods.IsGet(method))
        {
            return 0;
        }

        for (var i = 1; i < Names.Length - 1; i++)
        {
            if (ReferenceEquals(method, Names[i]) || string.Equals(method, Names[i], StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return Other;
    }
}
