namespace Candor.Collector.Storage.DuckDb;

/// <summary>What <see cref="Reader"/> reads back at once.</summary>
internal sealed partial class IngestJournal
{
    /// <summary>Records read back together: their events and quarantined events, where each record's
    /// items end, and how many bytes of the file they took.</summary>
    internal sealed class Chunk
    {
        public List<EventRecord> Events { get; } = [];

        public List<QuarantineRecord> Quarantine { get; } = [];

        /// <summary>Per record, the counts of <see cref="Events"/> and <see cref="Quarantine"/> at its end.</summary>
        public List<(int Events, int Quarantine)> Records { get; } = [];

        /// <summary>Events journaled as events and quarantined on reading (their properties too long):
        /// acknowledged, and not to be looked for among the stored ones.</summary>
        public List<(string Product, Guid Id)> Released { get; } = [];

        /// <summary>The file bytes read, skipped ones included.</summary>
        public long Bytes { get; set; }

        /// <summary>What was skipped while reading this chunk.</summary>
        public List<JournalSkip> Skipped { get; } = [];

        /// <summary>How many of its strings were cut to their bound.</summary>
        public long StringsCut { get; set; }

        /// <summary>Set once part of the chunk is stored (<see cref="ApplySplitter"/>): what is marked is
        /// not stored again when the rest is retried. Events first, then quarantined events.</summary>
        public bool[]? Stored { get; set; }
    }
}
