// Filled in by the validate work.
