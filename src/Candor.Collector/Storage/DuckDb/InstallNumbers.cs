namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// The single writer's copy of the <c>install_numbers</c> table: every (product, install id) has a
/// small dense number (1, 2, 3, … in order of first arrival) and the time of its earliest event.
/// The analytics count distinct installs as bitmaps over the numbers, and read "first seen" from
/// here instead of scanning every install's history. Changes are made per group and undone when
/// the group's transaction fails, so this copy and the table never disagree.
/// </summary>
internal sealed class InstallNumbers
{
    private readonly Dictionary<(string Product, Guid Install), Entry> _entries = [];
    private int _last;

    public int Count => _entries.Count;

    /// <summary>Adds a stored row (when the store opens).</summary>
    public void Load(string product, Guid install, int number, DateTime firstSeen)
    {
        _entries[(product, install)] = new Entry(product, install, number) { FirstSeen = firstSeen };
        _last = Math.Max(_last, number);
    }

    /// <summary>
    /// The number of an event's install (null without an install id), numbering a new install and
    /// moving an install's first-seen time earlier as needed; both recorded in <paramref name="changes"/>.
    /// </summary>
    public int? Number(string product, Guid? install, DateTime eventTime, GroupChanges changes)
    {
        if (install is not { } id)
        {
            return null;
        }

        if (!_entries.TryGetValue((product, id), out var entry))
        {
            entry = new Entry(product, id, ++_last) { FirstSeen = eventTime };
            _entries[(product, id)] = entry;
            changes.Added.Add(entry);
        }
        else if (eventTime < entry.FirstSeen)
        {
            if (!changes.Added.Contains(entry) && !changes.Earlier.Exists(e => e.Entry == entry))
            {
                changes.Earlier.Add((entry, entry.FirstSeen));
            }

            entry.FirstSeen = eventTime;
        }

        return entry.Number;
    }

    /// <summary>Undoes a group's changes after its transaction failed.</summary>
    public void Undo(GroupChanges changes)
    {
        foreach (var entry in changes.Added)
        {
            _entries.Remove((entry.Product, entry.Install));
        }

        _last -= changes.Added.Count;
        foreach (var (entry, firstSeen) in changes.Earlier)
        {
            entry.FirstSeen = firstSeen;
        }
    }

    internal sealed class Entry(string product, Guid install, int number)
    {
        public string Product { get; } = product;

        public Guid Install { get; } = install;

        public int Number { get; } = number;

        public DateTime FirstSeen { get; set; }
    }

    /// <summary>What one group changed: installs numbered, and installs whose first event moved earlier (with the time before).</summary>
    internal sealed class GroupChanges
    {
        public List<Entry> Added { get; } = [];

        public List<(Entry Entry, DateTime FirstSeen)> Earlier { get; } = [];
    }
}
