// Filled in by the batch work.
