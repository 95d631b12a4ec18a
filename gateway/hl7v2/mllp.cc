// Filled in by the mllp work.
