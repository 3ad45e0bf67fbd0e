"""Evidence store: content-addressed files, an append-only audit log with signed checkpoints, the
observation window and sampling. ``service`` holds the operations the CLI and dashboard call."""
