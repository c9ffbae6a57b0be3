"""Hub reports in: parse, dispatch by kind, apply in batches (see services.HANDLERS)."""
