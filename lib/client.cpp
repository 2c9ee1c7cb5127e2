// client implementation: in progress.
