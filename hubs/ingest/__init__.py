"""Hub reports in: parse, dispatch by kind, apply in batches (see registry: one entry per report kind)."""
