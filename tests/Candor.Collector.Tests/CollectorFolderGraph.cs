using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Candor.Collector.Tests;

/// <summary>Which top-level folder of the collector uses which, with one example of each use.</summary>
internal sealed class CollectorFolderGraph
{
    private const string Root = "Candor.Collector";

    private static readonly Dictionary<short, OperandType> Operands = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(op => op.Value, op => op.OperandType);

    private readonly Dictionary<string, Dictionary<string, string>> _edges = [];

    private CollectorFolderGraph()
    {
    }

    public IReadOnlyCollection<string> DependenciesOf(string folder) =>
        _edges.TryGetValue(folder, out var to) ? to.Keys : [];

    public static CollectorFolderGraph Read(string assemblyPath)
    {
        var graph = new CollectorFolderGraph();
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var names = new TypeNames(md);
        foreach (var handle in md.TypeDefinitions)
        {
            var fullName = names.Of(handle);
            if (Folder(fullName) is not { } from)
            {
                continue;
            }

            foreach (var used in UsedBy(md, pe, names, handle))
            {
                if (Folder(used) is { } to && to != from)
                {
                    var examples = graph._edges.TryGetValue(from, out var e) ? e : graph._edges[from] = [];
                    examples.TryAdd(to, $"{fullName[(Root.Length + 1)..]} uses {used[(Root.Length + 1)..]}");
                }
            }
        }

        return graph;
    }

    /// <summary>Every set of folders that reach each other (strongly connected, Tarjan).</summary>
    public List<List<string>> Cycles()
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var components = new List<List<string>>();
        foreach (var node in _edges.Keys.Order(StringComparer.Ordinal))
        {
            if (!index.ContainsKey(node))
            {
                Connect(node);
            }
        }

        return [.. components.Where(c => c.Count > 1).Select(c => c.Order(StringComparer.Ordinal).ToList())];

