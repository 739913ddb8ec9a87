"""The HTML report: one self-contained page, plots embedded, nothing fetched from the network."""
