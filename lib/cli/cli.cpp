// CLI: in progress.
