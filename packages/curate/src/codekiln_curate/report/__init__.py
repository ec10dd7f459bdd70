"""Run reports: Markdown + HTML tables, signal histograms, dropped samples."""
