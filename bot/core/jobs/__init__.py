"""A job's life: intake, the queue, the runner and its delivery, the ledger, the allowed moves."""
