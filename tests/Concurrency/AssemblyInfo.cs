using Xunit;

// Coyote keeps runtime state per process; scenarios run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