        void Connect(string node)
        {
            index[node] = low[node] = index.Count;
            stack.Push(node);
            foreach (var next in DependenciesOf(node).Order(StringComparer.Ordinal))
            {
                if (!index.ContainsKey(next))
                {
                    Connect(next);
                    low[node] = Math.Min(low[node], low[next]);
                }
                else if (stack.Contains(next) && index.TryGetValue(next, out var reached))
                {
                    low[node] = Math.Min(low[node], reached);
                }
            }

            if (low[node] == index[node])
            {
                var component = new List<string>();
                string member;
                do
                {
                    member = stack.Pop();
                    component.Add(member);
                }
                while (member != node);
                components.Add(component);
            }
        }
    }

    /// <summary>A set of folders that reach each other: one cycle through them ("A → B → A"), then
    /// every dependency among them with one use behind it, so the one to cut can be chosen.</summary>
    public string Describe(List<string> component)
    {
        var members = component.ToHashSet();
        var cycle = CycleThrough(members);
        var lines = new List<string> { "  " + string.Join(" → ", cycle.Append(cycle[0])) };
        foreach (var from in component)
        {
            foreach (var (to, example) in _edges[from].Where(e => members.Contains(e.Key)).OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                lines.Add($"    {from} → {to}: {example}");
            }
        }

        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>A shortest way from the component's first folder back to itself, within the component.</summary>
    private List<string> CycleThrough(HashSet<string> component)
    {
        var start = component.Order(StringComparer.Ordinal).First();
        var previous = new Dictionary<string, string>();
        var queue = new Queue<string>([start]);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            foreach (var next in DependenciesOf(node).Where(component.Contains).Order(StringComparer.Ordinal))
            {
                if (next == start)
                {
                    var path = new List<string> { node };
                    while (path[0] != start)
                    {
                        path.Insert(0, previous[path[0]]);
                    }

                    return path;
                }

                if (previous.TryAdd(next, node))
                {
                    queue.Enqueue(next);
                }
            }
        }

        throw new InvalidOperationException("A strongly connected component without a cycle.");
    }

    /// <summary>The top-level folder of a type of the collector, or null (the root namespace, other namespaces).</summary>
    private static string? Folder(string fullName)
    {
        if (!fullName.StartsWith(Root + ".", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = fullName[(Root.Length + 1)..];
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? null : rest[..dot]; // no dot: a type of the root namespace
    }

    /// <summary>The full names of the types a type's definition and code use.</summary>
    private static HashSet<string> UsedBy(MetadataReader md, PEReader pe, TypeNames names, TypeDefinitionHandle handle)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var type = md.GetTypeDefinition(handle);
        var context = new Collector(names, used);
        context.Add(type.BaseType);
        foreach (var i in type.GetInterfaceImplementations())
        {
            context.Add(md.GetInterfaceImplementation(i).Interface);
        }

        context.Attributes(type.GetCustomAttributes());
        foreach (var p in type.GetGenericParameters())
        {
            foreach (var c in md.GetGenericParameter(p).GetConstraints())
            {
                context.Add(md.GetGenericParameterConstraint(c).Type);
            }
        }

        foreach (var f in type.GetFields())
        {
            var field = md.GetFieldDefinition(f);
            field.DecodeSignature(context, null);
            context.Attributes(field.GetCustomAttributes());
        }

        foreach (var p in type.GetProperties())
        {
            var property = md.GetPropertyDefinition(p);
            property.DecodeSignature(context, null);
            context.Attributes(property.GetCustomAttributes());
        }

        foreach (var m in type.GetMethods())
        {
            var method = md.GetMethodDefinition(m);
            method.DecodeSignature(context, null);
            context.Attributes(method.GetCustomAttributes());
            foreach (var p in method.GetParameters())
            {
                context.Attributes(md.GetParameter(p).GetCustomAttributes());
            }

            if (method.RelativeVirtualAddress != 0)
            {
                Body(md, pe.GetMethodBody(method.RelativeVirtualAddress), context);
            }
        }

        return used;
    }

    private static void Body(MetadataReader md, MethodBodyBlock body, Collector context)
    {
        if (!body.LocalSignature.IsNil)
        {
            md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(context, null);
        }

        foreach (var region in body.ExceptionRegions)
        {
            context.Add(region.CatchType);
        }

        var il = body.GetILReader();
        while (il.RemainingBytes > 0)
        {
            short code = il.ReadByte();
            if (code == 0xFE)
            {
                code = unchecked((short)(0xFE00 | il.ReadByte()));
            }

            switch (Operands[code])
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    il.ReadByte();
                    break;
                case OperandType.InlineVar:
                    il.ReadInt16();
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    il.ReadInt64();
                    break;
                case OperandType.InlineSwitch:
                    var targets = il.ReadInt32();
                    il.Offset += 4 * targets;
                    break;
                case OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok:
                    context.Add(MetadataTokens.EntityHandle(il.ReadInt32()));
                    break;
                default: // 4-byte operands: branch targets, int32, float32, string and signature tokens
                    il.ReadInt32();
                    break;
            }
        }
    }

    /// <summary>Full names of type definitions and references (nested types: their outermost type's namespace).</summary>
    private sealed class TypeNames(MetadataReader md)
    {
        public MetadataReader Reader => md;

        public string Of(TypeDefinitionHandle handle)
        {
            var type = md.GetTypeDefinition(handle);
            var declaring = type.GetDeclaringType();
            return declaring.IsNil
                ? Join(md.GetString(type.Namespace), md.GetString(type.Name))
                : Of(declaring) + "+" + md.GetString(type.Name);
        }

        public string Of(TypeReferenceHandle handle)
        {
            var type = md.GetTypeReference(handle);
            return type.ResolutionScope.Kind == HandleKind.TypeReference
                ? Of((TypeReferenceHandle)type.ResolutionScope) + "+" + md.GetString(type.Name)
                : Join(md.GetString(type.Namespace), md.GetString(type.Name));
        }

        private static string Join(string ns, string name) => ns.Length == 0 ? name : ns + "." + name;
    }

    /// <summary>Collects the types named by signatures, tokens and attributes into a set.</summary>
    private sealed class Collector(TypeNames names, HashSet<string> used) : ISignatureTypeProvider<string, object?>
    {
        private MetadataReader Md => names.Reader;

        public void Add(EntityHandle handle)
        {
            if (handle.IsNil)
            {
                return;
            }

            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition:
                    used.Add(names.Of((TypeDefinitionHandle)handle));
                    break;
                case HandleKind.TypeReference:
                    used.Add(names.Of((TypeReferenceHandle)handle));
                    break;
                case HandleKind.TypeSpecification:
                    Md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null);
                    break;
                case HandleKind.MethodDefinition:
                    var method = Md.GetMethodDefinition((MethodDefinitionHandle)handle);
                    used.Add(names.Of(method.GetDeclaringType()));
                    method.DecodeSignature(this, null);
                    break;
                case HandleKind.FieldDefinition:
                    var field = Md.GetFieldDefinition((FieldDefinitionHandle)handle);
                    used.Add(names.Of(field.GetDeclaringType()));
                    field.DecodeSignature(this, null);
                    break;
                case HandleKind.MemberReference:
                    var member = Md.GetMemberReference((MemberReferenceHandle)handle);
                    Add(member.Parent);
                    if (member.GetKind() == MemberReferenceKind.Method)
                    {
                        member.DecodeMethodSignature(this, null);
                    }
                    else
                    {
                        member.DecodeFieldSignature(this, null);
                    }

                    break;
                case HandleKind.MethodSpecification:
                    var specification = Md.GetMethodSpecification((MethodSpecificationHandle)handle);
                    Add(specification.Method);
                    specification.DecodeSignature(this, null);
                    break;
            }
        }

        public void Attributes(CustomAttributeHandleCollection attributes)
        {
            foreach (var a in attributes)
            {
                Add(Md.GetCustomAttribute(a).Constructor);
            }
        }

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => Named(names.Of(handle));

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => Named(names.Of(handle));

        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();

        public string GetSZArrayType(string elementType) => elementType;

        public string GetArrayType(string elementType, ArrayShape shape) => elementType;

        public string GetByReferenceType(string elementType) => elementType;

        public string GetPointerType(string elementType) => elementType;

        public string GetPinnedType(string elementType) => elementType;

        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) => genericType;

        public string GetGenericMethodParameter(object? genericContext, int index) => "!!" + index;

        public string GetGenericTypeParameter(object? genericContext, int index) => "!" + index;

        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";

        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;

        private string Named(string fullName)
        {
            used.Add(fullName);
            return fullName;
        }
    }
}
