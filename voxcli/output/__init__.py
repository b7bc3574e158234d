"""Where results go: stdout or atomic files, the report log, the progress display."""
