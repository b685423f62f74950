"""SLA experiments: cases split at random into buckets with different policies."""
