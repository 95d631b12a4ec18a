// Filled in by the ack work.
