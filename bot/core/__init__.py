"""The core: text normalisation, matching and answer composition. No I/O frameworks here."""
