// Filled in by the types work.
